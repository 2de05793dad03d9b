// SPDX-License-Identifier: MIT
// map() of a plain function in blocks: the untyped call state and the launch loop. A block is
// one pool job and one tracked task, so that the per-item cost is a function call and a stored
// result; the executor's bookkeeping, a pool hand-off and a resumption are paid per block.
#include <qtaio/detail/executor/blockmap.h>
#include <qtaio/detail/executor/trackedtask.h>
#include <qtaio/errors.h>

#include "executorcall_p.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QThreadPool>

#include <algorithm>
#include <string>

namespace QtAio::detail {

namespace {
//! The largest block: the inputs and results of the blocks in flight stay small.
constexpr std::size_t maxBlockSize = 4096;
//! How long a block should run at most, once the cost of an item is known: long enough that
//! the cost of a block (a tracked task, a pool hand-off, a resumption: microseconds) is small
//! against it, short enough that the pool's threads end together.
constexpr qint64 targetBlockNs = 200'000;

//! Blocks in flight: enough that a pool thread finds the next block queued when it ends one,
//! never more than the call's limit (a running block counts as one).
int roomFor(const ExecutorCore &core, int limit)
{
    const int keepBusy = 2 * std::max(1, core.pool()->maxThreadCount());
    return limit > 0 ? std::min(limit, keepBusy) : keepBusy;
}
} // namespace

MapBlock::MapBlock(std::shared_ptr<BlockCall> call, std::size_t first, std::size_t size) noexcept
    : m_call(std::move(call)), m_first(first), m_size(size)
{
    m_task.stop = m_call->callStop; // a block stops with its call (a failure, cancelAll())
}

MapBlock::~MapBlock() = default;

void MapBlock::run() noexcept
{
    const auto call = m_call; // the block may be gone once its end is counted
    QElapsedTimer timer;
    timer.start();
    const auto items = runItems(call->callStop.get_token());
    call->blockRan(*this, items, timer.nsecsElapsed());
}

void MapBlock::noteFailure(std::exception_ptr error) noexcept
{
    if (!m_failure)
        m_failure = std::move(error);
}

void MapBlock::failItem(std::size_t offset, std::exception_ptr error) noexcept
{
    m_call->fail(m_first + offset, std::move(error));
}

BlockSource::~BlockSource() = default;

BlockCall::BlockCall(std::shared_ptr<ExecutorCore> core, int limit)
    : m_core(std::move(core)), m_room(roomFor(*m_core, limit))
{
}

BlockCall::~BlockCall() = default;

void BlockCall::fail(std::size_t index, std::exception_ptr error) noexcept
{
    {
        std::scoped_lock lock(m_mutex);
        if (m_failure)
            return;
        m_failure.emplace(index, std::move(error));
    }
    callStop.request_stop(); // fail-fast: the other blocks stop, nothing new starts
}

void BlockCall::throwIfFailed(const char *operation) const
{
    std::scoped_lock lock(m_mutex);
    throwIfCallFailed(m_failure, m_ranAll, operation);
}

std::size_t BlockCall::nextSize() noexcept
{
    // Doubling from one item, so that a short input still spreads over the pool; then no
    // longer than targetBlockNs by the last measured cost of an item.
    std::size_t size = std::min(m_size == 0 ? 1 : 2 * m_size, maxBlockSize);
    const qint64 perItem = m_nsPerItem.load(std::memory_order_relaxed);
    if (perItem > 0)
        size = std::clamp<std::size_t>(std::size_t(targetBlockNs / perItem), 1, size);
    m_size = size;
    return size;
}

void BlockCall::blockRan(MapBlock &block, ExecutorCore::ItemCounts items,
                         qint64 nanoseconds) noexcept
{
    if (const qint64 ran = items.completed + items.failed; ran > 0)
        m_nsPerItem.store(std::max<qint64>(1, nanoseconds / ran), std::memory_order_relaxed);
    m_core->blockEnded(block.m_task, items, block.m_failure);
    bool allDone = false;
    {
        std::scoped_lock lock(m_mutex);
        if (items.cancelled > 0)
            m_ranAll = false;
        allDone = --m_inFlight == 0 && !m_launching;
    }
    // The block may be gone from here on (its source frees it once the call is done).
    m_room.release();
    if (allDone)
        m_done.set();
}

bool BlockCall::launchingDone(bool all) noexcept
{
    std::scoped_lock lock(m_mutex);
    m_launching = false;
    if (!all)
        m_ranAll = false;
    return m_inFlight == 0;
}

QCoro::Task<> runBlocks(std::shared_ptr<BlockCall> call, BlockSource *source, const char *operation)
{
    ExecutorCore *core = call->m_core.get();
    const auto stop = call->callStop.get_token();
    const quint64 registration = core->registerCall(call->callStop);
    bool all = false;
    std::size_t first = 0;
    while (!stop.stop_requested()) {
        try {
            co_await call->m_room.acquire(stop);
        } catch (const CancelledError &) {
            break; // the call was stopped
        }
        // The stop may have come while this waited (a failure, cancelAll(), the executor
        // destroyed): start nothing new after it.
        if (stop.stop_requested())
            break;
        MapBlock *block = nullptr;
        try {
            block = source->nextBlock(first, call->nextSize());
        } catch (...) {
            call->fail(first, std::current_exception()); // reading the input threw
            break;
        }
        if (!block) {
            all = true;
            break;
        }
        const qint64 size = qint64(block->m_size);
        try {
            core->registerTask(block->m_task, operation, true);
        } catch (...) {
            call->fail(first, std::current_exception()); // the executor is shut down
            break;
        }
        if (!block->m_task.started) {
            try {
                co_await ExecutorCore::SlotWait(core, &block->m_task, stop);
            } catch (const CancelledError &) {
                core->blockEnded(block->m_task, {0, 0, size}, nullptr); // it never ran
                break;
            }
        }
        {
            std::scoped_lock lock(call->m_mutex);
            ++call->m_inFlight;
        }
        try {
            core->submit(block);
        } catch (...) {
            // Out of memory, and the block withdrawn: it never ran.
            {
                std::scoped_lock lock(call->m_mutex);
                --call->m_inFlight;
            }
            core->blockEnded(block->m_task, {0, 0, size}, nullptr);
            call->fail(first, std::current_exception());
            break;
        }
        first += block->m_size;
    }
    core->unregisterCall(registration);
    if (call->launchingDone(all))
        call->m_done.set();
    co_await call->m_done.wait();
}

} // namespace QtAio::detail
