// SPDX-License-Identifier: MIT
#include <qtaio/taskexecutor.h>

#include <qtaio/inspection.h>

#include "waitcore_p.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QEvent>
#include <QtCore/QMetaMethod>
#include <QtCore/QLoggingCategory>
#include <QtCore/QRunnable>
#include <QtCore/QThreadPool>

#include <algorithm>
#include <stdexcept>
#include <string>

Q_LOGGING_CATEGORY(lcExecutor, "qtaio.executor", QtWarningMsg)

namespace QtAio {

namespace detail {

namespace {

QString describe(const std::exception_ptr &error)
{
    try {
        std::rethrow_exception(error);
    } catch (const std::exception &e) {
        return QString::fromUtf8(e.what());
    } catch (...) {
        return QStringLiteral("unknown exception");
    }
}

bool isCancellation(const std::exception_ptr &error)
{
    try {
        std::rethrow_exception(error);
    } catch (const CancelledError &) {
        return true;
    } catch (...) {
        return false;
    }
}
} // namespace

TaskSink::~TaskSink() = default;

void reportUntakenFailure(quint64 id, std::exception_ptr error) noexcept
{
    if (isCancellation(error))
        return; // a cancellation is no failure to report
    qCWarning(lcExecutor, "task %llu failed and nobody awaits it: %s",
              static_cast<unsigned long long>(id), qUtf8Printable(describe(error)));
}

namespace {
std::atomic<quint64> executorSerials{0};
} // namespace

ExecutorCore::ExecutorCore(QThreadPool *pool)
    : m_serial(executorSerials.fetch_add(1, std::memory_order_relaxed) + 1),
      m_pool(pool ? pool : QThreadPool::globalInstance())
{
}

ExecutorCore::~ExecutorCore() = default;

void ExecutorCore::registerTask(TrackedTask &task, const char *operation, bool mayNest)
{
    bool flushNow = false;
    bool started = false;
    const TaskContext context = currentTask();
    task.started = false;
    const bool inOwnTask = context.executorSerial == m_serial; // never a reused address
    task.nested = mayNest && inOwnTask;
    task.parent = inOwnTask ? context.task : 0;
    {
        const auto lock = this->lock();
        if (isShutDown) {
            throw ExecutionError(std::string(operation) +
                                 ": the executor is shut down and accepts no new work");
        }
        task.id = m_nextId++;
        task.prev = nullptr;
        task.next = m_tracked;
        if (m_tracked)
            m_tracked->prev = &task;
        m_tracked = &task;
        if (task.nested) {
            started = task.started = true; // in the slot of the task that started it
            task.startNumber = m_nextStart++;
            if (hasReceiversLocked())
                events.push_back({Event::Started, task.id, {}});
        } else {
            ++waiting;
            // Straight to running when the limit has room and nobody waits ahead (FIFO).
            started = m_slotWaiters.isEmpty() && hasRoomLocked();
            if (started)
                startLocked(task);
        }
        flushNow = markChangedLocked();
    }
    if (!flushNow)
        return;
    try {
        flush();
    } catch (...) {
        // A slot threw: the task is not registered after all, so nothing refers to it when
        // its frame goes.
        WakeList wake;
        {
            const auto lock = this->lock();
            unlinkLocked(task);
            if (!task.nested) { // a nested task had no slot of its own
                if (started) {
                    --running;
                    admitWaitersLocked(wake);
                } else {
                    --waiting;
                }
            }
        }
        throw;
    }
}

void ExecutorCore::startLocked(TrackedTask &task)
{
    task.started = true;
    task.startNumber = m_nextStart++;
    --waiting;
    ++running;
    if (hasReceiversLocked())
        events.push_back({Event::Started, task.id, {}});
}

void ExecutorCore::admitWaitersLocked(WakeList &wake)
{
    while (!m_slotWaiters.isEmpty() && hasRoomLocked()) {
        auto *waiter = static_cast<SlotWait *>(m_slotWaiters.popFront());
        startLocked(*waiter->m_task);
        waiter->status = WaitStatus::Completed;
        wake.add(waiter);
    }
}

std::pair<quint64, qint64> ExecutorCore::runningStarts()
{
    const auto lock = this->lock();
    qint64 oldest = -1;
    for (const TrackedTask *task = m_tracked; task; task = task->next) {
        if (task->started && (oldest < 0 || qint64(task->startNumber) < oldest))
            oldest = qint64(task->startNumber);
    }
    return {m_nextStart, oldest};
}

void ExecutorCore::unlinkLocked(TrackedTask &task) noexcept
{
    if (task.prev)
        task.prev->next = task.next;
    else
        m_tracked = task.next;
    if (task.next)
        task.next->prev = task.prev;
    task.prev = task.next = nullptr;
}

void ExecutorCore::taskEnded(TrackedTask &task, std::exception_ptr error, TaskSink *sink,
                             std::size_t index) noexcept
{
    const TaskId id = task.id;
    const bool wasCancelled = error && isCancellation(error);
    const bool handled = error && sink && sink->fail(index, error);
    QString message;
    if (error)
        message = describe(error);
    if (error && !handled && !wasCancelled) {
        qCWarning(lcExecutor, "task %llu failed and nobody awaits it: %s",
                  static_cast<unsigned long long>(id), qUtf8Printable(message));
    }
    Event::Kind kind = Event::Completed;
    ItemCounts items{1, 0, 0};
    if (wasCancelled) {
        kind = Event::Cancelled;
        items = {0, 0, 1};
    } else if (error) {
        kind = Event::Failed;
        items = {0, 1, 0};
    }
    end(task, kind, message, items);
}

void ExecutorCore::blockEnded(TrackedTask &task, ItemCounts items,
                              std::exception_ptr failure) noexcept
{
    const QString message = failure ? describe(failure) : QString();
    Event::Kind kind = Event::Completed;
    if (items.failed > 0)
        kind = Event::Failed;
    else if (items.completed == 0)
        kind = Event::Cancelled;
    end(task, kind, message, items);
}

void ExecutorCore::end(TrackedTask &task, Event::Kind kind, const QString &message,
                       ItemCounts items) noexcept
{
    WakeList wake; // wakes after the flush (declared first, destroyed last)
    const auto flushNow = [&] {
        const auto lock = this->lock();
        if (!task.nested) { // a nested task had no slot of its own
            if (task.started)
                --running;
            else
                --waiting;
        }
        completed += items.completed;
        failed += items.failed;
        cancelled += items.cancelled;
        if (hasReceiversLocked())
            events.push_back({kind, task.id, message});
        unlinkLocked(task);
        afterEndLocked(wake);
        return markChangedLocked();
    }();
    if (flushNow)
        flush();
}

void ExecutorCore::afterEndLocked(WakeList &wake)
{
    admitWaitersLocked(wake); // its slot goes to the next waiting task
    if (!m_tracked && hasReceiversLocked())
        events.push_back({Event::Idle, 0, {}});
    // An idle wait made inside a task leaves out that task and the ones that may await it.
    for (Waiter *w = m_idleWaiters.front(); w;) {
        Waiter *next = w->m_next;
        if (static_cast<IdleWait *>(w)->idleLocked()) {
            m_idleWaiters.remove(w);
            w->status = WaitStatus::Completed;
            wake.add(w);
        }
        w = next;
    }
}

bool ExecutorCore::endAndRestartTask(TrackedTask &task) noexcept
{
    WakeList wake;
    bool flushNow = false;
    bool restarted = false;
    {
        const auto lock = this->lock();
        ++completed;
        if (!task.nested)
            --running;
        const bool receivers = hasReceiversLocked();
        if (receivers)
            events.push_back({Event::Completed, task.id, {}});
        // FIFO: a slot that a waiting task can take goes to it, and the next task waits.
        if (!isShutDown && (task.nested || (m_slotWaiters.isEmpty() && hasRoomLocked()))) {
            restarted = true;
            task.id = m_nextId++; // still linked, still started
            task.startNumber = m_nextStart++;
            if (!task.nested)
                ++running;
            if (receivers)
                events.push_back({Event::Started, task.id, {}});
        } else {
            unlinkLocked(task);
            afterEndLocked(wake);
        }
        flushNow = markChangedLocked();
    }
    if (flushNow)
        flush();
    return restarted;
}

void ExecutorCore::adoptTask(TrackedTask &from, TrackedTask &to, std::stop_source stop) noexcept
{
    const auto lock = this->lock();
    // Under the lock: stopAll() reads the links and the stop of every tracked task.
    to.stop = std::move(stop);
    to.id = from.id;
    to.started = from.started;
    to.startNumber = from.startNumber;
    to.nested = from.nested;
    to.parent = from.parent;
    to.prev = from.prev;
    to.next = from.next;
    if (to.prev)
        to.prev->next = &to;
    else
        m_tracked = &to;
    if (to.next)
        to.next->prev = &to;
    from.prev = from.next = nullptr;
}

quint64 ExecutorCore::registerCall(const std::stop_source &stop)
{
    const auto lock = this->lock();
    const quint64 key = m_nextCall++;
    m_calls.emplace(key, stop);
    m_launchingCalls.fetch_add(1, std::memory_order_relaxed);
    return key;
}

void ExecutorCore::unregisterCall(quint64 key)
{
    const auto lock = this->lock();
    m_calls.erase(key);
    m_launchingCalls.fetch_sub(1, std::memory_order_relaxed);
}

void ExecutorCore::stopAll()
{
    std::vector<std::stop_source> sources;
    {
        const auto lock = this->lock();
        // Calls first, so that none of them starts a task after its running ones were stopped.
        for (auto &entry : m_calls)
            sources.push_back(entry.second);
        for (TrackedTask *task = m_tracked; task; task = task->next)
            sources.push_back(task->stop);
    }
    // Outside the lock: stop callbacks run inline and may finish tasks.
    for (auto &source : sources)
        source.request_stop();
}

void ExecutorCore::shutDown()
{
    const auto lock = this->lock();
    isShutDown = true;
}

int ExecutorCore::limit() const
{
    const auto lock = this->lock();
    return m_limit;
}

void ExecutorCore::setLimit(int limit)
{
    if (limit < 0) {
        throw std::invalid_argument("TaskExecutor::setLimit: limit must not be negative, got " +
                                    std::to_string(limit));
    }
    WakeList wake; // wakes after the flush (declared first, destroyed last)
    bool flushNow = false;
    {
        const auto lock = this->lock();
        if (m_limit == limit)
            return;
        m_limit = limit;
        admitWaitersLocked(wake); // a higher limit (or none) starts waiting tasks at once
        flushNow = markChangedLocked();
    }
    if (flushNow)
        flush();
}

class ExecutorCore::Drainer final : public QRunnable {
public:
    explicit Drainer(std::shared_ptr<ExecutorCore> core) : m_core(std::move(core))
    {
        setAutoDelete(true);
    }
    ~Drainer() override
    {
        if (!m_ran)
            m_core->drainerDropped(); // QThreadPool::clear() deleted it before it ran
    }
    void run() override
    {
        m_ran = true;
        m_core->drain();
    }

private:
    std::shared_ptr<ExecutorCore> m_core;
    bool m_ran = false;
};

void ExecutorCore::drainerDropped() noexcept
{
    bool restart = false;
    {
        std::scoped_lock lock(m_tasksMutex);
        --m_drainers;
        restart = m_tasksHead && m_drainers == 0;
    }
    if (!restart)
        return;
    // Not from here: the pool may hold its own lock while it deletes its queue. The pool's
    // thread starts a drainer for the tasks left (or the next submit() does).
    QMetaObject::invokeMethod(
        m_pool, [core = shared_from_this()] { core->startDrainerIfNeeded(); },
        Qt::QueuedConnection);
}

void ExecutorCore::startDrainerIfNeeded()
{
    {
        std::scoped_lock lock(m_tasksMutex);
        if (!m_tasksHead || m_drainers > 0)
            return;
        ++m_drainers;
    }
    startDrainer();
}

void ExecutorCore::startDrainer()
{
    try {
        m_pool->start(new Drainer(shared_from_this()));
    } catch (...) {
        std::scoped_lock lock(m_tasksMutex);
        --m_drainers;
        throw;
    }
}

void ExecutorCore::submit(PoolTask *task)
{
    bool needDrainer = false;
    {
        std::scoped_lock lock(m_tasksMutex);
        task->m_nextTask = nullptr;
        if (m_tasksTail)
            m_tasksTail->m_nextTask = task;
        else
            m_tasksHead = task;
        m_tasksTail = task;
        ++m_tasksQueued;
        m_submissions.fetch_add(1, std::memory_order_relaxed);
        if (m_drainers == 0)
            m_maxDrainers = std::max(1, m_pool->maxThreadCount());
        // Another drainer while more tasks wait than drainers are free to take them (one may
        // be stuck in a long call), up to the pool's size.
        if (m_drainers < m_maxDrainers && m_tasksQueued > m_drainers - m_busyDrainers) {
            ++m_drainers;
            needDrainer = true;
        }
    }
    if (!needDrainer)
        return;
    try {
        startDrainer();
    } catch (...) {
        // Out of memory: withdraw the task unless a drainer has taken it already (then it
        // runs, and its submitter must wait for it rather than see an exception).
        std::scoped_lock lock(m_tasksMutex);
        PoolTask **link = &m_tasksHead;
        PoolTask *previous = nullptr;
        while (*link && *link != task) {
            previous = *link;
            link = &(*link)->m_nextTask;
        }
        if (!*link)
            return;
        *link = task->m_nextTask;
        if (m_tasksTail == task)
            m_tasksTail = previous;
        --m_tasksQueued;
        throw;
    }
}

void ExecutorCore::drain()
{
    QElapsedTimer turn;
    turn.start();
    std::unique_lock lock(m_tasksMutex);
    while (m_tasksHead || lingerLocked(lock)) {
        PoolTask *task = m_tasksHead;
        m_tasksHead = task->m_nextTask;
        if (!m_tasksHead)
            m_tasksTail = nullptr;
        --m_tasksQueued;
        ++m_busyDrainers;
        lock.unlock();
        task->run(); // may be gone from here on
        lock.lock();
        --m_busyDrainers;
        if (m_tasksHead && turn.hasExpired(drainTurnMs)) {
            lock.unlock();
            // Behind whatever else waits for the pool; this drainer's count carries over.
            try {
                m_pool->start(new Drainer(shared_from_this()));
                return;
            } catch (...) {
                // Out of memory: this drainer goes on instead.
            }
            turn.restart();
            lock.lock();
        }
    }
    --m_drainers;
}

bool ExecutorCore::lingerLocked(std::unique_lock<std::mutex> &lock)
{
    // A launch loop submits its items' calls one by one, each a few hundred nanoseconds after
    // the last; a drainer that runs them faster than they come would leave after nearly every
    // one. While a call launches, it waits briefly for the next instead. Still counted as a
    // drainer, not a busy one, it keeps submit() from starting another for a single task.
    if (m_launchingCalls.load(std::memory_order_relaxed) == 0)
        return false;
    const quint32 seen = m_submissions.load(std::memory_order_relaxed);
    lock.unlock();
    spinUntil(lingerBudget, [&] {
        return m_submissions.load(std::memory_order_relaxed) != seen ||
               m_launchingCalls.load(std::memory_order_relaxed) == 0;
    });
    lock.lock();
    return m_tasksHead != nullptr;
}

void ExecutorCore::flush()
{
    static_cast<TaskExecutor *>(ownerOnHomeThread())->emitChanges();
}

bool ExecutorCore::SlotWait::await_ready()
{
    bool flushNow = false;
    {
        const auto lock = m_core->lock();
        if (!m_core->m_slotWaiters.isEmpty() || !m_core->hasRoomLocked())
            return false;
        m_core->startLocked(*m_task);
        status = WaitStatus::Completed;
        flushNow = m_core->markChangedLocked();
    }
    if (flushNow)
        m_core->flush();
    return true;
}

bool ExecutorCore::SlotWait::await_suspend(std::coroutine_handle<> handle)
{
    bool suspended = false;
    bool flushNow = false;
    {
        const auto lock = m_core->lock();
        if (m_core->m_slotWaiters.isEmpty() && m_core->hasRoomLocked()) {
            m_core->startLocked(*m_task); // a slot came free since await_ready()
            status = WaitStatus::Completed;
            flushNow = m_core->markChangedLocked();
        } else {
            // false: its stop was requested already, and it ends as Cancelled
            suspended = enqueueLocked(m_core->shared_from_this(), m_core->m_slotWaiters, handle);
        }
    }
    if (flushNow)
        m_core->flush();
    if (suspended)
        arm();
    return suspended;
}

void ExecutorCore::SlotWait::await_resume()
{
    disarm();
    if (status != WaitStatus::Completed)
        throwFor(status, "TaskExecutor: waiting for a slot under the limit");
}

void ExecutorCore::IdleWait::takeExemptLocked()
{
    // The caller, then whoever registered it, while they are tracked. By id: a parent that
    // ended is not followed (its id is not found), and ids are never reused.
    for (TaskId id = m_caller; id != 0;) {
        const TrackedTask *task = m_core->m_tracked;
        while (task && task->id != id)
            task = task->next;
        if (!task || std::find(m_exempt.begin(), m_exempt.end(), id) != m_exempt.end())
            break;
        m_exempt.push_back(id);
        id = task->parent;
    }
}

bool ExecutorCore::IdleWait::idleLocked() const noexcept
{
    for (const TrackedTask *task = m_core->m_tracked; task; task = task->next) {
        if (std::find(m_exempt.begin(), m_exempt.end(), task->id) == m_exempt.end())
            return false;
    }
    return true;
}

bool ExecutorCore::IdleWait::await_ready()
{
    const auto lock = m_core->lock();
    takeExemptLocked(); // once, before the wait is queued (it may throw std::bad_alloc)
    if (!idleLocked())
        return false;
    status = WaitStatus::Completed;
    return true;
}

bool ExecutorCore::IdleWait::await_suspend(std::coroutine_handle<> handle)
{
    {
        const auto lock = m_core->lock();
        if (idleLocked()) {
            status = WaitStatus::Completed;
            return false;
        }
        if (!enqueueLocked(m_core, m_core->m_idleWaiters, handle))
            return false;
    }
    arm();
    return true;
}

void ExecutorCore::IdleWait::await_resume()
{
    disarm();
    if (status != WaitStatus::Completed)
        throwFor(status, "TaskExecutor::cancelAll");
}

} // namespace detail

// ---------------------------------------------------------------------------------------------

TaskExecutor::TaskExecutor(QObject *parent) : TaskExecutor(nullptr, parent)
{
}

TaskExecutor::TaskExecutor(QThreadPool *pool, QObject *parent)
    : QObject(parent), d(std::make_shared<detail::ExecutorCore>(pool))
{
    d->attachOwner(this);
    // A lambda of a member function: it may read the private core.
    Inspection::add(this, Inspection::Kind::Executor, nullptr,
                    [](const QObject *object, Inspection::Details &details) {
                        const auto [next, oldest] =
                            static_cast<const TaskExecutor *>(object)->d->runningStarts();
                        details.numbered = true;
                        details.next = next;
                        details.oldestRunning = oldest;
                    });
}

TaskExecutor::~TaskExecutor()
{
    Inspection::remove(this);
    {
        const auto lock = d->lock();
        d->detachOwnerLocked();
        d->isShutDown = true;
    }
    // Never blocks: work that honours its stop token ends soon; work that ignores it runs to
    // its end, holding the shared core (and everything it owns) until then.
    d->stopAll();
}

int TaskExecutor::limit() const
{
    return d->limit();
}

void TaskExecutor::setLimit(int limit)
{
    d->setLimit(limit);
}

int TaskExecutor::running() const
{
    const auto lock = d->lock();
    return d->running;
}

int TaskExecutor::waiting() const
{
    const auto lock = d->lock();
    return d->waiting;
}

qint64 TaskExecutor::completed() const
{
    const auto lock = d->lock();
    return d->completed;
}

qint64 TaskExecutor::failed() const
{
    const auto lock = d->lock();
    return d->failed;
}

qint64 TaskExecutor::cancelled() const
{
    const auto lock = d->lock();
    return d->cancelled;
}

bool TaskExecutor::isShutDown() const
{
    const auto lock = d->lock();
    return d->isShutDown;
}

QThreadPool *TaskExecutor::threadPool() const
{
    return d->pool();
}

QCoro::Task<> TaskExecutor::cancelAll()
{
    auto core = d;
    const detail::TaskContext caller = detail::currentTask(); // before the first suspension
    core->stopAll();
    co_await detail::ExecutorCore::IdleWait(core, caller);
}

QCoro::Task<> TaskExecutor::shutdown()
{
    auto core = d;
    const detail::TaskContext caller = detail::currentTask();
    core->shutDown();
    core->stopAll();
    co_await detail::ExecutorCore::IdleWait(core, caller);
}

void TaskExecutor::connectNotify(const QMetaMethod &signal)
{
    d->receiverConnected(signal);
}

void TaskExecutor::disconnectNotify(const QMetaMethod &signal)
{
    d->receiverDisconnected(signal);
}

bool TaskExecutor::event(QEvent *event)
{
    return d->deliverFlush(event) || QObject::event(event);
}

void TaskExecutor::emitChanges()
{
    d->report.run([this](detail::ChangeReport &report) {
        std::vector<detail::ExecutorCore::Event> events;
        detail::ExecutorCore::Observed now;
        {
            const auto lock = d->lock();
            events.swap(d->events);
            now = {d->limitLocked(), d->running, d->waiting, d->completed, d->failed, d->cancelled};
        }
        bool becameIdle = false;
        for (const auto &e : events) {
            switch (e.kind) {
            case detail::ExecutorCore::Event::Started:
                Q_EMIT taskStarted(e.id, QPrivateSignal());
                break;
            case detail::ExecutorCore::Event::Completed:
                Q_EMIT taskCompleted(e.id, QPrivateSignal());
                break;
            case detail::ExecutorCore::Event::Failed:
                Q_EMIT taskFailed(e.id, e.message, QPrivateSignal());
                break;
            case detail::ExecutorCore::Event::Cancelled:
                Q_EMIT taskCancelled(e.id, QPrivateSignal());
                break;
            case detail::ExecutorCore::Event::Idle:
                becameIdle = true; // emitted below, after the counters
                break;
            }
        }
        auto &e = d->emitted;
        report.value(now.limit, e.limit, [&](int v) { Q_EMIT limitChanged(v, QPrivateSignal()); });
        report.value(now.running, e.running,
                     [&](int v) { Q_EMIT runningChanged(v, QPrivateSignal()); });
        report.value(now.waiting, e.waiting,
                     [&](int v) { Q_EMIT waitingChanged(v, QPrivateSignal()); });
        report.value(now.completed, e.completed,
                     [&](qint64 v) { Q_EMIT completedChanged(v, QPrivateSignal()); });
        report.value(now.failed, e.failed,
                     [&](qint64 v) { Q_EMIT failedChanged(v, QPrivateSignal()); });
        report.value(now.cancelled, e.cancelled,
                     [&](qint64 v) { Q_EMIT cancelledChanged(v, QPrivateSignal()); });
        if (becameIdle)
            Q_EMIT idle(QPrivateSignal());
    });
}

} // namespace QtAio
