// SPDX-License-Identifier: MIT
#pragma once

// Template bodies of QtAio::TaskExecutor. Included at the end of qtaio/taskexecutor.h.

#include <qtaio/asyncqueue.h>
#include <qtaio/detail/resultslot.h>
#include <qtaio/semaphore.h>

#include <QtCore/QThreadPool>

#include <atomic>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace QtAio::detail {

template<typename F>
auto invokeFactory(F &factory, std::stop_token stop)
{
    if constexpr (TakesStopToken<F>)
        return factory(std::move(stop));
    else
        return factory();
}

//! What runTracked() awaits of a factory's work: a QCoro::Task as an lvalue (g++ 12 mis-handles
//! the temporary that QCoro 0.8's await_transform(Task&&) makes of an rvalue one), any other
//! awaitable as the rvalue it was returned as (a put request is awaitable only as an rvalue).
template<typename Work>
decltype(auto) awaitWork(Work &work)
{
    if constexpr (IsQCoroTask<Work>)
        return (work);
    else
        return std::move(work);
}

//! Calls \a factory with \a core as the thread's task context (see currentTaskContext()), so
//! that the work it starts, and what it does after each QtAio await, is known to run inside a
//! task of \a core. The context is restored when the factory returns (at the work's first
//! suspension): it never leaks to the caller.
template<typename F>
auto invokeInTask(const ExecutorCore *core, F &factory, std::stop_token stop)
{
    struct Restore {
        const void *outer;
        ~Restore() { exchangeTaskContext(outer); }
    } restore{exchangeTaskContext(core)};
    return invokeFactory(factory, std::move(stop));
}

//! Rethrows \a error: a cancellation as it is, anything else as ExecutionError with the cause
//! nested, naming \a operation (and \a index where there is one).
[[noreturn]] inline void rethrowForCaller(std::exception_ptr error, const char *operation,
                                          std::optional<std::size_t> index = {})
{
    try {
        std::rethrow_exception(error);
    } catch (const CancelledError &) {
        throw;
    } catch (...) {
        ExecutionError::throwWithCurrentCause(std::string(operation) + ": task failed", index);
    }
}

//! What launch() learns from a tracked task before its first suspension.
struct Launched {
    ExecutorCore::TaskId id = 0;
    std::exception_ptr refused; //!< registration failed: the executor is shut down
};

//! The life of one tracked task: register, wait for a slot under the executor's limit, run,
//! report. \a launched is written before the first suspension only (it lives in launch()).
template<typename Body>
QCoro::Task<> runTracked(std::shared_ptr<ExecutorCore> core, const char *operation, bool mayNest,
                         Launched *launched, std::stop_source stop,
                         std::optional<SemaphorePermit> callPermit, std::shared_ptr<TaskSink> sink,
                         std::size_t index, Body body)
{
    TrackedTask task{std::move(stop)};
    bool started = false;
    try {
        started = core->registerTask(task, operation, mayNest);
    } catch (...) {
        launched->refused = std::current_exception();
        co_return;
    }
    launched->id = task.id;
    std::exception_ptr error;
    try {
        if (!started) {
            co_await ExecutorCore::SlotWait(core.get(), &task, task.stop.get_token());
            started = true;
        }
        // The factory's awaitable is awaited right here, not through a wrapping coroutine.
        auto work = invokeInTask(core.get(), body.factory, task.stop.get_token());
        if constexpr (std::is_void_v<FactoryResult<decltype(body.factory)>>) {
            co_await awaitWork(work);
            body.finish();
        } else {
            body.finish(co_await awaitWork(work));
        }
    } catch (...) {
        error = std::current_exception();
    }
    // The end is reported before the call's permit goes: a failure requests the call's stop
    // first, so the launcher that the permit wakes starts nothing new (fail-fast).
    core->taskFinished(task, started, std::move(error), sink.get(), index);
    callPermit.reset(); // lets the owning call start its next item
}

//! Registers and starts a tracked task whose stop is \a stop; with \a mayNest, inside a task of
//! the same executor it runs in that task's slot (see ExecutorCore::registerTask()). \a body has a
//! `factory` (see invokeFactory()) and a `finish(value)` (`finish()` for void) that takes its
//! result. Throws ExecutionError when the executor is shut down.
template<typename Body>
ExecutorCore::TaskId launch(const std::shared_ptr<ExecutorCore> &core, const char *operation,
                            bool mayNest, std::stop_source stop,
                            std::optional<SemaphorePermit> callPermit,
                            std::shared_ptr<TaskSink> sink, std::size_t index, Body body)
{
    Launched launched;
    // The task runs on by itself (QCoro tasks are eager and detach when dropped); runTracked
    // owns everything it needs, and reports its end to the core.
    auto task = runTracked(core, operation, mayNest, &launched, std::move(stop),
                           std::move(callPermit), std::move(sink), index, std::move(body));
    if (launched.refused)
        std::rethrow_exception(launched.refused);
    return launched.id;
}

//! A call to run on the thread pool (ExecutorCore::submit()), and where its outcome goes. It
//! lives in the awaiting coroutine's frame, which waits for it whatever happens.
template<typename R, typename Fn>
class PoolJob final : public PoolTask {
public:
    explicit PoolJob(Fn function) : m_fn(std::move(function)) {}

    void run() noexcept override
    {
        try {
            if constexpr (std::is_void_v<R>)
                m_fn();
            else
                m_value.emplace(m_fn());
        } catch (...) {
            m_error = std::current_exception();
        }
        m_done.complete(); // the last touch: the awaiting side may destroy the job now
    }

    //! Awaitable: completes once the call has run.
    [[nodiscard]] OneShot::Wait done() noexcept { return m_done.wait(); }
    //! After done(): what the call threw, or nullptr.
    [[nodiscard]] std::exception_ptr error() const noexcept { return m_error; }
    //! After done(), without error: the value (once).
    R take()
    {
        if constexpr (!std::is_void_v<R>)
            return std::move(*m_value);
    }

private:
    Fn m_fn;
    std::conditional_t<std::is_void_v<R>, std::monostate, std::optional<R>> m_value{};
    std::exception_ptr m_error;
    OneShot m_done;
};

//! Awaitable that runs \a fn on an executor's thread pool and yields its result on the
//! awaiting thread. co_await builds the job right in the awaiting coroutine's frame: a pool call
//! costs no coroutine of its own. Await it once.
template<typename R, typename Fn>
class PoolCall {
public:
    PoolCall(ExecutorCore *core, Fn fn) : m_core(core), m_fn(std::move(fn)) {}

    class Awaiter {
    public:
        Awaiter(ExecutorCore *core, Fn fn) : m_core(core), m_job(std::move(fn)) {}
        [[nodiscard]] bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<> handle)
        {
            m_core->submit(&m_job);
            return m_job.done().await_suspend(handle); // false: the job is done already
        }
        R await_resume()
        {
            if (auto error = m_job.error())
                std::rethrow_exception(error);
            return m_job.take();
        }

    private:
        ExecutorCore *m_core;
        PoolJob<R, Fn> m_job;
    };

    Awaiter operator co_await() { return {m_core, std::move(m_fn)}; }

private:
    ExecutorCore *m_core;
    Fn m_fn;
};

//! A sink for work whose caller receives the error itself.
class CallerSink final : public TaskSink {
public:
    bool fail(std::size_t, std::exception_ptr) noexcept override { return true; }
};

//! Where run() delivers the result; abandoned once the caller timed out, after which a
//! failure is refused and so reported as unhandled by the executor.
template<typename R>
class RunSlot final : public TaskSink {
public:
    bool fail(std::size_t, std::exception_ptr error) noexcept override
    {
        return result.offerError(std::move(error));
    }
    ResultSlot<R> result;
};

//! The body of run() (see launch()): hands the result to the caller's slot.
template<typename R, typename Factory>
struct RunBody {
    std::shared_ptr<RunSlot<R>> slot;
    Factory factory;

    template<typename... V>
    void finish(V &&...value)
    {
        slot->result.succeed(std::forward<V>(value)...);
    }
};

//! The shared state of one gather()/map() call (or stream).
template<typename R, bool Settled>
class CollectState final : public TaskSink {
public:
    using Slot = std::conditional_t<Settled, Outcome<R>,
                                    std::conditional_t<std::is_void_v<R>, bool, std::optional<R>>>;

    //! \a keepResults false: only count items (streams deliver results themselves).
    explicit CollectState(int limit, bool keepResults = true) : m_keepResults(keepResults)
    {
        if (limit > 0)
            callLimit = std::make_unique<Semaphore>(limit);
    }

    void launched(std::size_t index)
    {
        std::scoped_lock lock(m_mutex);
        ++m_inFlight;
        if (m_keepResults && m_slots.size() <= index)
            m_slots.resize(index + 1);
    }

    //! An item ended whose result is delivered elsewhere.
    void ended() { itemEnded(); }

    template<typename... V>
    void succeed(std::size_t index, V &&...value)
    {
        bool allDone = false;
        {
            std::scoped_lock lock(m_mutex);
            if constexpr (Settled) {
                if constexpr (std::is_void_v<R>)
                    m_slots[index] = Outcome<R>::fromValue();
                else
                    m_slots[index] = Outcome<R>::fromValue(std::forward<V>(value)...);
            } else if constexpr (std::is_void_v<R>) {
                m_slots[index] = true;
            } else {
                m_slots[index].emplace(std::forward<V>(value)...);
            }
            allDone = endItemLocked();
        }
        if (allDone)
            done.set();
    }

    bool fail(std::size_t index, std::exception_ptr error) noexcept override
    {
        bool stopNow = false;
        {
            std::scoped_lock lock(m_mutex);
            if constexpr (Settled) {
                if (m_keepResults)
                    m_slots[index] = Outcome<R>::fromError(error);
            } else if (!m_failure) {
                m_failure.emplace(index, error);
                stopNow = true;
            }
        }
        if (stopNow)
            callStop.request_stop(); // fail-fast: stop the siblings, start nothing new
        itemEnded();
        return true;
    }

    //! No more items will be launched.
    void launchingDone()
    {
        bool allDone = false;
        {
            std::scoped_lock lock(m_mutex);
            m_launching = false;
            allDone = m_inFlight == 0;
        }
        if (allDone)
            done.set();
    }

    [[nodiscard]] bool stopRequested() const { return callStop.stop_requested(); }

    //! Launching ended with input left (a failure, or the executor's cancelAll()/shutdown()).
    void stoppedEarly()
    {
        std::scoped_lock lock(m_mutex);
        m_stoppedEarly = true;
    }

    //! The results in input order; throws the first failure (not Settled), or CancelledError
    //! when the call was stopped before every task ran.
    auto result(const char *operation)
    {
        std::scoped_lock lock(m_mutex);
        if (m_failure)
            rethrowForCaller(m_failure->second, operation, m_failure->first);
        if (m_stoppedEarly)
            throw CancelledError(std::string(operation) + ": cancelled before every task ran");
        if constexpr (Settled) {
            ResultList<Outcome<R>> out;
            out.reserve(m_slots.size());
            for (auto &slot : m_slots)
                out.push_back(std::move(slot));
            return out;
        } else if constexpr (std::is_void_v<R>) {
            return;
        } else {
            ResultList<R> out;
            out.reserve(m_slots.size());
            for (auto &slot : m_slots)
                out.push_back(std::move(*slot));
            return out;
        }
    }

    std::stop_source callStop;
    std::unique_ptr<Semaphore> callLimit;
    AsyncEvent done;

private:
    //! Counts an item out; whether it was the last one. With m_mutex held.
    bool endItemLocked() noexcept { return --m_inFlight == 0 && !m_launching; }

    void itemEnded()
    {
        bool allDone = false;
        {
            std::scoped_lock lock(m_mutex);
            allDone = endItemLocked();
        }
        if (allDone)
            done.set();
    }

    std::mutex m_mutex;
    std::deque<Slot> m_slots;
    std::optional<std::pair<std::size_t, std::exception_ptr>> m_failure;
    int m_inFlight = 0;
    bool m_launching = true;
    bool m_stoppedEarly = false;
    const bool m_keepResults;
};

//! Keeps a call registered with the executor (see ExecutorCore::registerCall()).
class CallRegistration {
public:
    CallRegistration(std::shared_ptr<ExecutorCore> core, const std::stop_source &stop)
        : m_core(std::move(core)), m_key(m_core->registerCall(stop))
    {
    }
    CallRegistration(const CallRegistration &) = delete;
    CallRegistration &operator=(const CallRegistration &) = delete;
    ~CallRegistration() { m_core->unregisterCall(m_key); }

private:
    std::shared_ptr<ExecutorCore> m_core;
    quint64 m_key;
};

//! The body of one collected item (see launch()): records the factory's result.
template<typename R, bool Settled, typename Factory>
struct CollectItem {
    std::shared_ptr<CollectState<R, Settled>> state;
    std::size_t index;
    Factory factory;

    template<typename... V>
    void finish(V &&...value)
    {
        state->succeed(index, std::forward<V>(value)...);
    }
};

//! Launches, one by one, the factories \a next() produces: each once the call's limit (and the
//! \a window, for inOrder()) has room, as the tracked task \a makeItem(index, factory) reporting
//! to \a sink. Stops at the call's stop (a failure, or the executor's cancelAll()). Yields
//! whether every factory was launched.
template<typename State, typename Next, typename MakeItem>
QCoro::Task<bool> launchAll(std::shared_ptr<ExecutorCore> core, const char *operation,
                            std::shared_ptr<State> state, std::shared_ptr<TaskSink> sink,
                            Semaphore *window, Next next, MakeItem makeItem)
{
    const CallRegistration registration(core, state->callStop);
    for (std::size_t index = 0; !state->stopRequested(); ++index) {
        std::optional<SemaphorePermit> permit;
        try {
            if (window) {
                auto slot = co_await window->acquire(state->callStop.get_token());
                slot.detach(); // given back by the reader (inOrder)
            }
            if (state->callLimit)
                permit = co_await state->callLimit->acquire(state->callStop.get_token());
        } catch (const CancelledError &) {
            break; // the call was stopped
        }
        // A failure may have come while this waited for room: start nothing new after it.
        if (state->stopRequested())
            break;
        auto factory = next(); // inputs are consumed only once there is room for them
        if (!factory)
            co_return true;
        state->launched(index);
        try {
            // The item stops with its call (a failure, cancelAll()): it shares the call's stop.
            launch(core, operation, true, state->callStop, std::move(permit), sink, index,
                   makeItem(index, std::move(*factory)));
        } catch (...) {
            sink->fail(index, std::current_exception()); // the executor is shut down
            break;
        }
    }
    co_return false;
}

//! Launches the factories \a next() produces under the call's limit, then awaits them all.
template<typename R, bool Settled, typename Next>
auto collect(std::shared_ptr<ExecutorCore> core, GatherOptions options, const char *operation,
             Next next)
    -> QCoro::Task<std::conditional_t<Settled, ResultList<Outcome<R>>, CollectResultT<R>>>
{
    auto state = std::make_shared<CollectState<R, Settled>>(options.limit);
    auto makeItem = [state](std::size_t index, auto factory) {
        return CollectItem<R, Settled, decltype(factory)>{state, index, std::move(factory)};
    };
    auto launching =
        launchAll(core, operation, state, state, nullptr, std::move(next), std::move(makeItem));
    if (!co_await std::move(launching))
        state->stoppedEarly();
    state->launchingDone();
    co_await state->done.wait();
    co_return state->result(operation);
}

//! Produces the factories of a range one by one, moving each out of the range.
template<typename Range>
class RangeSource {
public:
    explicit RangeSource(Range &range)
        : m_it(std::ranges::begin(range)), m_end(std::ranges::end(range))
    {
    }
    std::optional<std::ranges::range_value_t<Range>> operator()()
    {
        if (m_it == m_end)
            return std::nullopt;
        std::optional<std::ranges::range_value_t<Range>> factory(std::move(*m_it));
        ++m_it;
        return factory;
    }

private:
    std::ranges::iterator_t<Range> m_it;
    std::ranges::sentinel_t<Range> m_end;
};

//! One map() call as a factory: awaits an awaitable result on the event loop, or runs a plain
//! call on the thread pool.
template<typename Func, typename Tuple>
struct MapCall {
    std::shared_ptr<Func> func;
    Tuple args;
    ExecutorCore *core; // outlives the call: its collect() holds it

    auto operator()()
    {
        using Direct = decltype(std::apply(*func, args));
        if constexpr (Awaitable<Direct>) {
            return std::apply(*func, std::move(args));
        } else {
            auto call = [f = func, a = std::move(args)]() mutable {
                return std::apply(*f, std::move(a));
            };
            return PoolCall<Direct, decltype(call)>(core, std::move(call));
        }
    }
};

//! Produces MapCall factories from zipped ranges, the shortest winning.
template<typename Func, typename... Ranges>
class ZipSource {
public:
    ZipSource(std::shared_ptr<Func> func, ExecutorCore *core, Ranges &...ranges)
        : m_func(std::move(func)), m_core(core), m_its(std::ranges::begin(ranges)...),
          m_ends(std::ranges::end(ranges)...)
    {
    }
    using Args = std::tuple<std::ranges::range_value_t<Ranges>...>;
    std::optional<MapCall<Func, Args>> operator()()
    {
        if (atEnd(std::index_sequence_for<Ranges...>{}))
            return std::nullopt;
        auto call = take(std::index_sequence_for<Ranges...>{});
        return call;
    }

private:
    template<std::size_t... I>
    bool atEnd(std::index_sequence<I...>) const
    {
        return ((std::get<I>(m_its) == std::get<I>(m_ends)) || ...);
    }
    template<std::size_t... I>
    std::optional<MapCall<Func, Args>> take(std::index_sequence<I...>)
    {
        MapCall<Func, Args> call{m_func, Args(*std::get<I>(m_its)...), m_core};
        (++std::get<I>(m_its), ...);
        return call;
    }

    std::shared_ptr<Func> m_func;
    ExecutorCore *m_core;
    std::tuple<std::ranges::iterator_t<Ranges>...> m_its;
    std::tuple<std::ranges::sentinel_t<Ranges>...> m_ends;
};

//! Feeds the results of a stream into a queue the generator reads.
template<typename R>
class StreamState final : public TaskSink {
public:
    static_assert(!std::is_void_v<R>, "streams yield values: use gather() for Task<void>");
    explicit StreamState(int limit) : collect(limit, false) {}
    bool fail(std::size_t index, std::exception_ptr error) noexcept override
    {
        // The first failure is queued before the cancellations it causes, so the generator
        // reports it; starting nothing new does not wait for the consumer.
        (void)results.tryPut(std::make_pair(index, Outcome<R>::fromError(error)));
        collect.callStop.request_stop();
        collect.fail(index, error);
        return true;
    }
    using Entry = std::pair<std::size_t, Outcome<R>>;

    //! The next result that completed, or nothing once every task has ended.
    QCoro::Task<std::optional<Entry>> next()
    {
        try {
            co_return co_await results.get();
        } catch (const QueueClosedError &) {
            co_return std::nullopt;
        }
    }

    //! Fail-fast: stops the remaining work, waits for it, then throws \a error.
    QCoro::Task<> failWith(std::exception_ptr error, const char *operation, std::size_t index)
    {
        collect.callStop.request_stop();
        co_await collect.done.wait();
        rethrowForCaller(std::move(error), operation, index);
    }

    CollectState<R, true> collect;
    AsyncQueue<Entry> results;
    bool inputDone = false;            // every factory was launched (set by the launcher)
    std::unique_ptr<Semaphore> window; // inOrder(): results in flight or buffered
};

template<typename R, typename Factory>
struct StreamItem {
    std::shared_ptr<StreamState<R>> state;
    std::size_t index;
    Factory factory;

    void finish(R value)
    {
        (void)state->results.tryPut(std::make_pair(index, Outcome<R>::fromValue(std::move(value))));
        state->collect.ended();
    }
};

template<typename R, typename Range>
QCoro::Task<> launchStream(std::shared_ptr<ExecutorCore> core,
                           std::shared_ptr<StreamState<R>> state, Range factories,
                           const char *operation)
{
    // The collect state counts the items; `state` (the sink) queues their results.
    auto counter = std::shared_ptr<CollectState<R, true>>(state, &state->collect);
    auto makeItem = [state](std::size_t index, auto factory) {
        return StreamItem<R, decltype(factory)>{state, index, std::move(factory)};
    };
    auto launching = launchAll(core, operation, counter, state, state->window.get(),
                               RangeSource<Range>(factories), std::move(makeItem));
    state->inputDone = co_await std::move(launching);
    counter->launchingDone();
    co_await counter->done.wait();
    state->results.close(); // the generator drains what is left, then ends
}

//! Stops a stream's remaining work when its generator is destroyed.
template<typename R>
struct StreamGuard {
    std::shared_ptr<StreamState<R>> state;
    ~StreamGuard() { state->collect.callStop.request_stop(); }
};

//! The shared state of a gather() of started tasks: each one's result, the first failure (in
//! the order the tasks ended), and how many are still running.
template<typename... T>
struct StartedTasks {
    std::tuple<std::optional<ValueOrMonostate<T>>...> values; // each written by its runner
    std::mutex mutex;                                         // guards the first failure
    std::exception_ptr firstError;
    std::size_t firstErrorIndex = 0;
    std::atomic<std::size_t> running{sizeof...(T)};
    AsyncEvent done; // set by the last runner: its release makes every value visible
};

//! Awaits task \a I of a gather() of started tasks and records its outcome.
template<std::size_t I, typename State, typename T>
QCoro::Task<> awaitStarted(std::shared_ptr<State> state, QCoro::Task<T> task)
{
    try {
        if constexpr (std::is_void_v<T>) {
            co_await task;
            std::get<I>(state->values).emplace();
        } else {
            std::get<I>(state->values).emplace(co_await task);
        }
    } catch (...) {
        std::scoped_lock lock(state->mutex);
        if (!state->firstError) {
            state->firstError = std::current_exception();
            state->firstErrorIndex = I;
        }
    }
    if (state->running.fetch_sub(1, std::memory_order_acq_rel) == 1)
        state->done.set();
}

} // namespace QtAio::detail

namespace QtAio {

template<typename... T>
requires(sizeof...(T) > 0) auto TaskExecutor::gather(QCoro::Task<T>... tasks)
    -> QCoro::Task<std::tuple<detail::ValueOrMonostate<T>...>>
{
    // The tasks run already: each is awaited by a small runner of its own, so that every one
    // is awaited to its end whatever order (and on whatever thread) they end in.
    auto state = std::make_shared<detail::StartedTasks<T...>>();
    auto runners = [&]<std::size_t... I>(std::index_sequence<I...>)
    {
        return std::make_tuple(detail::awaitStarted<I>(state, std::move(tasks))...);
    }
    (std::index_sequence_for<T...>{});
    auto allDone = state->done.wait();
    co_await allDone;
    if (state->firstError)
        detail::rethrowForCaller(state->firstError, "TaskExecutor::gather", state->firstErrorIndex);
    co_return std::apply([](auto &...value) { return std::make_tuple(std::move(*value)...); },
                         state->values);
}

template<detail::TaskFactory Factory>
auto TaskExecutor::run(Factory factory, QDeadlineTimer deadline)
    -> QCoro::Task<detail::FactoryResult<Factory>>
{
    using R = detail::FactoryResult<Factory>;
    auto core = d;
    auto slot = std::make_shared<detail::RunSlot<R>>();
    std::stop_source stop;
    detail::launch(core, "TaskExecutor::run", true, stop, {}, slot, 0,
                   detail::RunBody<R, Factory>{slot, std::move(factory)});
    auto finished = slot->result.done.wait({{}, deadline});
    if (!co_await finished && slot->result.abandon()) {
        stop.request_stop(); // the work stays tracked until it ends
        throw TimeoutError("TaskExecutor::run: timed out");
    }
    if (auto error = slot->result.error())
        detail::rethrowForCaller(std::move(error), "TaskExecutor::run");
    co_return slot->result.take();
}

template<typename T>
QCoro::Task<T> TaskExecutor::run(QCoro::Task<T> task, QDeadlineTimer deadline)
{
    auto factory = [task = std::move(task)]() mutable { return std::move(task); };
    auto work = run(std::move(factory), deadline);
    co_return co_await std::move(work);
}

template<detail::FactoryRange Range>
auto TaskExecutor::gather(Range factories, GatherOptions options)
    -> QCoro::Task<detail::CollectResultT<detail::FactoryResult<std::ranges::range_value_t<Range>>>>
{
    using R = detail::FactoryResult<std::ranges::range_value_t<Range>>;
    auto work = detail::collect<R, false>(d, options, "TaskExecutor::gather",
                                          detail::RangeSource<Range>(factories));
    co_return co_await std::move(work);
}

template<detail::FactoryRange Range>
auto TaskExecutor::gatherSettled(Range factories, GatherOptions options)
    -> QCoro::Task<ResultList<Outcome<detail::FactoryResult<std::ranges::range_value_t<Range>>>>>
{
    using R = detail::FactoryResult<std::ranges::range_value_t<Range>>;
    auto work = detail::collect<R, true>(d, options, "TaskExecutor::gatherSettled",
                                         detail::RangeSource<Range>(factories));
    co_return co_await std::move(work);
}

template<typename Func, std::ranges::input_range... Ranges>
requires(sizeof...(Ranges) > 0) auto TaskExecutor::map(Func func, GatherOptions options,
                                                       Ranges... ranges)
    -> QCoro::Task<detail::CollectResultT<
        typename detail::MapResult<Func, std::ranges::range_reference_t<Ranges>...>::type>>
{
    using R = typename detail::MapResult<Func, std::ranges::range_reference_t<Ranges>...>::type;
    auto source = detail::ZipSource<Func, Ranges...>(std::make_shared<Func>(std::move(func)),
                                                     d.get(), ranges...);
    auto work = detail::collect<R, false>(d, options, "TaskExecutor::map", std::move(source));
    co_return co_await std::move(work);
}

template<typename Func, std::ranges::input_range... Ranges>
requires(sizeof...(Ranges) > 0) auto TaskExecutor::mapSettled(Func func, GatherOptions options,
                                                              Ranges... ranges)
    -> QCoro::Task<ResultList<
        Outcome<typename detail::MapResult<Func, std::ranges::range_reference_t<Ranges>...>::type>>>
{
    using R = typename detail::MapResult<Func, std::ranges::range_reference_t<Ranges>...>::type;
    auto source = detail::ZipSource<Func, Ranges...>(std::make_shared<Func>(std::move(func)),
                                                     d.get(), ranges...);
    auto work = detail::collect<R, true>(d, options, "TaskExecutor::mapSettled", std::move(source));
    co_return co_await std::move(work);
}

template<detail::FactoryRange Range>
QCoro::AsyncGenerator<detail::FactoryResult<std::ranges::range_value_t<Range>>>
TaskExecutor::asCompleted(Range factories, GatherOptions options)
{
    using R = detail::FactoryResult<std::ranges::range_value_t<Range>>;
    auto state = std::make_shared<detail::StreamState<R>>(options.limit);
    detail::StreamGuard<R> guard{state};
    auto launcher =
        detail::launchStream<R>(d, state, std::move(factories), "TaskExecutor::asCompleted");
    while (auto next = co_await state->next()) {
        if (next->second.hasError())
            co_await state->failWith(next->second.error(), "TaskExecutor::asCompleted",
                                     next->first);
        co_yield std::move(next->second.value());
    }
    if (!state->inputDone)
        throw CancelledError("TaskExecutor::asCompleted: cancelled before every task ran");
}

template<detail::FactoryRange Range>
QCoro::AsyncGenerator<detail::FactoryResult<std::ranges::range_value_t<Range>>>
TaskExecutor::inOrder(Range factories, GatherOptions options)
{
    using R = detail::FactoryResult<std::ranges::range_value_t<Range>>;
    const int window = options.limit > 0 ? options.limit : 16;
    auto state = std::make_shared<detail::StreamState<R>>(window);
    state->window = std::make_unique<Semaphore>(window);
    detail::StreamGuard<R> guard{state};
    auto launcher =
        detail::launchStream<R>(d, state, std::move(factories), "TaskExecutor::inOrder");
    std::map<std::size_t, Outcome<R>> ahead;
    std::size_t nextIndex = 0;
    while (true) {
        auto found = ahead.find(nextIndex);
        if (found != ahead.end()) {
            Outcome<R> outcome = std::move(found->second);
            ahead.erase(found);
            if (outcome.hasError())
                co_await state->failWith(outcome.error(), "TaskExecutor::inOrder", nextIndex);
            ++nextIndex;
            state->window->release();
            co_yield std::move(outcome.value());
            continue;
        }
        auto next = co_await state->next();
        if (!next)
            break;
        ahead.emplace(next->first, std::move(next->second));
    }
    if (!state->inputDone)
        throw CancelledError("TaskExecutor::inOrder: cancelled before every task ran");
}

template<typename Func, typename... Args>
requires detail::ThreadCallable<Func, Args...>
auto TaskExecutor::runInThread(Func func, Args... args)
    -> QCoro::Task<detail::ThreadResult<Func, Args...>>
{
    constexpr bool takesStop = std::invocable<Func &, std::stop_token, Args...>;
    using R = detail::ThreadResult<Func, Args...>;
    // The awaiting coroutine itself is the tracked task (no separate run()): it waits for a
    // slot, hands the call to the pool and resumes here when the pool job is done.
    const auto core = d;
    detail::TrackedTask task{std::stop_source()};
    auto call = [stop = task.stop.get_token(), f = std::move(func),
                 tuple = std::make_tuple(std::move(args)...)]() mutable -> R {
        return std::apply(
            [&](Args &...a) -> R {
                // The job runs once: the arguments are moved into the call.
                if constexpr (takesStop)
                    return std::invoke(f, stop, std::move(a)...);
                else
                    return std::invoke(f, std::move(a)...);
            },
            tuple);
    };
    // Registered last: from here until taskFinished() nothing throws past the try below.
    bool started = core->registerTask(task, "TaskExecutor::runInThread", true);
    std::conditional_t<std::is_void_v<R>, std::monostate, std::optional<R>> value;
    std::exception_ptr error;
    try {
        if (!started) {
            co_await detail::ExecutorCore::SlotWait(core.get(), &task, task.stop.get_token());
            started = true;
        }
        auto onPool = detail::PoolCall<R, decltype(call)>(core.get(), std::move(call));
        if constexpr (std::is_void_v<R>)
            co_await std::move(onPool);
        else
            value.emplace(co_await std::move(onPool));
    } catch (...) {
        error = std::current_exception();
    }
    detail::CallerSink caller; // the caller receives the error: nothing is unhandled
    core->taskFinished(task, started, error, &caller, 0);
    if (error)
        detail::rethrowForCaller(error, "TaskExecutor::runInThread");
    if constexpr (!std::is_void_v<R>)
        co_return std::move(*value);
}

template<detail::TaskFactory Factory>
TaskHandle<detail::FactoryResult<Factory>> TaskExecutor::spawn(Factory factory)
{
    using R = detail::FactoryResult<Factory>;
    auto slot = std::make_shared<detail::RunSlot<R>>();
    std::stop_source stop;
    // Not nested: a spawned task may outlive the one that spawned it, so it has its own slot.
    const TaskId id = detail::launch(d, "TaskExecutor::spawn", false, stop, {}, slot, 0,
                                     detail::RunBody<R, Factory>{slot, std::move(factory)});
    return TaskHandle<R>(std::move(slot), std::move(stop), id);
}

template<typename T>
detail::AsyncEvent::Wait TaskHandle<T>::Awaiter::waitFor(const TaskHandle *handle)
{
    if (!handle->m_slot)
        throw std::logic_error("TaskHandle: co_await of a handle to no task");
    return handle->m_slot->result.done.wait();
}

template<typename T>
void TaskHandle<T>::rethrowTaskError(std::exception_ptr error)
{
    detail::rethrowForCaller(std::move(error), "TaskExecutor::spawn");
}

template<typename T>
void TaskHandle<T>::release() noexcept
{
    if (!m_slot)
        return;
    // A failure that arrives from now on is refused, and so reported by the executor; one
    // that arrived already and was never taken is reported here.
    if (auto untaken = m_slot->result.release())
        detail::reportUntakenFailure(m_id, std::move(untaken));
    m_slot.reset();
}

} // namespace QtAio
