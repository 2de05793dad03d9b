// SPDX-License-Identifier: MIT
#pragma once

#include <qtaio/deadline.h>
#include <qtaio/detail/concepts.h>
#include <qtaio/detail/executor/resultlist.h>
#include <qtaio/detail/executor/runslot.h>
#include <qtaio/detail/executor/trackedtask.h>
#include <qtaio/detail/executorcore.h>
#include <qtaio/detail/waitcore.h>
#include <qtaio/errors.h>
#include <qtaio/outcome.h>
#include <qtaio/qtaiocore_export.h>

#include <QtCore/QList>
#include <QtCore/QObject>

#include <qcoro/qcoroasyncgenerator.h>
#include <qcoro/qcorotask.h>

#include <chrono>
#include <concepts>
#include <memory>
#include <ranges>
#include <stop_token>
#include <type_traits>
#include <variant>
#include <tuple>
#include <vector>

QT_BEGIN_NAMESPACE
class QThreadPool;
QT_END_NAMESPACE

namespace QtAio {

//! The list gather(), map() and their settled forms yield: a QList when \a T can be copied (as
//! Qt code expects), a std::vector for move-only results (a QList needs copyable items).
template<typename T>
using ResultList = detail::ResultContainer<T>;

//! Options of TaskExecutor::gather(), map() and the streaming forms. Each field has one
//! meaning in every call that takes it.
struct GatherOptions {
    //! At most this many tasks of this call run at once; 0 or negative: no per-call cap (the
    //! executor's own limit still applies). The same for every call, inOrder() included.
    int limit = 0;
    //! inOrder() only: at most this many tasks are running or have results buffered ahead of
    //! the one the consumer waits for, so that one slow task cannot make results pile up
    //! without bound; 0 or negative: no bound. Other calls ignore it.
    int window = 16;
};

//! One result of TaskExecutor::asCompleted(): which task ended, and its value.
template<typename T>
struct Completed {
    //! The task's position in the input range (0 for the first factory).
    qsizetype index = 0;
    //! The task's result.
    T value;
};

//! One result of TaskExecutor::asCompleted() over Task<void> factories: which task ended.
template<>
struct Completed<void> {
    //! The task's position in the input range (0 for the first factory).
    qsizetype index = 0;
};

namespace detail {
template<typename Func, bool TakesStop, typename... Args>
struct ThreadCallOf {
};
template<typename Func, typename... Args>
requires std::invocable<Func &, Args...>
struct ThreadCallOf<Func, false, Args...> {
    using type = std::invoke_result_t<Func &, Args...>;
};
template<typename Func, typename... Args>
struct ThreadCallOf<Func, true, Args...> {
    using type = std::invoke_result_t<Func &, std::stop_token, Args...>;
};
//! What runInThread(func, args...) yields; func may take a std::stop_token first.
template<typename Func, typename... Args>
using ThreadResult =
    typename ThreadCallOf<Func, std::invocable<Func &, std::stop_token, Args...>, Args...>::type;
//! A function runInThread() can call with \a Args (moved), after a std::stop_token or not.
template<typename Func, typename... Args>
concept ThreadCallable =
    std::invocable<Func &, std::stop_token, Args...> || std::invocable<Func &, Args...>;

//! A map() call's result: what awaiting it yields if \a T is awaitable, else \a T itself.
template<typename T>
struct AwaitOrValue {
    using type = T;
};
template<Awaitable T>
struct AwaitOrValue<T> {
    using type = AwaitResult<T>;
};
//! The result of a map() call of Func over Args (no `type` when Func does not take Args).
template<typename Func, typename... Args>
struct MapResult {
};
template<typename Func, typename... Args>
requires std::invocable<Func &, Args...>
struct MapResult<Func, Args...> {
    using type = typename AwaitOrValue<std::invoke_result_t<Func &, Args...>>::type;
};
} // namespace detail

namespace detail {
//! Reports the failure of spawned work whose handle went without taking it.
QTAIO_CORE_EXPORT void reportUntakenFailure(quint64 id, std::exception_ptr error) noexcept;
} // namespace detail

//! A task started by TaskExecutor::spawn(): await it for its result, cancel it, or ask whether
//! it has ended (asyncio's Task, Trio's cancel scope of one task).
/*!
 * `co_await handle` yields the task's result on the awaiting thread (through its event loop
 * when it had to wait), or throws what run() would: ExecutionError with the cause nested, or
 * CancelledError. Await it once. The handle converts to the task's id, as spawn()'s result did
 * in 0.1. Destroying the handle does not stop the task: it runs on, tracked by the executor;
 * a failure nobody took (the handle went first, or never awaited) is reported with a
 * qtaio.executor warning, besides taskFailed().
 */
template<typename T>
class TaskHandle {
public:
    //! A handle to no task.
    TaskHandle() = default;
    TaskHandle(const TaskHandle &) = delete;
    TaskHandle &operator=(const TaskHandle &) = delete;
    //! Takes over \a other's task; \a other is then a handle to no task.
    TaskHandle(TaskHandle &&other) noexcept = default;
    //! Lets go of this handle's task (as the destructor does), then takes over \a other's.
    TaskHandle &operator=(TaskHandle &&other) noexcept
    {
        if (this != &other) {
            release();
            m_slot = std::move(other.m_slot);
            m_stop = std::move(other.m_stop);
            m_id = other.m_id;
        }
        return *this;
    }
    ~TaskHandle() { release(); }

    //! The task's id, as in the executor's task signals; 0 for a handle to no task.
    [[nodiscard]] quint64 id() const noexcept { return m_id; }
    //! The id, as 0.1's spawn() returned it.
    operator quint64() const noexcept { return m_id; } // NOLINT: implicit on purpose
    //! Whether the task has ended. Thread-safe.
    [[nodiscard]] bool isDone() const { return m_slot && m_slot->result.isFinished(); }
    //! Requests stop on this task (its std::stop_token). Thread-safe; the task ends as its
    //! factory's work answers the stop.
    void cancel() noexcept { m_stop.request_stop(); }

    //! The wait of `co_await handle`.
    class Awaiter {
    public:
        //! \cond INTERNAL
        explicit Awaiter(const TaskHandle *handle) : m_slot(handle->m_slot), m_wait(waitFor(handle))
        {
        }
        bool await_ready() { return m_wait.await_ready(); }
        bool await_suspend(std::coroutine_handle<> handle) { return m_wait.await_suspend(handle); }
        //! \endcond
        //! The task's result, or its error (see the class description).
        T await_resume()
        {
            m_wait.await_resume();
            if (auto error = m_slot->result.error()) {
                try {
                    m_slot->result.take(); // marks the error as taken
                } catch (...) {
                }
                rethrowTaskError(std::move(error));
            }
            return m_slot->result.take();
        }

    private:
        static detail::AsyncEvent::Wait waitFor(const TaskHandle *handle);
        std::shared_ptr<detail::RunSlot<T>> m_slot;
        detail::AsyncEvent::Wait m_wait;
    };
    //! Awaits the task (see the class description).
    Awaiter operator co_await() const { return Awaiter(this); }

private:
    friend class TaskExecutor;
    TaskHandle(std::shared_ptr<detail::RunSlot<T>> slot, std::stop_source stop, quint64 id)
        : m_slot(std::move(slot)), m_stop(std::move(stop)), m_id(id)
    {
    }
    [[noreturn]] static void rethrowTaskError(std::exception_ptr error);
    void release() noexcept;

    std::shared_ptr<detail::RunSlot<T>> m_slot;
    std::stop_source m_stop{std::nostopstate};
    quint64 m_id = 0;
};

//! Runs coroutines on the Qt event loop and blocking work on a QThreadPool, with timeouts,
//! concurrency limits and structured cancellation: the QtAio form of mtaio's TaskExecutor.
/*!
 * Work is given as *factories*: callables that return an awaitable (usually a lambda
 * returning QCoro::Task<T>), optionally taking a std::stop_token that is requested when the
 * work should stop. Factories are needed because QCoro tasks start eagerly, so only work that
 * has not started can be held back by a limit. The executor moves every factory (and every
 * range it is given) into its own state and keeps it alive until the work it started has
 * ended, even after a timeout: a capturing lambda coroutine keeps its captures in the
 * closure, which must outlive the coroutine.
 *
 * Everything the executor starts counts against its `limit` (0: unlimited): run(), spawn(),
 * each gather()/map() item and each runInThread() job; a call's own GatherOptions::limit caps
 * that call further. Work started from a coroutine runs on that coroutine's thread; awaiting
 * any of the functions below resumes on the awaiting thread. A failure is never dropped: it
 * reaches whoever awaits the work as ExecutionError (cause nested, index given where there is
 * one), and work that nobody awaits (spawn(), work abandoned by a timeout) is reported with
 * taskFailed() and a warning in the `qtaio.executor` logging category. A cancellation
 * (CancelledError) is passed through as is.
 *
 * Destroying the executor never blocks: it requests stop on all tracked work; work that
 * ignores its stop runs to its end and then frees what it held. A QThreadPool passed in is
 * never shut down by the executor.
 *
 * \code
 * QtAio::TaskExecutor executor;
 * executor.setLimit(4);
 * std::vector<std::function<QCoro::Task<QByteArray>()>> downloads = ...;
 * const QList<QByteArray> pages = co_await executor.gather(std::move(downloads), {.limit = 2});
 * const int sum = co_await executor.runInThread([](int a, int b) { return a + b; }, 1, 2);
 * \endcode
 * (g++ 12: build lambdas and braced lists in a statement of their own, not inside co_await.)
 */
class QTAIO_CORE_EXPORT TaskExecutor : public QObject {
    Q_OBJECT
    //! Executor-wide cap on work running at once; 0 = unlimited (the default). Takes effect
    //! at once: raising it starts waiting work, lowering it stops nothing that runs.
    Q_PROPERTY(int limit READ limit WRITE setLimit NOTIFY limitChanged)
    //! Tasks running now.
    Q_PROPERTY(int running READ running NOTIFY runningChanged)
    //! Tasks started by a call but waiting for a slot under the limit.
    Q_PROPERTY(int waiting READ waiting NOTIFY waitingChanged)
    //! Tasks that ended successfully.
    Q_PROPERTY(qint64 completed READ completed NOTIFY completedChanged)
    //! Tasks that ended with an exception other than CancelledError.
    Q_PROPERTY(qint64 failed READ failed NOTIFY failedChanged)
    //! Tasks that ended with CancelledError (stopped before or while running).
    Q_PROPERTY(qint64 cancelled READ cancelled NOTIFY cancelledChanged)

public:
    //! Identifies one task in the task signals and spawn()'s result.
    using TaskId = quint64;

    //! An executor whose blocking work runs on QThreadPool::globalInstance().
    explicit TaskExecutor(QObject *parent = nullptr);
    //! An executor whose blocking work runs on \a pool (never shut down by the executor).
    explicit TaskExecutor(QThreadPool *pool, QObject *parent = nullptr);
    //! Requests stop on all tracked work and returns at once, without waiting for it (see
    //! the class description).
    ~TaskExecutor() override;

    //! \name Property accessors
    //!@{

    //! Getter of the property of the same name; thread-safe.
    [[nodiscard]] int limit() const;
    //! Throws std::invalid_argument if \a limit is negative.
    void setLimit(int limit);
    [[nodiscard]] int running() const;
    [[nodiscard]] int waiting() const;
    [[nodiscard]] qint64 completed() const;
    [[nodiscard]] qint64 failed() const;
    [[nodiscard]] qint64 cancelled() const;
    //!@}
    //! Whether shutdown() was called; new work then fails with ExecutionError.
    [[nodiscard]] bool isShutDown() const;
    //! The pool blocking work runs on: the one passed to the constructor, or
    //! QThreadPool::globalInstance().
    [[nodiscard]] QThreadPool *threadPool() const;

    //! Runs the work \a factory returns and yields its result.
    /*!
     * Throws TimeoutError when \a deadline passes first (time spent waiting for a slot
     * counts); the work's stop token is then requested and the work stays tracked until it
     * ends, its later failure reported like spawn()'s. A failure of the work is thrown as
     * ExecutionError with the cause nested.
     */
    template<detail::TaskFactory Factory>
    auto run(Factory factory, Deadline deadline = {})
        -> QCoro::Task<detail::FactoryResult<Factory>>;
    //! Awaits an already started \a task, with a deadline if one is given. QCoro tasks cannot be
    //! stopped: after TimeoutError the task stays tracked, and its later failure is still reported.
    template<typename T>
    QCoro::Task<T> run(QCoro::Task<T> task, Deadline deadline = {});

    //! Runs every factory of \a factories, at most \a options.limit at once, and yields their
    //! results in input order (nothing for Task<void> factories).
    /*!
     * Fail-fast: on the first failure nothing new starts, the running tasks are asked to stop
     * and awaited, then ExecutionError is thrown with the cause nested and the failing
     * index. No task outlives the call.
     */
    template<detail::FactoryRange Range>
    auto gather(Range factories, GatherOptions options = {}) -> QCoro::Task<
        detail::CollectResultT<detail::FactoryResult<std::ranges::range_value_t<Range>>>>;

    //! Awaits already started tasks of any result types, without a limit (they already run),
    //! and yields their results as a tuple in argument order (std::monostate for a
    //! Task<void>): mtaio's gather(*coroutines).
    /*!
     * Started tasks cannot be stopped, so every one is awaited to its end, also after a
     * failure; then the first failure (in the order the tasks ended) is thrown as
     * ExecutionError with the cause nested and the task's argument index. A limit needs work
     * that has not started: give factories to gather(Range, GatherOptions) for that. Resumes
     * on the awaiting thread (through its event loop when it had to wait).
     */
    template<typename... T>
    requires(sizeof...(T) > 0) static auto gather(QCoro::Task<T>... tasks)
        -> QCoro::Task<std::tuple<detail::ValueOrMonostate<T>...>>;

    //! As gather(), but runs every task to its end and yields each one's Outcome (value or
    //! exception) in input order: asyncio's return_exceptions=True, typed.
    template<detail::FactoryRange Range>
    auto gatherSettled(Range factories, GatherOptions options = {}) -> QCoro::Task<
        ResultList<Outcome<detail::FactoryResult<std::ranges::range_value_t<Range>>>>>;

    //! Calls \a func on the items of \a ranges zipped together (the shortest range wins) and
    //! yields the results in input order, at most \a options.limit in flight.
    /*!
     * If \a func returns an awaitable it runs on the event loop; otherwise each call runs on
     * the thread pool (as in mtaio). The inputs are consumed lazily, so a generated input of
     * millions of items runs in bounded memory. Fail-fast as gather().
     */
    template<typename Func, std::ranges::input_range... Ranges>
    requires(sizeof...(Ranges) > 0) auto map(Func func, GatherOptions options, Ranges... ranges)
        -> QCoro::Task<detail::CollectResultT<
            typename detail::MapResult<Func, std::ranges::range_reference_t<Ranges>...>::type>>;
    //! As map(func, options, ranges...) with default options.
    template<typename Func, std::ranges::input_range... Ranges>
    requires(sizeof...(Ranges) > 0) auto map(Func func, Ranges... ranges)
    {
        return map(std::move(func), GatherOptions{}, std::move(ranges)...);
    }
    //! As map(), yielding every call's Outcome instead of failing fast.
    template<typename Func, std::ranges::input_range... Ranges>
    requires(sizeof...(Ranges) > 0) auto mapSettled(Func func, GatherOptions options,
                                                    Ranges... ranges)
        -> QCoro::Task<ResultList<Outcome<
            typename detail::MapResult<Func, std::ranges::range_reference_t<Ranges>...>::type>>>;

    //! Streams the results of \a factories as they complete, each with its input index (at
    //! most \a options.limit running; GatherOptions::window does not apply).
    /*!
     * Yields Completed<T>: `index` (the factory's position in \a factories) and `value` (just
     * the index for Task<void> factories). Fail-fast as gather(): the failure is thrown from
     * the generator's increment. Destroying the generator early stops and releases the
     * remaining work. Resumes on the consuming thread.
     */
    template<detail::FactoryRange Range>
    QCoro::AsyncGenerator<Completed<detail::FactoryResult<std::ranges::range_value_t<Range>>>>
    asCompleted(Range factories, GatherOptions options = {});
    //! Streams the results of \a factories in input order.
    /*!
     * At most \a options.limit tasks run at once (<= 0: no per-call cap, as for gather()), and
     * at most \a options.window (default 16; <= 0: no bound) are running or buffered ahead of
     * the result the consumer waits for. Fail-fast as gather(); destroying the generator early
     * stops and releases the remaining work. Resumes on the consuming thread.
     */
    template<detail::FactoryRange Range>
    QCoro::AsyncGenerator<detail::FactoryResult<std::ranges::range_value_t<Range>>>
    inOrder(Range factories, GatherOptions options = {});

    //! Runs \a func(\a args...) on the executor's thread pool and yields its result on the
    //! awaiting thread. Arguments are taken by value (moved). If \a func takes a
    //! std::stop_token first, it is requested when the executor cancels. An exception thrown
    //! by \a func is thrown as ExecutionError with the cause nested. Calls wait in one FIFO
    //! per executor, drained by at most as many pool runnables as the pool has threads.
    template<typename Func, typename... Args>
    requires detail::ThreadCallable<Func, Args...>
    auto runInThread(Func func, Args... args) -> QCoro::Task<detail::ThreadResult<Func, Args...>>;

    //! Starts the work \a factory returns as a tracked task (mtaio's create_task) and returns
    //! its handle: await it, cancel it, or drop it for fire-and-forget. A failure is reported
    //! with taskFailed(), and with a qtaio.executor warning when nobody takes it from the
    //! handle. Throws ExecutionError when the executor is shut down.
    template<detail::TaskFactory Factory>
    TaskHandle<detail::FactoryResult<Factory>> spawn(Factory factory);

    //! Requests stop on all tracked work and waits until none is left. Running gather(), map()
    //! and stream calls start no further tasks; their awaiters get CancelledError. Resumes on
    //! the awaiting thread through its event loop.
    /*!
     * Called inside a task of this executor, it requests that task's stop too, but does not
     * wait for it, nor for the tasks that started it one from another (the task that called
     * gather() for an item, the one that spawned or ran that one, ...), which cannot end before
     * it returns when they await it: it returns once every other task has ended. "Inside" is
     * the thread's task context: the task's own code up to its first await of something other
     * than QtAio (a QTimer, a network reply; QtAio does not see their resumption), and any
     * code that runs synchronously from it, such as a slot of a signal the task's code emits.
     * To wait for everything from such a slot, call it from the event loop instead (a queued
     * call). It still waits for a task that awaits the caller without having started it: one
     * that awaits a started QCoro::Task given to run(), or a task of another executor (awaited
     * there, forever).
     */
    QCoro::Task<> cancelAll();
    //! Refuses new work from now on (ExecutionError), then as cancelAll() (inside a task too).
    QCoro::Task<> shutdown();

    //! \cond INTERNAL
    // Misuse: one readable diagnostic instead of a list of candidates that do not fit.
    template<typename NotAFactory, typename... Timeout>
    requires(!detail::TaskFactory<std::decay_t<NotAFactory>> &&
             !detail::IsQCoroTask<NotAFactory>) detail::Misused run(NotAFactory &&, Timeout &&...)
    {
        static_assert(detail::alwaysFalse<NotAFactory>,
                      "TaskExecutor::run takes a factory (a callable returning an awaitable, "
                      "optionally taking a std::stop_token) or a QCoro::Task");
        return {};
    }
    template<detail::NotFactoryRange Range, typename... Options>
    detail::Misused gather(Range &&, Options &&...)
    {
        static_assert(detail::alwaysFalse<Range>,
                      "TaskExecutor::gather takes a range of factories, not started tasks: wrap "
                      "each task in a lambda that starts it (a callable returning an awaitable, "
                      "optionally taking a std::stop_token)");
        return {};
    }
    template<detail::NotFactoryRange Range, typename... Options>
    detail::Misused gatherSettled(Range &&, Options &&...)
    {
        static_assert(detail::alwaysFalse<Range>,
                      "TaskExecutor::gatherSettled takes a range of factories, not started "
                      "tasks: wrap each task in a lambda that starts it");
        return {};
    }
    template<detail::NotFactoryRange Range, typename... Options>
    detail::Misused asCompleted(Range &&, Options &&...)
    {
        static_assert(detail::alwaysFalse<Range>,
                      "TaskExecutor::asCompleted takes a range of factories, not started tasks: "
                      "wrap each task in a lambda that starts it");
        return {};
    }
    template<detail::NotFactoryRange Range, typename... Options>
    detail::Misused inOrder(Range &&, Options &&...)
    {
        static_assert(detail::alwaysFalse<Range>,
                      "TaskExecutor::inOrder takes a range of factories, not started tasks: "
                      "wrap each task in a lambda that starts it");
        return {};
    }
    template<typename NotAFactory>
    requires(!detail::TaskFactory<std::decay_t<NotAFactory>>) detail::Misused spawn(NotAFactory &&)
    {
        static_assert(detail::alwaysFalse<NotAFactory>,
                      "TaskExecutor::spawn takes a factory (a callable returning an awaitable, "
                      "optionally taking a std::stop_token), not a started task");
        return {};
    }
    template<typename Func, typename... Args>
    requires(!detail::ThreadCallable<std::decay_t<Func>, std::decay_t<Args>...>) detail::Misused
        runInThread(Func &&, Args &&...)
    {
        static_assert(detail::alwaysFalse<Func>,
                      "TaskExecutor::runInThread takes a function callable with the given "
                      "arguments (moved), optionally after a std::stop_token");
        return {};
    }
    //! \endcond

Q_SIGNALS:
    //! \name Change signals
    //!@{

    //! Emitted in the home thread when the property of the same name changes.
    /*! Coalesced (one emission carrying the latest value) when the change was made on another
     * thread. */
    void limitChanged(int limit, QPrivateSignal);
    void runningChanged(int running, QPrivateSignal);
    void waitingChanged(int waiting, QPrivateSignal);
    void completedChanged(qint64 completed, QPrivateSignal);
    void failedChanged(qint64 failed, QPrivateSignal);
    void cancelledChanged(qint64 cancelled, QPrivateSignal);
    //!@}
    //! A task got its slot and started.
    void taskStarted(quint64 id, QPrivateSignal);
    //! A task ended successfully.
    void taskCompleted(quint64 id, QPrivateSignal);
    //! A task ended with an exception; \a message is its what().
    void taskFailed(quint64 id, const QString &message, QPrivateSignal);
    //! A task ended with CancelledError.
    void taskCancelled(quint64 id, QPrivateSignal);
    //! The last tracked task ended.
    void idle(QPrivateSignal);

protected:
    //! \cond INTERNAL
    bool event(QEvent *event) override;
    void connectNotify(const QMetaMethod &signal) override;
    void disconnectNotify(const QMetaMethod &signal) override;
    //! \endcond

private:
    friend class detail::ExecutorCore;
    void emitChanges();

    // Shared with tracked work, which may outlive the executor object.
    const std::shared_ptr<detail::ExecutorCore> d;
};

} // namespace QtAio

#include <qtaio/detail/taskexecutor_impl.h>
