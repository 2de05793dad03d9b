// SPDX-License-Identifier: MIT
#pragma once

// The untyped, shared state of a TaskExecutor: task tracking, counters, the executor-wide
// limit and the signals' bookkeeping. It outlives the TaskExecutor object while tracked work
// is still running, so that destroying an executor never blocks and never dangles.

#include <qtaio/detail/waitcore.h>
#include <qtaio/qtaiocore_export.h>

#include <QtCore/QString>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <stop_token>
#include <unordered_map>
#include <utility>
#include <vector>

QT_BEGIN_NAMESPACE
class QThreadPool;
QT_END_NAMESPACE

namespace QtAio::detail {

//! Receives the failure of a tracked task. fail() returns false when nobody will see the
//! error (nobody awaits it any more); the executor then reports it as unhandled.
class QTAIO_CORE_EXPORT TaskSink {
public:
    virtual ~TaskSink();
    virtual bool fail(std::size_t index, std::exception_ptr error) noexcept = 0;
};

//! A call queued for the thread pool by ExecutorCore::submit(). Intrusive: it lives wherever
//! its submitter keeps it (the awaiting coroutine's frame) until run() has signalled its end.
class QTAIO_CORE_EXPORT PoolTask {
public:
    PoolTask() = default;
    PoolTask(const PoolTask &) = delete;
    PoolTask &operator=(const PoolTask &) = delete;

    //! Runs the call on a pool thread. The last thing it does is to signal its end, after
    //! which the task may be gone.
    virtual void run() noexcept = 0;

protected:
    virtual ~PoolTask() = default;

private:
    friend class ExecutorCore;
    PoolTask *m_nextTask = nullptr;
};

//! A task's entry in its executor's list of tracked work. It lives in the task's own coroutine
//! frame (in its TaskScope), linked from registerTask() until taskEnded().
struct TrackedTask {
    std::stop_source stop;
    quint64 id = 0;
    //! It got its slot (or shares its parent's). Written under the core's mutex; read by the
    //! task's own coroutine, which the slot's hand-over resumes.
    bool started = false;
    //! Started from inside a running task of the same executor: it runs in that task's slot,
    //! counted in neither `running` nor `waiting` (so nesting cannot deadlock under a limit).
    bool nested = false;
    //! The order in which it started among the executor's tasks (see runningStarts()).
    quint64 startNumber = 0;
    //! The id of the task of the same executor whose code registered it (the thread's task
    //! context then), 0 if none: a task that may await this one (see IdleWait).
    quint64 parent = 0;
    TrackedTask *prev = nullptr;
    TrackedTask *next = nullptr;
};

class QTAIO_CORE_EXPORT ExecutorCore final : public WaitCore,
                                             public std::enable_shared_from_this<ExecutorCore> {
public:
    using TaskId = quint64;

    explicit ExecutorCore(QThreadPool *pool);
    ~ExecutorCore() override;

    //! A number no other executor of the process has (see TaskContext).
    [[nodiscard]] quint64 serial() const noexcept { return m_serial; }
    //! The task context of the task \a id of this executor.
    [[nodiscard]] TaskContext contextOf(TaskId id) const noexcept { return {this, m_serial, id}; }

    //! Registers \a task and gives it its id. Sets task.started when the task started at once
    //! (the executor's limit has room and nobody waits for a slot, or \a mayNest and the caller
    //! is a task of this executor, whose slot it shares); otherwise it is waiting, and awaits
    //! SlotWait before it runs. Throws ExecutionError naming \a operation when the executor is
    //! shut down.
    void registerTask(TrackedTask &task, const char *operation, bool mayNest);
    //! The task ended, however: success (\a error null), failure or cancellation. Reports a
    //! failure to \a sink, or as unhandled (taskFailed + a qtaio.executor warning) when no sink
    //! takes it.
    void taskEnded(TrackedTask &task, std::exception_ptr error, TaskSink *sink,
                   std::size_t index) noexcept;
    //! Ends \a task, which succeeded, and registers it again as the next task, with a new id,
    //! in one step: the executor's counters and signals see one task end and the next one start.
    //! Returns false when the next task cannot start at once (the executor is at its limit, a
    //! task waits for a slot ahead of it: FIFO, or it is shut down); then \a task is only ended
    //! and the next one registers with registerTask(). For tasks that run to their end without
    //! suspending, one after the other (a call's items, see SourceLauncher).
    bool endAndRestartTask(TrackedTask &task) noexcept;
    //! Moves the registration of \a from, a task that is not waiting for a slot, to \a to (a
    //! coroutine frame that takes the task over), whose stop becomes \a stop.
    void adoptTask(TrackedTask &from, TrackedTask &to, std::stop_source stop) noexcept;

    //! How many items one task ran (map() of a plain function runs its items in blocks).
    struct ItemCounts {
        qint64 completed = 0;
        qint64 failed = 0;
        qint64 cancelled = 0;
    };
    //! A task that ran a block of items ended: counts each item in `completed`, `failed` and
    //! `cancelled` at once. Its task signal is taskFailed (with \a failure, the first item's
    //! error) when an item failed, taskCancelled when it ran none, taskCompleted otherwise. The
    //! caller handles the items' failures itself.
    void blockEnded(TrackedTask &task, ItemCounts items, std::exception_ptr failure) noexcept;

    //! Registers a running gather()/map()/stream call, so that stopAll() also stops it from
    //! starting more tasks. Returns a key for unregisterCall().
    quint64 registerCall(const std::stop_source &stop);
    void unregisterCall(quint64 key);

    //! Requests stop on every tracked task and every registered call.
    void stopAll();
    //! Refuses new work from now on.
    void shutDown();

    //! For an inspector: the start number the next task will get, and the smallest start
    //! number of a task still running (-1: none runs), which is the one running longest.
    //! Takes the mutex; walks the tracked tasks.
    [[nodiscard]] std::pair<quint64, qint64> runningStarts();

    //! Queues \a task for the thread pool. Thread-safe.
    /*!
     * The tasks of one executor share a FIFO that a few pool runnables (as many as the pool
     * has threads, at most) drain one task after another, so that a burst of calls costs no
     * QThreadPool::start() and no thread wake-up per call. A drainer that has run for a while
     * hands its thread back to the pool and queues a fresh drainer behind the pool's other work.
     */
    void submit(PoolTask *task);

    //! The executor-wide limit (0 = unlimited).
    [[nodiscard]] int limit() const;
    [[nodiscard]] int limitLocked() const noexcept { return m_limit; }
    void setLimit(int limit);
    [[nodiscard]] QThreadPool *pool() const noexcept { return m_pool; }

    //! Awaitable of a waiting task: completes when the task got a slot under the executor's
    //! limit (waiting tasks start in FIFO order); throws CancelledError when \a stop is
    //! requested first (the task then ends without having run).
    class QTAIO_CORE_EXPORT SlotWait : public WaitOperation {
    public:
        SlotWait(ExecutorCore *core, TrackedTask *task, std::stop_token stop) noexcept
            : WaitOperation({std::move(stop), QDeadlineTimer(QDeadlineTimer::Forever)}),
              m_core(core), m_task(task)
        {
        }
        SlotWait(const SlotWait &other) noexcept
            : WaitOperation(other), m_core(other.m_core), m_task(other.m_task)
        {
        }
        bool await_ready();
        bool await_suspend(std::coroutine_handle<> handle);
        void await_resume();

    private:
        friend class ExecutorCore;
        ExecutorCore *m_core;
        TrackedTask *m_task;
    };

    //! Awaitable: completes when no tracked task is left, but for the tasks that cannot end
    //! before the awaiter goes on: when \a caller (the calling thread's task context, see
    //! currentTask()) is a task of this executor, that task and the tasks that registered it,
    //! one from another (its parent, the parent's parent, ...), which may be awaiting it.
    class QTAIO_CORE_EXPORT IdleWait : public WaitOperation {
    public:
        IdleWait(std::shared_ptr<ExecutorCore> core, TaskContext caller) noexcept
            : WaitOperation({}), m_core(std::move(core)),
              m_caller(caller.executorSerial == m_core->serial() ? caller.task : 0)
        {
        }
        bool await_ready();
        bool await_suspend(std::coroutine_handle<> handle);
        void await_resume();

    private:
        friend class ExecutorCore;
        //! Takes m_caller's chain into m_exempt (in await_ready()). With the mutex held.
        void takeExemptLocked();
        //! Whether only exempt tasks are left. With the mutex held.
        [[nodiscard]] bool idleLocked() const noexcept;

        std::shared_ptr<ExecutorCore> m_core;
        TaskId m_caller;
        std::vector<TaskId> m_exempt; //!< m_caller and the tasks that registered it, in turn
    };

    // Guarded by mutex.
    int running = 0;
    int waiting = 0;
    // 64 bits: an executor that runs for days ends billions of tasks.
    qint64 completed = 0;
    qint64 failed = 0;
    qint64 cancelled = 0;
    bool isShutDown = false;

    //! Task events waiting to be emitted in the home thread, in order.
    struct Event {
        enum Kind { Started, Completed, Failed, Cancelled, Idle } kind;
        TaskId id;
        QString message;
    };
    std::vector<Event> events;
    //! The executor's observable values, as read for a report and as last emitted.
    struct Observed {
        int limit = 0, running = 0, waiting = 0;
        qint64 completed = 0, failed = 0, cancelled = 0;
    };
    Observed emitted; // home thread only

    void flush() override;

protected:
    void discardPendingEventsLocked() override { events.clear(); }

private:
    class Drainer;
    //! How long a drainer runs tasks before it lets the pool's other work have the thread.
    static constexpr qint64 drainTurnMs = 10;
    //! Runs queued tasks on a pool thread until none is left or its turn is over.
    void drain();
    //! How long a drainer that found no task waits for the next one while a call launches.
    static constexpr auto lingerBudget = std::chrono::microseconds(20);
    //! In drain(), with \a lock held and no task queued: while a call is launching items
    //! (m_launchingCalls), waits up to lingerBudget for the next task to be submitted instead of
    //! leaving (submit() would then start a drainer again through the pool, a wake-up of a pool
    //! thread per item). Returns with \a lock held, whether a task is queued now.
    bool lingerLocked(std::unique_lock<std::mutex> &lock);
    //! Queues a new drainer (counted by the caller) on the pool; uncounts it if that throws.
    void startDrainer();
    //! A drainer was deleted by the pool without having run (QThreadPool::clear()).
    void drainerDropped() noexcept;
    void startDrainerIfNeeded();
    void unlinkLocked(TrackedTask &task) noexcept;
    //! The common end of taskEnded() and blockEnded(): frees the task's slot, counts its items,
    //! queues its signal and wakes what waits for idle.
    void end(TrackedTask &task, Event::Kind kind, const QString &message,
             ItemCounts items) noexcept;
    //! After a task's end with the mutex held: admits waiting tasks into the free slot and
    //! releases the idle waiters when no task is left.
    void afterEndLocked(WakeList &wake);

    const quint64 m_serial;
    TaskId m_nextId = 1;
    quint64 m_nextStart = 0; // the next TrackedTask::startNumber
    //! Whether the limit lets one more task run. With the mutex held.
    [[nodiscard]] bool hasRoomLocked() const noexcept { return m_limit == 0 || running < m_limit; }
    //! Starts \a task (waiting until now). With the mutex held.
    void startLocked(TrackedTask &task);
    //! Starts waiting tasks while the limit has room. With the mutex held.
    void admitWaitersLocked(WakeList &wake);

    TrackedTask *m_tracked = nullptr; // head of the list of tracked tasks
    WaitList m_slotWaiters;           // tasks waiting for a slot (SlotWait)
    std::unordered_map<quint64, std::stop_source> m_calls;
    quint64 m_nextCall = 1;
    WaitList m_idleWaiters;
    int m_limit = 0;
    QThreadPool *m_pool;

    std::mutex m_tasksMutex; // guards the pool FIFO and the drainer counts
    PoolTask *m_tasksHead = nullptr;
    PoolTask *m_tasksTail = nullptr;
    int m_tasksQueued = 0;
    int m_drainers = 0;
    int m_busyDrainers = 0; // running a task
    int m_maxDrainers = 1;
    //! Counts submit()'s calls, for a lingering drainer to see one without the lock.
    std::atomic<quint32> m_submissions{0};
    //! The calls registered (registerCall()): their launch loops run, so more tasks may come.
    std::atomic<int> m_launchingCalls{0};
};

} // namespace QtAio::detail
