// SPDX-License-Identifier: MIT
// The parts of the executor's calls that do not depend on a result type: a tracked task's scope
// and the launch loop of gather()/map()/streams. Compiled once here, so that each typed
// instantiation in a user's code carries only what stores its results.
#include <qtaio/detail/executor/callstate.h>
#include <qtaio/detail/executor/directitem.h>
#include <qtaio/detail/executor/trackedtask.h>
#include <qtaio/errors.h>

#include "executorcall_p.h"

#include <string>
#include <utility>

namespace QtAio::detail {

void rethrowForCaller(std::exception_ptr error, const char *operation,
                      std::optional<std::size_t> index)
{
    try {
        std::rethrow_exception(error);
    } catch (const CancelledError &) {
        throw;
    } catch (...) {
        ExecutionError::throwWithCurrentCause(std::string(operation) + ": task failed", index);
    }
}

void throwIfCallFailed(const CallFailure &failure, bool ranAll, const char *operation)
{
    if (failure)
        rethrowForCaller(failure->second, operation, failure->first);
    if (!ranAll)
        throw CancelledError(std::string(operation) + ": cancelled before every task ran");
}

bool CallerSink::fail(std::size_t, std::exception_ptr) noexcept
{
    return true;
}

// ---------------------------------------------------------------------------------------------
// TaskScope

TaskScope::TaskScope(std::shared_ptr<ExecutorCore> core, std::stop_source stop,
                     const char *operation, bool mayNest) noexcept
    : m_core(std::move(core)), m_task{std::move(stop)}
{
    try {
        m_core->registerTask(m_task, operation, mayNest);
    } catch (...) {
        m_refusal = std::current_exception();
        m_ended = true; // never registered: nothing to end
    }
}

TaskScope::TaskScope(std::shared_ptr<ExecutorCore> core, TrackedTask &registered,
                     std::stop_source stop) noexcept
    : m_core(std::move(core)), m_task{std::stop_source(std::nostopstate)}
{
    m_core->adoptTask(registered, m_task, std::move(stop));
}

TaskScope::~TaskScope()
{
    // Its coroutine was destroyed before the task ended (while it waited): it ends here, as
    // cancelled, so that the executor's list never refers to a frame that is gone.
    if (!m_ended) {
        end(std::make_exception_ptr(CancelledError("TaskExecutor: the task was destroyed")),
            nullptr, 0);
    }
}

void TaskScope::end(std::exception_ptr error, TaskSink *sink, std::size_t index) noexcept
{
    m_ended = true;
    m_core->taskEnded(m_task, std::move(error), sink, index);
}

// ---------------------------------------------------------------------------------------------
// DirectItem

namespace {
thread_local ItemOffer *itemOffer = nullptr;
} // namespace

ItemOffer *exchangeItemOffer(ItemOffer *offer) noexcept
{
    return std::exchange(itemOffer, offer);
}

DirectItem::~DirectItem()
{
    // Gone inside the factory call that offered the item: the launcher must not take this
    // frame's address for the task it gets back.
    if (m_claimed && itemOffer && itemOffer->claimant == this) {
        itemOffer->claimant = nullptr;
        itemOffer->claimantFrame = nullptr;
    }
}

bool DirectItem::claim(const ExecutorCore *core, const void *resultTag, void *frame) noexcept
{
    ItemOffer *offer = itemOffer;
    if (!offer || offer->claimantFrame || offer->core != core || offer->resultTag != resultTag)
        return false;
    offer->claimant = this;
    offer->claimantFrame = frame;
    m_claimed = true;
    return true;
}

void DirectItem::adopt(std::shared_ptr<ExecutorCore> core, TrackedTask &registered,
                       std::stop_source stop, std::optional<GatePermit> permit,
                       std::shared_ptr<TaskSink> sink, std::size_t index,
                       DeliverItem deliver) noexcept
{
    m_sink = std::move(sink);
    if (permit)
        m_permit.emplace(std::move(*permit));
    m_index = index;
    m_deliver = deliver;
    m_scope.emplace(std::move(core), registered, std::move(stop));
}

void DirectItem::finish(std::exception_ptr error, void *value) noexcept
{
    if (!error) {
        try {
            m_deliver(*m_sink, m_index, value);
        } catch (...) {
            error = std::current_exception();
        }
    }
    // As runAdopted(): the end is reported before the call's permit goes, and the permit goes
    // before the state that owns its gate.
    m_scope->end(std::move(error), m_sink.get(), m_index);
    m_permit.reset();
    m_sink.reset();
}

// ---------------------------------------------------------------------------------------------
// CallState

CallState::CallState(int limit, int window)
{
    if (limit > 0)
        callLimit.emplace(limit);
    if (window > 0)
        callWindow.emplace(window);
}

CallState::~CallState() = default;

ItemLauncher::~ItemLauncher() = default;

bool CallState::fail(std::size_t index, std::exception_ptr error) noexcept
{
    bool first = false;
    bool allDone = false;
    {
        std::scoped_lock lock(m_mutex);
        if (!m_failure) {
            m_failure.emplace(index, std::move(error));
            first = true;
        }
    }
    if (first)
        callStop.request_stop(); // fail-fast: stop the siblings, start nothing new
    {
        std::scoped_lock lock(m_mutex);
        allDone = endItemLocked();
    }
    if (allDone)
        done.set();
    return true;
}

void CallState::itemEnded() noexcept
{
    bool allDone = false;
    {
        std::scoped_lock lock(m_mutex);
        allDone = endItemLocked();
    }
    if (allDone)
        done.set();
}

void CallState::countInFlight() noexcept
{
    std::scoped_lock lock(m_mutex);
    ++m_inFlight;
}

void CallState::launchingDone(bool all)
{
    bool allDone = false;
    {
        std::scoped_lock lock(m_mutex);
        m_launching = false;
        m_launchedAll = all;
        allDone = m_inFlight == 0;
    }
    if (allDone)
        done.set();
}

void CallState::throwIfFailed(const char *operation) const
{
    std::scoped_lock lock(m_mutex);
    throwIfCallFailed(m_failure, m_launchedAll, operation);
}

bool CallState::launchedAll() const
{
    std::scoped_lock lock(m_mutex);
    return m_launchedAll;
}

// ---------------------------------------------------------------------------------------------
// The launch loop

namespace {
//! Keeps a call registered with the executor (see ExecutorCore::registerCall()).
class CallRegistration {
public:
    CallRegistration(ExecutorCore *core, const std::stop_source &stop)
        : m_core(core), m_key(core->registerCall(stop))
    {
    }
    CallRegistration(const CallRegistration &) = delete;
    CallRegistration &operator=(const CallRegistration &) = delete;
    ~CallRegistration() { m_core->unregisterCall(m_key); }

private:
    ExecutorCore *m_core;
    quint64 m_key;
};

} // namespace

QCoro::Task<> runCall(std::shared_ptr<ExecutorCore> core, std::shared_ptr<CallState> state,
                      std::shared_ptr<ItemLauncher> launcher)
{
    bool all = false;
    {
        const CallRegistration registration(core.get(), state->callStop);
        std::size_t index = 0;
        while (!state->stopRequested()) {
            // Room under the window (whose permit the consumer gives back: inOrder()) and the
            // call's limit (whose permit goes with the item).
            std::optional<GatePermit> permit;
            try {
                if (state->callWindow)
                    co_await state->callWindow->acquire(state->callStop.get_token());
                if (state->callLimit) {
                    co_await state->callLimit->acquire(state->callStop.get_token());
                    permit.emplace(&*state->callLimit);
                }
            } catch (const CancelledError &) {
                break; // the call was stopped
            }
            // A failure may have come while this waited for room: start nothing new after it.
            if (state->stopRequested())
                break;
            try {
                // Items that end at once take their turns one after the other under one permit,
                // except under a window, whose permits the consumer gives back item by item.
                const bool batch = !state->callWindow;
                if (launcher->launchNext(index, std::move(permit), batch) ==
                    ItemLauncher::Launched::InputEnded) {
                    all = true;
                    break;
                }
            } catch (...) {
                state->fail(index - 1, std::current_exception()); // shut down, or the input threw
                break;
            }
        }
    }
    state->launchingDone(all);
    co_await state->done.wait();
    state->allEnded();
}

QCoro::Task<> stopAndRethrow(std::shared_ptr<CallState> state, std::exception_ptr error,
                             const char *operation, std::size_t index)
{
    state->callStop.request_stop();
    co_await state->done.wait();
    rethrowForCaller(std::move(error), operation, index);
}

} // namespace QtAio::detail
