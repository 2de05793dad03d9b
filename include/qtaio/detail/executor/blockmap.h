// SPDX-License-Identifier: MIT
#pragma once

// map() and mapSettled() of a plain function: the items run on the thread pool in blocks of
// consecutive inputs, each block one pool job and one tracked task (as QtConcurrent::mapped
// hands the pool blocks of items). The untyped parts (the call, the launch loop) are compiled
// once in the library; the typed parts below only read inputs, call the function and store
// results.

#include <qtaio/detail/executor/gate.h>
#include <qtaio/detail/executor/resultlist.h>
#include <qtaio/detail/executor/sources.h>
#include <qtaio/detail/executorcore.h>
#include <qtaio/detail/waitcore.h>
#include <qtaio/outcome.h>
#include <qtaio/qtaiocore_export.h>

#include <qcoro/qcorotask.h>

#include <atomic>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace QtAio::detail {

class BlockCall;
class BlockSource;

//! One block of a map() of a plain function: consecutive items that one pool job runs one after
//! another, tracked by the executor as one task (one slot under its limit). Untyped part.
class QTAIO_CORE_EXPORT MapBlock : public PoolTask {
public:
    //! The block of \a size items from item \a first on.
    MapBlock(std::shared_ptr<BlockCall> call, std::size_t first, std::size_t size) noexcept;
    ~MapBlock() override;

    //! Runs the items on a pool thread, then reports the block's end to its call. The block may
    //! be gone once it returns.
    void run() noexcept final;

protected:
    //! Runs the items in input order until the input of the block is done, \a stop is
    //! requested (the rest count as cancelled) or, unless the call is settled, an item fails
    //! (reported through failItem()). Counts each item.
    virtual ExecutorCore::ItemCounts runItems(const std::stop_token &stop) noexcept = 0;
    //! The first item of the block that failed: records its error for the executor's signal.
    void noteFailure(std::exception_ptr error) noexcept;
    //! Fail-fast: item \a offset of the block failed with \a error (see BlockCall::fail()).
    void failItem(std::size_t offset, std::exception_ptr error) noexcept;

private:
    friend class BlockCall;
    friend QCoro::Task<> runBlocks(std::shared_ptr<BlockCall>, BlockSource *, const char *);
    std::shared_ptr<BlockCall> m_call;
    TrackedTask m_task;
    std::size_t m_first;
    std::size_t m_size;
    std::exception_ptr m_failure;
};

//! Reads the blocks of one call: the typed side of runBlocks().
class QTAIO_CORE_EXPORT BlockSource {
public:
    virtual ~BlockSource();
    //! Reads the next \a size inputs (fewer at the input's end) as the block whose first item is
    //! item \a first; nullptr when the input is exhausted, or when reading it threw (then the
    //! call failed, naming the item). The source owns the block.
    virtual MapBlock *nextBlock(std::size_t first, std::size_t size) = 0;
};

//! The shared, untyped state of one map() of a plain function: its stop, the room for blocks
//! in flight, the first failure, the blocks' sizes and the count of blocks in flight.
class QTAIO_CORE_EXPORT BlockCall {
public:
    //! \a limit: the call's own limit (<= 0: none); a block running counts as one.
    BlockCall(std::shared_ptr<ExecutorCore> core, int limit);
    BlockCall(const BlockCall &) = delete;
    BlockCall &operator=(const BlockCall &) = delete;
    ~BlockCall();

    //! Records the first failure (item \a index, \a error) and requests the call's stop, so
    //! that running blocks stop after their current item and no new one starts. Thread-safe.
    void fail(std::size_t index, std::exception_ptr error) noexcept;
    //! After runBlocks(): throws the first failure (ExecutionError naming \a operation, with the
    //! cause and index nested), or CancelledError when the call stopped before every item ran.
    void throwIfFailed(const char *operation) const;

    std::stop_source callStop;

private:
    friend class MapBlock;
    friend QCoro::Task<> runBlocks(std::shared_ptr<BlockCall>, BlockSource *, const char *);
    //! The size of the next block (caller's thread).
    std::size_t nextSize() noexcept;
    //! \a block ran its items in \a nanoseconds (pool thread).
    void blockRan(MapBlock &block, ExecutorCore::ItemCounts items, qint64 nanoseconds) noexcept;
    //! Launching is over; \a all: every input was read. Whether every block ended.
    bool launchingDone(bool all) noexcept;

    std::shared_ptr<ExecutorCore> m_core;
    Gate m_room; // blocks in flight: the call's limit, and enough to keep the pool busy
    AsyncEvent m_done;
    mutable std::mutex m_mutex;
    std::optional<std::pair<std::size_t, std::exception_ptr>> m_failure; // guarded by m_mutex
    int m_inFlight = 0;                                                  // guarded by m_mutex
    bool m_launching = true;                                             // guarded by m_mutex
    bool m_ranAll = true;               // every item read ran; guarded by m_mutex
    std::atomic<qint64> m_nsPerItem{0}; // of the last block that ran an item; 0: unknown
    std::size_t m_size = 0;             // of the last block (caller's thread)
};

//! Launches the blocks of a call one by one, each once the call has room for it and the
//! executor a slot, until the input ends or the call's stop is requested; then waits until
//! every block ended. Registered with the executor meanwhile, so that cancelAll() stops it.
QTAIO_CORE_EXPORT QCoro::Task<> runBlocks(std::shared_ptr<BlockCall> call, BlockSource *source,
                                          const char *operation);

//! A block of \a Args, the arguments of \a Func, and the results of its calls: values of type
//! \a R, or their Outcomes when \a Settled.
template<typename R, bool Settled, typename Func, typename Args>
class TypedMapBlock final : public MapBlock {
public:
    using Result = std::conditional_t<Settled, Outcome<R>, R>;

    TypedMapBlock(std::shared_ptr<BlockCall> call, std::size_t first, Func &func,
                  std::vector<Args> args)
        : MapBlock(std::move(call), first, args.size()), m_func(func), m_args(std::move(args))
    {
        if constexpr (Settled || !std::is_void_v<R>)
            m_results.reserve(m_args.size()); // storing a result never allocates on the pool
    }

    //! After the call: the results, in input order.
    auto &results() noexcept { return m_results; }

protected:
    ExecutorCore::ItemCounts runItems(const std::stop_token &stop) noexcept override
    {
        ExecutorCore::ItemCounts items;
        std::size_t i = 0;
        for (; i < m_args.size() && !stop.stop_requested(); ++i) {
            try {
                store(std::move(m_args[i]));
                ++items.completed;
            } catch (...) {
                ++items.failed;
                noteFailure(std::current_exception());
                if constexpr (Settled) {
                    m_results.push_back(Outcome<R>::fromError(std::current_exception()));
                } else {
                    failItem(i++, std::current_exception());
                    break;
                }
            }
        }
        items.cancelled = qint64(m_args.size() - i);
        std::vector<Args>().swap(m_args); // the inputs go once they ran
        return items;
    }

private:
    void store(Args &&args)
    {
        if constexpr (std::is_void_v<R>) {
            std::apply(m_func, std::move(args));
            if constexpr (Settled)
                m_results.push_back(Outcome<void>::fromValue());
        } else if constexpr (Settled) {
            m_results.push_back(Outcome<R>::fromValue(std::apply(m_func, std::move(args))));
        } else {
            m_results.push_back(std::apply(m_func, std::move(args)));
        }
    }

    Func &m_func; // in the source, which outlives the call
    std::vector<Args> m_args;
    std::conditional_t<Settled || !std::is_void_v<R>, std::vector<Result>, std::monostate>
        m_results;
};

//! Reads the inputs of a map() of a plain function from \a Zip (a ZipSource) into blocks, and
//! collects their results in input order.
template<typename R, bool Settled, typename Zip>
class ZipBlocks final : public BlockSource {
public:
    using Args = typename Zip::Args;
    using Func = std::remove_reference_t<decltype(std::declval<Zip &>().function())>;
    using Block = TypedMapBlock<R, Settled, Func, Args>;

    ZipBlocks(std::shared_ptr<BlockCall> call, Zip zip)
        : m_call(std::move(call)), m_zip(std::move(zip))
    {
    }

    MapBlock *nextBlock(std::size_t first, std::size_t size) override
    {
        std::vector<Args> args;
        args.reserve(size);
        while (args.size() < size) {
            std::optional<Args> next;
            try {
                next = m_zip.nextArgs();
            } catch (...) {
                // Reading input first + args.size() threw: the call fails, naming that item.
                m_call->fail(first + args.size(), std::current_exception());
                return nullptr;
            }
            if (!next)
                break;
            args.push_back(std::move(*next));
        }
        if (args.empty())
            return nullptr;
        m_count += args.size();
        m_blocks.push_back(
            std::make_unique<Block>(m_call, first, m_zip.function(), std::move(args)));
        return m_blocks.back().get();
    }

    //! After the call succeeded: every result in input order, each block freed once read.
    auto results()
    {
        ResultContainer<typename Block::Result> out;
        out.reserve(static_cast<qsizetype>(m_count));
        for (auto &block : m_blocks) {
            for (auto &result : block->results())
                out.push_back(std::move(result));
            block.reset();
        }
        return out;
    }

private:
    std::shared_ptr<BlockCall> m_call;
    Zip m_zip;
    std::deque<std::unique_ptr<Block>> m_blocks;
    std::size_t m_count = 0;
};

//! Whether map() of \a Func over \a Ranges calls a plain function (run on the pool in blocks).
template<typename Func, typename... Ranges>
concept PlainMap =
    !Awaitable<std::invoke_result_t<Func &, std::ranges::range_value_t<Ranges> &&...>>;

//! map() or mapSettled() of a plain function: its items in blocks on the thread pool.
template<typename R, bool Settled, typename Func, typename... Ranges>
auto mapInBlocks(std::shared_ptr<ExecutorCore> core, int limit, const char *operation, Func func,
                 Ranges... ranges)
    -> QCoro::Task<std::conditional_t<Settled, ResultContainer<Outcome<R>>, CollectResultT<R>>>
{
    using Zip = ZipSource<Func, Ranges...>;
    auto call = std::make_shared<BlockCall>(core, limit);
    ZipBlocks<R, Settled, Zip> blocks(
        call, Zip(std::make_shared<Func>(std::move(func)), core.get(), std::move(ranges)...));
    auto running = runBlocks(call, &blocks, operation);
    co_await running;
    call->throwIfFailed(operation);
    if constexpr (Settled || !std::is_void_v<R>)
        co_return blocks.results();
}

} // namespace QtAio::detail
