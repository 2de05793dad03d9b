// SPDX-License-Identifier: MIT
#include "waitcore_p.h"

#include <qtaio/errors.h>

#include <QtCore/QAbstractEventDispatcher>
#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QEvent>
#include <QtCore/QMetaMethod>
#include <QtCore/QThread>
#include <QtCore/QTimerEvent>

#include <algorithm>
#include <stdexcept>
#include <system_error>
#include <string>
#include <utility>

namespace QtAio::detail {

namespace {

const QEvent::Type resumeEventType = static_cast<QEvent::Type>(QEvent::registerEventType());
const QEvent::Type flushEventTypeValue = static_cast<QEvent::Type>(QEvent::registerEventType());

thread_local Resumer *currentThreadResumer = nullptr;
Resumer *mainThreadResumer = nullptr;

void deleteMainThreadResumer()
{
    // Runs in QCoreApplication's destructor, in the main thread.
    Resumer::deleteForThread(mainThreadResumer);
    mainThreadResumer = nullptr;
    currentThreadResumer = nullptr;
}

} // namespace

// The task context lives in the thread's Resumer (a member, cheaper than a thread_local of a
// shared library on the resume path, which reads and writes it for every waiter).
const void *currentTaskContext() noexcept
{
    const Resumer *resumer = currentThreadResumer;
    return resumer ? resumer->taskContext().executor : nullptr;
}

TaskContext currentTask() noexcept
{
    const Resumer *resumer = currentThreadResumer;
    return resumer ? resumer->taskContext() : TaskContext{};
}

TaskContext exchangeTaskContext(TaskContext context) noexcept
{
    Resumer *resumer = currentThreadResumer;
    if (!resumer) {
        if (!context.executor)
            return {};
        try {
            resumer = Resumer::forCurrentThread();
        } catch (...) {
            return {}; // no event loop here: nothing could be nested in a task anyway
        }
    }
    return resumer->exchangeTaskContext(context);
}

TaskContext *taskContextSlot() noexcept
{
    Resumer *resumer = currentThreadResumer;
    if (!resumer) {
        try {
            resumer = Resumer::forCurrentThread();
        } catch (...) {
            return nullptr;
        }
    }
    return resumer->taskContextSlot();
}

void throwNaNTimeout()
{
    throw std::invalid_argument("QtAio: a timeout must be a number, got NaN");
}

bool threadSanitizerAnnotations() noexcept
{
#if defined(QTAIO_TSAN_ANNOTATIONS)
    return true;
#else
    return false;
#endif
}

// ---------------------------------------------------------------------------------------------
// Waiter, WaitList

void Waiter::wake() noexcept
{
    if (m_blocker) {
        m_blocker->release();
    } else {
        m_resumer->schedule(this);
    }
}

void WaitList::pushBack(Waiter *waiter) noexcept
{
    waiter->m_prev = m_tail;
    waiter->m_next = nullptr;
    if (m_tail)
        m_tail->m_next = waiter;
    else
        m_head = waiter;
    m_tail = waiter;
    ++m_size;
}

void WaitList::remove(Waiter *waiter) noexcept
{
    if (waiter->m_prev)
        waiter->m_prev->m_next = waiter->m_next;
    else
        m_head = waiter->m_next;
    if (waiter->m_next)
        waiter->m_next->m_prev = waiter->m_prev;
    else
        m_tail = waiter->m_prev;
    waiter->m_prev = waiter->m_next = nullptr;
    --m_size;
}

Waiter *WaitList::popFront() noexcept
{
    Waiter *waiter = m_head;
    if (waiter)
        remove(waiter);
    return waiter;
}

Waiter *WaitList::finishAll(WaitStatus status) noexcept
{
    // The chain reuses m_next; wakeChain() reads it before waking each waiter.
    Waiter *chain = m_head;
    for (Waiter *w = m_head; w; w = w->m_next)
        w->status = status;
    m_head = m_tail = nullptr;
    m_size = 0;
    return chain;
}

void wakeChain(Waiter *chain) noexcept
{
    while (chain) {
        Waiter *next = chain->m_next;
        chain->m_prev = chain->m_next = nullptr;
        chain->wake(); // may resume and destroy the waiter on another thread
        chain = next;
    }
}

void WakeList::add(Waiter *waiter) noexcept
{
    // Finished waiters are unlinked, so their list pointers are free to chain them here.
    waiter->m_next = nullptr;
    if (m_chainTail)
        m_chainTail->m_next = waiter;
    else
        m_chain = waiter;
    m_chainTail = waiter;
}

void WakeList::wakeAllSlow() noexcept
{
    Waiter *chain = m_chain;
    m_chain = m_chainTail = nullptr;
    wakeChain(chain);
}

// ---------------------------------------------------------------------------------------------
// WaitCore

WaitCore::~WaitCore() = default;

#if defined(__GLIBC__) && defined(PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP)
void CoreMutex::throwLockError(int error)
{
    throw std::system_error(error, std::generic_category(), "QtAio: locking a primitive's mutex");
}
#endif

void WaitCore::receiverConnected(const QMetaMethod &signal)
{
    if (!signal.isValid())
        return;
    std::scoped_lock lock(m_mutex);
    if (m_receivers++ == 0)
        discardPendingEventsLocked();
}

void WaitCore::receiverDisconnected(const QMetaMethod &signal)
{
    if (!signal.isValid())
        return;
    std::scoped_lock lock(m_mutex);
    if (m_receivers.load(std::memory_order_relaxed) > 0)
        m_receivers.fetch_sub(1, std::memory_order_relaxed);
}

bool WaitCore::markChangedSlow() noexcept
{
    if (m_owner->thread() == QThread::currentThread())
        return true;
    if (!m_flushPosted.exchange(true, std::memory_order_acq_rel)) {
        // Posted under the mutex: the owner cannot be destroyed meanwhile, because its
        // destructor clears it (detachOwnerLocked()) under the same mutex before QObject removes
        // its events.
        postHandOffEvent(m_owner, flushEventTypeValue);
    }
    return false;
}

bool WaitCore::deliverFlush(QEvent *event)
{
    QTAIO_TSAN_ACQUIRE(event); // (a no-op for events not posted by postHandOffEvent())
    if (event->type() != flushEventTypeValue)
        return false;
    m_flushPosted.store(false, std::memory_order_release);
    flush();
    return true;
}

// ---------------------------------------------------------------------------------------------
// Resumer

namespace {
std::atomic<qint64> maxTimerIntervalMs{0}; // 0: the default below; lowered by tests only
// Qt 6.4's startTimer(std::chrono::milliseconds) stores the interval in an int: one day is far
// below that, and a deadline further away is re-armed when this much has passed.
constexpr qint64 defaultMaxTimerIntervalMs = 24 * 60 * 60 * 1000;
} // namespace

Resumer::Resumer() = default;
Resumer::~Resumer() = default;

void setMaxTimerIntervalForTesting(std::chrono::milliseconds interval) noexcept
{
    maxTimerIntervalMs.store(interval.count(), std::memory_order_relaxed);
}

Resumer *Resumer::forCurrentThread()
{
    if (Resumer *resumer = currentThreadResumer)
        return resumer;
    if (!QAbstractEventDispatcher::instance()) {
        throw std::logic_error(
            "QtAio: co_await on a thread without a Qt event loop; nothing could resume the "
            "coroutine. Use the blocking form (putBlocking, getBlocking, waitBlocking, "
            "acquireBlocking) on such threads.");
    }
    auto *resumer = new Resumer;
    currentThreadResumer = resumer;
    QThread *thread = QThread::currentThread();
    if (QCoreApplication::instance() && thread == QCoreApplication::instance()->thread()) {
        mainThreadResumer = resumer;
        qAddPostRoutine(deleteMainThreadResumer);
    } else {
        // finished() is emitted in the thread itself, after its event loop has ended and
        // before its data goes away.
        QObject::connect(
            thread, &QThread::finished, resumer, [resumer] { deleteForThread(resumer); },
            Qt::DirectConnection);
    }
    return resumer;
}

void Resumer::deleteForThread(Resumer *resumer) noexcept
{
    resumer->shutDown();
    if (currentThreadResumer == resumer)
        currentThreadResumer = nullptr;
    delete resumer;
}

void Resumer::schedule(Waiter *waiter) noexcept
{
    bool post = false;
    {
        std::scoped_lock lock(m_mutex);
        waiter->m_nextReady = nullptr;
        if (m_readyTail)
            m_readyTail->m_nextReady = waiter;
        else
            m_readyHead = waiter;
        m_readyTail = waiter;
        if (m_endedLocked)
            m_readyChanged.notify_one(); // shutDown() resumes it, in the ending thread
        else
            post = needsEventLocked();
    }
    if (post)
        postEvent();
}

bool Resumer::needsEventLocked() noexcept
{
    if (m_eventPosted || m_endedLocked)
        return false;
    m_eventPosted = true;
    return true;
}

void Resumer::postEvent() noexcept
{
    postHandOffEvent(this, resumeEventType);
}

void Resumer::track(Waiter *waiter) noexcept
{
    waiter->m_prevSuspended = nullptr;
    waiter->m_nextSuspended = m_suspendedHead;
    if (m_suspendedHead)
        m_suspendedHead->m_prevSuspended = waiter;
    m_suspendedHead = waiter;
    waiter->m_suspended = true;
}

void Resumer::untrack(Waiter *waiter) noexcept
{
    if (!waiter->m_suspended)
        return;
    if (waiter->m_prevSuspended)
        waiter->m_prevSuspended->m_nextSuspended = waiter->m_nextSuspended;
    else
        m_suspendedHead = waiter->m_nextSuspended;
    if (waiter->m_nextSuspended)
        waiter->m_nextSuspended->m_prevSuspended = waiter->m_prevSuspended;
    waiter->m_prevSuspended = waiter->m_nextSuspended = nullptr;
    waiter->m_suspended = false;
}

bool Resumer::event(QEvent *event)
{
    QTAIO_TSAN_ACQUIRE(event); // (a no-op for events not posted by postHandOffEvent())
    if (event->type() != resumeEventType)
        return QObject::event(event);
    {
        std::scoped_lock lock(m_mutex);
        m_eventPosted = false; // this event is consumed: the next wake-up posts one again
        appendToRun(takeReadyLocked());
    }
    // Waiters that become ready while their batch runs (a same-thread hand-off: a get that
    // admits a waiting putter) are resumed in further rounds of this event, up to a time
    // budget, instead of one event-loop pass each.
    QElapsedTimer elapsed;
    elapsed.start();
    while (true) {
        runLocal();
        bool post = false;
        {
            std::scoped_lock lock(m_mutex);
            if (!m_readyHead)
                return true;
            if (elapsed.nsecsElapsed() >= drainBudgetNs) {
                // Past the budget, a posted event resumes the rest after other events had a turn.
                post = needsEventLocked();
            } else {
                appendToRun(takeReadyLocked());
                continue;
            }
        }
        if (post)
            postEvent();
        return true;
    }
}

Waiter *Resumer::takeReadyLocked() noexcept
{
    Waiter *ready = m_readyHead;
    m_readyHead = m_readyTail = nullptr;
    return ready;
}

void Resumer::appendToRun(Waiter *chain) noexcept
{
    if (!chain)
        return;
    if (m_runTail)
        m_runTail->m_nextReady = chain;
    else
        m_runHead = chain;
    Waiter *tail = chain;
    while (tail->m_nextReady)
        tail = tail->m_nextReady;
    m_runTail = tail;
}

void Resumer::runLocal() noexcept
{
    while (Waiter *waiter = m_runHead) {
        m_runHead = waiter->m_nextReady;
        if (!m_runHead)
            m_runTail = nullptr;
        if (m_runHead && !m_ended) {
            // More are waiting their turn: should this coroutine spin a nested event loop, the
            // backstop event resumes them there (this same function, in order).
            bool post = false;
            {
                std::scoped_lock lock(m_mutex);
                post = needsEventLocked();
            }
            if (post)
                postEvent();
        }
        resumeOne(waiter);
    }
}

void Resumer::resumeOne(Waiter *waiter) noexcept
{
    untrack(waiter);
    const TaskContext outer = std::exchange(m_taskContext, waiter->m_context);
    waiter->m_handle.resume(); // may destroy `waiter`
    m_taskContext = outer;
}

void Resumer::shutDown() noexcept
{
    {
        std::scoped_lock lock(m_mutex);
        m_endedLocked = true;
    }
    m_ended = true;
    while (true) {
        // Waits still linked in a primitive end now, so nothing is handed to a coroutine that
        // could never take it; the ones that already completed are on their way to the ready
        // list (from another thread, or from a pool job that is still running).
        // expire() may emit the primitive's change signals here, and a slot may destroy a
        // suspended coroutine (which unlinks its waiter): so after each one, start again from
        // the head instead of following a link that may be gone.
        for (Waiter *w = m_suspendedHead; w;) {
            if (!w->m_isOperation || w->m_endRequested) {
                w = w->m_nextSuspended;
                continue;
            }
            w->m_endRequested = true;
            static_cast<WaitOperation *>(w)->expire(WaitStatus::ThreadEnded);
            w = m_suspendedHead;
        }
        runLocal();
        {
            std::unique_lock lock(m_mutex);
            if (!m_readyHead && !m_suspendedHead)
                return;
            m_readyChanged.wait(lock, [this] { return m_readyHead || !m_suspendedHead; });
            appendToRun(takeReadyLocked());
        }
        runLocal(); // in this thread, the one they suspended on; their next await ends at once
    }
}

int Resumer::startDeadline(WaitOperation *operation, const QDeadlineTimer &deadline)
{
    const auto remaining =
        std::chrono::ceil<std::chrono::milliseconds>(deadline.remainingTimeAsDuration());
    qint64 maxMs = maxTimerIntervalMs.load(std::memory_order_relaxed);
    if (maxMs <= 0)
        maxMs = defaultMaxTimerIntervalMs;
    const auto interval =
        std::clamp(remaining, std::chrono::milliseconds(0), std::chrono::milliseconds(maxMs));
    const int id = startTimer(interval, Qt::PreciseTimer);
    m_deadlines.insert(id, operation);
    return id;
}

void Resumer::stopDeadline(int timerId) noexcept
{
    if (m_deadlines.remove(timerId))
        killTimer(timerId);
}

void Resumer::timerEvent(QTimerEvent *event)
{
    const int id = event->timerId();
    killTimer(id);
    WaitOperation *operation = m_deadlines.take(id);
    if (!operation)
        return;
    if (!operation->m_options.deadline.hasExpired()) {
        // A deadline further away than one timer interval: wait for the rest.
        operation->m_timerId = startDeadline(operation, operation->m_options.deadline);
        return;
    }
    operation->m_timerId = 0;
    operation->expire(WaitStatus::TimedOut);
}

// ---------------------------------------------------------------------------------------------
// WaitOperation

void WaitOperation::abandon() noexcept
{
    // Normally disarm() ran in await_resume(). If a suspended coroutine frame is destroyed
    // instead, unlink it so that nobody completes a waiter that no longer exists.
    m_stopCallback.reset();
    {
        const auto lock = m_core->lock();
        if (status == WaitStatus::Waiting && m_list) {
            m_list->remove(this);
            status = WaitStatus::Cancelled;
        }
    }
    if (m_timerId && m_resumer)
        m_resumer->stopDeadline(m_timerId);
    if (m_resumer)
        m_resumer->untrack(this);
}

bool WaitOperation::enqueueLocked(std::shared_ptr<WaitCore> core, WaitList &list,
                                  std::coroutine_handle<> handle)
{
    if (m_options.stop.stop_requested()) {
        status = WaitStatus::Cancelled;
        return false;
    }
    if (m_options.deadline.hasExpired()) {
        status = WaitStatus::TimedOut;
        return false;
    }
    m_resumer = Resumer::forCurrentThread();
    if (m_resumer->hasEnded()) {
        status = WaitStatus::ThreadEnded;
        return false;
    }
    m_handle = handle;
    m_context = m_resumer->taskContext();
    m_core = std::move(core);
    m_list = &list;
    status = WaitStatus::Waiting;
    list.pushBack(this);
    m_resumer->track(this);
    return true;
}

void WaitOperation::arm()
{
    // Either may finish the wait at once (a stop already requested meanwhile); the wake-up is
    // posted, so the coroutine still resumes only from the event loop.
    if (m_options.stop.stop_possible())
        m_stopCallback.emplace(m_options.stop, StopRequested{this});
    if (!m_options.deadline.isForever())
        m_timerId = m_resumer->startDeadline(this, m_options.deadline);
}

void WaitOperation::disarmSlow() noexcept
{
    m_stopCallback.reset(); // waits for a stop callback running on another thread
    if (m_timerId) {
        m_resumer->stopDeadline(m_timerId);
        m_timerId = 0;
    }
    m_list = nullptr;
    m_core.reset();
}

void WaitOperation::expire(WaitStatus why) noexcept
{
    bool flushNow = false;
    {
        const auto lock = m_core->lock();
        if (status != WaitStatus::Waiting)
            return; // completion wins: already finished by someone else
        m_list->remove(this);
        status = why;
        flushNow = m_core->markChangedLocked();
    }
    if (flushNow)
        m_core->flush();
    wake();
}

WaitStatus WaitOperation::blockLocked(std::shared_ptr<WaitCore> core, WaitList &list,
                                      CoreLock &lock)
{
    if (m_options.stop.stop_requested() || m_options.deadline.hasExpired()) {
        lock.unlock();
        return status =
                   m_options.stop.stop_requested() ? WaitStatus::Cancelled : WaitStatus::TimedOut;
    }

    std::binary_semaphore woken(0);
    m_blocker = &woken;
    m_core = std::move(core);
    m_list = &list;
    status = WaitStatus::Waiting;
    list.pushBack(this);
    const bool flushNow = m_core->markChangedLocked();
    lock.unlock();
    if (flushNow)
        m_core->flush();

    if (m_options.stop.stop_possible())
        m_stopCallback.emplace(m_options.stop, StopRequested{this});
    if (m_options.deadline.isForever()) {
        woken.acquire();
    } else {
        bool acquired = false;
        while (!acquired && !m_options.deadline.hasExpired())
            acquired = woken.try_acquire_for(m_options.deadline.remainingTimeAsDuration());
        if (!acquired) {
            expire(WaitStatus::TimedOut);
            // Whoever finished the wait (us, or a completion that won the race) wakes exactly
            // once; consume that wake-up so nothing touches `woken` after we return.
            woken.acquire();
        }
    }
    m_stopCallback.reset();
    m_blocker = nullptr;
    m_list = nullptr;
    m_core.reset();
    return status;
}

void WaitOperation::throwFor(WaitStatus status, const char *type, const char *operation)
{
    throwFor(status, (std::string(type) + "::" + operation).c_str());
}

void WaitOperation::throwFor(WaitStatus status, const char *what)
{
    switch (status) {
    case WaitStatus::Cancelled:
        throw CancelledError(std::string(what) + ": cancelled by its stop token");
    case WaitStatus::TimedOut:
        throw TimeoutError(std::string(what) + ": timed out");
    case WaitStatus::Closed:
        throw QueueClosedError(std::string(what) + ": the queue is closed");
    case WaitStatus::Destroyed:
        throw CancelledError(std::string(what) + ": the object was destroyed while waiting");
    case WaitStatus::ThreadEnded:
        throw CancelledError(std::string(what) +
                             ": the waiting thread's event loop has ended (its QThread "
                             "finished, or QCoreApplication is being destroyed)");
    case WaitStatus::Waiting:
    case WaitStatus::Completed:
        break;
    }
    throw std::logic_error(std::string(what) + ": internal error, the wait has not failed");
}

// ---------------------------------------------------------------------------------------------
// OneShot

OneShot::OneShot()
{
    m_resumer = Resumer::forCurrentThread();
}

bool OneShot::suspend(std::coroutine_handle<> handle)
{
    m_handle = handle;
    m_context = m_resumer->taskContext();
    // Tracked first: once the state says Waiting, complete() may schedule it at once.
    m_resumer->track(this);
    int expected = Pending;
    // Release: complete() on another thread sees the handle and the resumer. Failure means
    // complete() came first; acquire makes its results visible, and the coroutine goes on.
    if (m_state.compare_exchange_strong(expected, Waiting, std::memory_order_acq_rel,
                                        std::memory_order_acquire))
        return true;
    m_resumer->untrack(this);
    return false;
}

void OneShot::complete() noexcept
{
    if (m_state.exchange(Done, std::memory_order_acq_rel) == Waiting)
        wake(); // the waiter is suspended: nothing else can resume (and destroy) it meanwhile
}

// ---------------------------------------------------------------------------------------------
// AsyncEvent

class AsyncEvent::Core final : public WaitCore {
public:
    bool isSet = false;
    WaitList waiters;
    void flush() override {} // no owner, no signals
};

AsyncEvent::AsyncEvent() : d(std::make_shared<Core>())
{
}

AsyncEvent::~AsyncEvent()
{
    Waiter *chain = nullptr;
    {
        const auto lock = d->lock();
        chain = d->waiters.finishAll(WaitStatus::Destroyed);
    }
    wakeChain(chain);
}

void AsyncEvent::set()
{
    Waiter *chain = nullptr;
    {
        const auto lock = d->lock();
        if (d->isSet)
            return;
        d->isSet = true;
        chain = d->waiters.finishAll(WaitStatus::Completed);
    }
    wakeChain(chain);
}

bool AsyncEvent::isSet() const
{
    const auto lock = d->lock();
    return d->isSet;
}

bool AsyncEvent::Wait::await_ready()
{
    const auto lock = m_event->d->lock();
    if (!m_event->d->isSet)
        return false;
    status = WaitStatus::Completed;
    return true;
}

bool AsyncEvent::Wait::await_suspend(std::coroutine_handle<> handle)
{
    const auto &core = m_event->d;
    {
        const auto lock = core->lock();
        if (core->isSet) {
            status = WaitStatus::Completed;
            return false;
        }
        if (!enqueueLocked(core, core->waiters, handle))
            return false;
    }
    arm();
    return true;
}

bool AsyncEvent::Wait::await_resume()
{
    disarm();
    if (status == WaitStatus::Completed)
        return true;
    if (status == WaitStatus::TimedOut)
        return false;
    throwFor(status, "wait");
}

} // namespace QtAio::detail
