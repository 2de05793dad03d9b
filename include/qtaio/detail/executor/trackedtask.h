// SPDX-License-Identifier: MIT
#pragma once

// The life of one tracked task, the same for every path that starts work (run(), spawn(), each
// gather()/map()/stream item, runInThread()): registered with its executor, waiting for a slot
// under the executor's limit, running, and its end reported exactly once (TaskScope).

#include <qtaio/detail/concepts.h>
#include <qtaio/detail/executor/gate.h>
#include <qtaio/detail/executorcore.h>
#include <qtaio/qtaiocore_export.h>

#include <qcoro/qcorotask.h>

#include <concepts>
#include <cstddef>
#include <functional>
#include <exception>
#include <memory>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>

namespace QtAio::detail {

template<typename T>
inline constexpr bool isQCoroTask = false;
template<typename T>
inline constexpr bool isQCoroTask<QCoro::Task<T>> = true;
//! A QCoro::Task (run() awaits a started one).
template<typename T>
concept IsQCoroTask = isQCoroTask<std::remove_cvref_t<T>>;

//! Rethrows \a error: a cancellation as it is, anything else as ExecutionError with the cause
//! nested, naming \a operation (and \a index where there is one).
[[noreturn]] QTAIO_CORE_EXPORT void rethrowForCaller(std::exception_ptr error,
                                                     const char *operation,
                                                     std::optional<std::size_t> index = {});

//! One tracked task's registration with its executor, from registration to its end (RAII).
/*!
 * Lives in the task's own coroutine frame. The constructor registers the task (or records why
 * it was refused: the executor is shut down); slot() waits for a slot under the executor's
 * limit when the task did not start at once; end() reports how it ended. If the
 * frame goes before end() (its coroutine was destroyed while it waited), the destructor ends
 * it as cancelled, so the executor never keeps a task that no longer exists.
 */
class QTAIO_CORE_EXPORT TaskScope {
public:
    //! Registers a task whose stop is \a stop; with \a mayNest, inside a task of the same
    //! executor it runs in that task's slot (see ExecutorCore::registerTask()).
    TaskScope(std::shared_ptr<ExecutorCore> core, std::stop_source stop, const char *operation,
              bool mayNest) noexcept;
    //! Takes over \a registered, a task registered elsewhere that is not waiting for a slot
    //! (see ExecutorCore::adoptTask()); its stop becomes \a stop.
    TaskScope(std::shared_ptr<ExecutorCore> core, TrackedTask &registered,
              std::stop_source stop) noexcept;
    TaskScope(const TaskScope &) = delete;
    TaskScope &operator=(const TaskScope &) = delete;
    ~TaskScope();

    //! Why registration failed (ExecutionError: the executor is shut down), or nullptr.
    [[nodiscard]] const std::exception_ptr &refusal() const noexcept { return m_refusal; }
    [[nodiscard]] ExecutorCore::TaskId id() const noexcept { return m_task.id; }
    [[nodiscard]] std::stop_token stopToken() const noexcept { return m_task.stop.get_token(); }
    [[nodiscard]] ExecutorCore *core() const noexcept { return m_core.get(); }
    //! Whether the task holds its slot (then slot() completes at once).
    [[nodiscard]] bool started() const noexcept { return m_task.started; }

    //! What slot() yields: completes at once when the task holds its slot, and otherwise
    //! waits for one in an ExecutorCore::SlotWait made on the heap.
    /*!
     * g++ gives every awaiter of a coroutine a frame slot of its own, used or not: a SlotWait
     * awaited directly would add its 224 bytes to the frame of every runInThread() call, most
     * of which never wait. This keeps 16 there, and allocates only when the task must wait.
     */
    class SlotAwaiter {
    public:
        explicit SlotAwaiter(TaskScope &scope) noexcept : m_scope(scope) {}
        [[nodiscard]] bool await_ready() const noexcept { return m_scope.started(); }
        bool await_suspend(std::coroutine_handle<> handle)
        {
            m_wait = std::make_unique<ExecutorCore::SlotWait>(m_scope.m_core.get(), &m_scope.m_task,
                                                              m_scope.m_task.stop.get_token());
            return !m_wait->await_ready() && m_wait->await_suspend(handle);
        }
        void await_resume()
        {
            if (m_wait)
                m_wait->await_resume();
        }

    private:
        TaskScope &m_scope;
        std::unique_ptr<ExecutorCore::SlotWait> m_wait;
    };

    //! Awaitable: completes once the task holds its slot (at once when it does already);
    //! CancelledError when its stop comes first.
    [[nodiscard]] SlotAwaiter slot() noexcept { return SlotAwaiter(*this); }
    //! Reports the task's end (\a error null: success) to the executor, and a failure to
    //! \a sink (see ExecutorCore::taskEnded()). Once.
    void end(std::exception_ptr error, TaskSink *sink, std::size_t index) noexcept;

private:
    std::shared_ptr<ExecutorCore> m_core;
    TrackedTask m_task;
    std::exception_ptr m_refusal;
    bool m_ended = false;
};

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

//! Sets the calling thread's task context for a scope (see currentTaskContext()).
class TaskContextScope {
public:
    explicit TaskContextScope(TaskContext context) noexcept : m_outer(exchangeTaskContext(context))
    {
    }
    TaskContextScope(const TaskContextScope &) = delete;
    TaskContextScope &operator=(const TaskContextScope &) = delete;
    ~TaskContextScope() { exchangeTaskContext(m_outer); }

private:
    TaskContext m_outer;
};

//! Sets the task context through the calling thread's taskContextSlot() \a slot for a scope,
//! without a library call: for a call's items launched inline one after the other (see
//! SourceLauncher). A null \a slot (no event loop) sets nothing.
class TaskContextSlotScope {
public:
    TaskContextSlotScope(TaskContext *slot, TaskContext context) noexcept
        : m_slot(slot), m_outer(slot ? std::exchange(*slot, context) : TaskContext{})
    {
    }
    TaskContextSlotScope(const TaskContextSlotScope &) = delete;
    TaskContextSlotScope &operator=(const TaskContextSlotScope &) = delete;
    ~TaskContextSlotScope()
    {
        if (m_slot)
            *m_slot = m_outer;
    }

private:
    TaskContext *m_slot;
    TaskContext m_outer;
};

//! Calls \a factory with the task of \a scope as the thread's task context, so that the work it
//! starts, and what it does after each QtAio await, is known to run inside that task of its
//! executor. The context is restored when the factory returns (at the work's first suspension):
//! it never leaks to the caller.
template<typename F>
auto invokeInTask(const TaskScope &scope, F &factory, std::stop_token stop)
{
    const TaskContextScope context(scope.core()->contextOf(scope.id()));
    return invokeFactory(factory, std::move(stop));
}

//! The factory of TaskExecutor::run(QCoro::Task<T>): hands over a task that runs already.
template<typename T>
struct StartedTaskFactory {
    QCoro::Task<T> task;
    QCoro::Task<T> operator()() { return std::move(task); }
};

//! Whether a factory of type \a F hands over a task that runs already (StartedTaskFactory).
template<typename F>
inline constexpr bool IsStartedTaskFactory = false;
template<typename T>
inline constexpr bool IsStartedTaskFactory<StartedTaskFactory<T>> = true;

//! What launch() learns from a tracked task before its first suspension.
struct Launched {
    ExecutorCore::TaskId id = 0;
    std::exception_ptr refused; //!< registration failed: the executor is shut down
};

// GCC 12 warns that this coroutine's frame "uses the anonymous namespace" when a factory is a
// lambda of a non-inline function (a type with no linkage); the frame is local to this
// translation unit like the lambda, so nothing can clash. Clang has no such warning.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsubobject-linkage"
#endif
//! The life of one tracked task whose work a factory starts (see TaskScope). \a launched is
//! written before the first suspension only (it lives in launch()).
template<typename Body>
QCoro::Task<> runTracked(std::shared_ptr<ExecutorCore> core, const char *operation, bool mayNest,
                         Launched *launched, std::stop_source stop,
                         std::optional<GatePermit> callPermit, std::shared_ptr<TaskSink> sink,
                         std::size_t index, Body body)
{
    // A local, so that it goes before the parameters that keep its gate alive (sink, body).
    std::optional<GatePermit> permit = std::move(callPermit);
    TaskScope scope(std::move(core), std::move(stop), operation, mayNest);
    if (scope.refusal()) {
        launched->refused = scope.refusal();
        co_return;
    }
    launched->id = scope.id();
    std::exception_ptr error;
    try {
        if constexpr (IsStartedTaskFactory<decltype(body.factory)>) {
            // The task runs already and cannot be stopped (QCoro tasks have no cancellation):
            // whatever ends its wait for a slot (a stop, a timeout, a failed allocation of the
            // wait) leaves it tracked and awaited here, so that its end, and its failure, are
            // still reported (and cancelAll() and shutdown() wait for it), instead of being
            // dropped with the task. It then counts as waiting until it ends.
            try {
                co_await scope.slot();
            } catch (...) {
            }
        } else {
            co_await scope.slot();
        }
        // The factory's awaitable is awaited right here, not through a wrapping coroutine.
        auto work = invokeInTask(scope, body.factory, scope.stopToken());
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
    scope.end(std::move(error), sink.get(), index);
    permit.reset(); // lets the owning call start its next item
}

//! Where a call's launcher keeps the body of a task it runs inline (see SourceLauncher): on the
//! heap, because a factory's closure must not move once it was called (a capturing lambda
//! coroutine refers to its captures there). Reused from one task to the next while each ends at
//! once; a task that goes on in runAdopted() takes its box along.
template<typename Body>
using BodyBox = std::unique_ptr<std::optional<Body>>;

//! A factory called where it lies (in the range a call's source owns, which outlives the call's
//! items): the body of an item that a launcher hands over without moving its factory.
template<typename F>
struct FactoryRef {
    F *factory;

    template<typename... A>
    requires std::invocable<F &, A...> std::invoke_result_t<F &, A...>
    operator()(A &&...args) { return (*factory)(std::forward<A>(args)...); }
};

//! The body a task holds: in its box (see BodyBox), or by value (a body that may move: one
//! that calls its factory through a FactoryRef).
template<typename Body>
Body &heldBody(BodyBox<Body> &box) noexcept
{
    return **box;
}
template<typename Body>
Body &heldBody(Body &body) noexcept
{
    return body;
}

//! The rest of the life of a tracked task that a call's launcher registered (and whose work it
//! started, unless \a started is empty: the task waits for a slot) but that did not end at once
//! (see SourceLauncher). \a held is its body, boxed or by value (see heldBody()); \a sink owns
//! what the body refers to.
template<typename Work, typename Held>
QCoro::Task<> runAdopted(std::shared_ptr<ExecutorCore> core, TrackedTask *registered,
                         std::stop_source stop, std::optional<Work> started,
                         std::optional<GatePermit> callPermit, std::shared_ptr<TaskSink> sink,
                         std::size_t index, Held held)
{
    std::optional<GatePermit> permit = std::move(callPermit);
    // Before the first suspension: the launcher's registration is reused when it goes on.
    TaskScope scope(std::move(core), *registered, std::move(stop));
    auto &body = heldBody(held);
    std::exception_ptr error;
    try {
        if (!started) {
            co_await scope.slot();
            started.emplace(invokeInTask(scope, body.factory, scope.stopToken()));
        }
        if constexpr (std::is_void_v<FactoryResult<decltype(body.factory)>>) {
            co_await *started;
            body.finish();
        } else {
            body.finish(co_await *started);
        }
    } catch (...) {
        error = std::current_exception();
    }
    scope.end(std::move(error), sink.get(), index);
    permit.reset();
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

//! What a factory of type \a F returns.
template<typename F>
using FactoryWork = decltype(invokeFactory(std::declval<F &>(), std::stop_token()));

//! Registers and starts a tracked task whose stop is \a stop (see runTracked()). \a body has a
//! `factory` (see invokeFactory()) and a `finish(value)` (`finish()` for void) that takes its
//! result. Throws ExecutionError when the executor is shut down.
template<typename Body>
ExecutorCore::TaskId launch(const std::shared_ptr<ExecutorCore> &core, const char *operation,
                            bool mayNest, std::stop_source stop,
                            std::optional<GatePermit> callPermit, std::shared_ptr<TaskSink> sink,
                            std::size_t index, Body body)
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

//! A sink for work whose caller receives the error itself.
class QTAIO_CORE_EXPORT CallerSink final : public TaskSink {
public:
    bool fail(std::size_t, std::exception_ptr) noexcept override;
};

} // namespace QtAio::detail
