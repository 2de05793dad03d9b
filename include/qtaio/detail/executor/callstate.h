// SPDX-License-Identifier: MIT
#pragma once

// The untyped part of one gather()/map()/stream call: the call's stop, its own limit and
// window, the count of items in flight, the first failure, and the loop that launches the
// items (runCall()). Compiled once in the library; the typed parts (collect.h, streams.h) only
// store results.

#include <qtaio/detail/executor/gate.h>
#include <qtaio/detail/executorcore.h>
#include <qtaio/detail/waitcore.h>
#include <qtaio/qtaiocore_export.h>

#include <qcoro/qcorotask.h>

#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <utility>

namespace QtAio::detail {

class ItemLauncher;

//! The shared state of one call. As a TaskSink it fails fast: the first failure is recorded,
//! the call's stop requested (its running items stop, nothing new starts).
class QTAIO_CORE_EXPORT CallState : public TaskSink {
public:
    //! \a limit: at most this many items of the call run at once; \a window: at most this many
    //! are launched ahead of the consumer's release() of callWindow (inOrder()). <= 0: no cap.
    CallState(int limit, int window);
    ~CallState() override;

    bool fail(std::size_t index, std::exception_ptr error) noexcept override;
    //! An item ended whose result was delivered.
    void itemEnded() noexcept;
    //! Called once, after every launched item ended: a stream closes its results here.
    virtual void allEnded() noexcept {}

    //! After done: throws the first failure (ExecutionError with the cause and index nested),
    //! or CancelledError when the call stopped before every item was launched.
    void throwIfFailed(const char *operation) const;
    [[nodiscard]] bool stopRequested() const noexcept { return callStop.stop_requested(); }
    //! After done: whether every item of the input was launched.
    [[nodiscard]] bool launchedAll() const;
    //! Counts an item in flight: one that ends by itself, later (its end counts it out). An item
    //! that a launcher runs to its end inline is never counted, unless it failed: then it is
    //! counted in before fail() counts it out.
    void countInFlight() noexcept;

    std::stop_source callStop;
    std::optional<Gate> callLimit;  //!< the call's own limit, if any
    std::optional<Gate> callWindow; //!< inOrder()'s read-ahead, if any
    AsyncEvent done;                //!< set once launching is over and every item ended

protected:
    //! Counts an item out; whether it was the last one (then set `done`). With m_mutex held.
    [[nodiscard]] bool endItemLocked() noexcept { return --m_inFlight == 0 && !m_launching; }

    mutable std::mutex m_mutex;

private:
    friend QCoro::Task<> runCall(std::shared_ptr<ExecutorCore>, std::shared_ptr<CallState>,
                                 std::shared_ptr<ItemLauncher>);
    void launchingDone(bool all);

    std::optional<std::pair<std::size_t, std::exception_ptr>> m_failure;
    int m_inFlight = 0;
    bool m_launching = true;
    bool m_launchedAll = false;
};

//! Starts the items of one call: the typed side of runCall().
class QTAIO_CORE_EXPORT ItemLauncher {
public:
    virtual ~ItemLauncher();
    enum class Launched {
        Some,      //!< at least one item was launched
        InputEnded //!< the input ended before an item was launched
    };
    //! Takes the next input and launches it as item \a index holding \a permit (an item that
    //! goes on by itself is counted with CallState::countInFlight()); advances \a index by the
    //! items launched. With \a batch, an item that ended at once hands the permit on to the
    //! next input, and so on, until an item goes on by itself (holding the permit), the input
    //! ends or the call's stop is requested.
    //! Throws ExecutionError when the executor is shut down, or what the input throws (the
    //! item is counted in: the caller fails it as item \a index - 1).
    virtual Launched launchNext(std::size_t &index, std::optional<GatePermit> permit,
                                bool batch) = 0;
};

//! Launches the items of a call one by one, each once its limit and window have room, until
//! the input ends or the call's stop is requested (a failure, cancelAll(), an abandoned
//! stream); then waits until every item ended and calls CallState::allEnded(). Registered with
//! the executor meanwhile, so that cancelAll() stops it.
QTAIO_CORE_EXPORT QCoro::Task<> runCall(std::shared_ptr<ExecutorCore> core,
                                        std::shared_ptr<CallState> state,
                                        std::shared_ptr<ItemLauncher> launcher);

//! Fail-fast of a stream: stops the call's remaining work, waits for it, then throws \a error
//! as rethrowForCaller() does.
QTAIO_CORE_EXPORT QCoro::Task<> stopAndRethrow(std::shared_ptr<CallState> state,
                                               std::exception_ptr error, const char *operation,
                                               std::size_t index);

//! Requests a call's stop when it goes (a stream's generator destroyed early).
struct StopOnExit {
    std::shared_ptr<CallState> state;
    ~StopOnExit() { state->callStop.request_stop(); }
};

} // namespace QtAio::detail
