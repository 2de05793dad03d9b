// SPDX-License-Identifier: MIT
#pragma once

// The waiting core shared by every QtAio primitive (DESIGN.md §2, layer 1).
//
// A primitive keeps its mutable state in a WaitCore-derived object owned through a
// std::shared_ptr and guarded by its lock. An operation that cannot complete at once
// links a Waiter into one of the core's WaitLists. Whoever finishes the wait (a producer
// handing over a result, a stop request, a deadline, the primitive's destruction) does so
// under the mutex: it unlinks the waiter and sets its final status exactly once, then, after
// unlocking, calls Waiter::wake() exactly once. A coroutine waiter is resumed through the
// event loop of the thread on which it suspended (batched: one posted event resumes every
// waiter of that thread that became ready); a blocking waiter is released from its
// semaphore. Nothing here resumes a coroutine inline, so no operation is re-entrant.

#include <qtaio/qtaiocore_export.h>

#include <QtCore/QDeadlineTimer>

#include <atomic>
#include <chrono>
#include <cmath>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#if defined(__GLIBC__)
#include <pthread.h>
#endif
#include <optional>
#include <semaphore>
#include <stop_token>

QT_BEGIN_NAMESPACE
class QEvent;
class QMetaMethod;
class QObject;
QT_END_NAMESPACE

namespace QtAio {
class AsyncQueueBase;
}

namespace QtAio::detail {

class ExecutorCore;
class QueueCore;
class Resumer;
class SemaphoreCore;
class WaitList;
class Waiter;
template<typename Storage>
class BasicQueue;

//! Whether this build of the library annotates its cross-thread hand-offs for ThreadSanitizer
//! (true in every build compiled with -fsanitize=thread, however it was configured).
QTAIO_CORE_EXPORT bool threadSanitizerAnnotations() noexcept;

//! The longest interval one deadline timer is started for (longer deadlines are re-armed until
//! they are due); for tests of the re-arming. 0 restores the default (one day).
QTAIO_CORE_EXPORT void setMaxTimerIntervalForTesting(std::chrono::milliseconds interval) noexcept;

//! The task that runs on a thread right now: its executor and its id (see currentTaskContext()).
struct TaskContext {
    //! The task's executor (its core), never dereferenced (see currentTaskContext()): the
    //! context outlives neither, but a coroutine started inside a task may carry it past both.
    const void *executor = nullptr;
    //! That executor's serial number, unique in the process: what the executor recognises its
    //! own tasks by (an address may be reused by a later executor, whose task ids start at 1
    //! again).
    quint64 executorSerial = 0;
    //! The task's id with that executor (ExecutorCore::TaskId); 0 for none.
    quint64 task = 0;
};

//! The executor whose task runs on the calling thread right now, or nullptr.
/*!
 * An executor sets the context (TaskContext: the executor and the task) while a task's factory
 * starts its work; every QtAio await made then remembers it, and the Resumer sets it again
 * while it resumes that await. So code of a task runs with its context across QtAio awaits
 * (not across other awaitables, whose resumption QtAio does not see), work it starts on the
 * same executor runs in the task's own slot instead of waiting for another one, and a
 * cancelAll() it awaits does not wait for the tasks that await it (see TaskExecutor).
 */
QTAIO_CORE_EXPORT const void *currentTaskContext() noexcept;
//! The calling thread's whole task context (see currentTaskContext()).
QTAIO_CORE_EXPORT TaskContext currentTask() noexcept;
//! Sets the calling thread's task context to \a context and returns the previous one.
QTAIO_CORE_EXPORT TaskContext exchangeTaskContext(TaskContext context) noexcept;
//! Where the calling thread keeps its task context, for a caller that sets it many times in one
//! go (a call's items launched inline): valid on this thread until it returns to its event
//! loop. nullptr when the thread has no event loop (nothing could be nested in a task there).
QTAIO_CORE_EXPORT TaskContext *taskContextSlot() noexcept;

//! How a wait ended. Set once, under the core's mutex, by whoever finishes the wait.
enum class WaitStatus : std::uint8_t {
    Waiting,     //!< still linked in a WaitList
    Completed,   //!< the operation completed; its result is in the waiter
    Cancelled,   //!< the waiter's std::stop_token was requested
    TimedOut,    //!< the waiter's deadline passed
    Closed,      //!< the primitive was closed (queues)
    Destroyed,   //!< the primitive was destroyed while the waiter waited
    ThreadEnded, //!< the waiting thread's event loop ended (its QThread finished, or
                 //!< QCoreApplication is being destroyed), so nothing could resume it later
};

//! One pending operation: an intrusive list node plus the means to wake whoever waits.
class QTAIO_CORE_EXPORT Waiter {
public:
    Waiter() = default;
    Waiter(const Waiter &) = delete;
    Waiter &operator=(const Waiter &) = delete;

    //! Wakes the waiter after its status became final. Call without holding the lock.
    void wake() noexcept;

    //! How the wait ended, or Waiting while it lasts. Read by the waiting side once woken, or
    //! under the core's mutex.
    [[nodiscard]] WaitStatus waitStatus() const noexcept { return status; }

protected:
    //! Set once, under the core's mutex, by whoever finishes the wait: the operation itself (a
    //! wait that completes without suspending, or ends by stop or deadline), the waiting core,
    //! or the primitive that hands it a result (the friends below).
    WaitStatus status = WaitStatus::Waiting;

private:
    friend class WaitList;
    friend class WakeList;
    friend class WaitOperation;
    friend class Resumer;
    friend class OneShot;
    friend void wakeChain(Waiter *chain) noexcept;
    // The primitives that finish their waiters.
    friend class QtAio::AsyncQueueBase;
    friend class QueueCore;
    friend class SemaphoreCore;
    friend class ExecutorCore;
    friend class Gate;
    template<typename Storage>
    friend class BasicQueue;

    Waiter *m_prev = nullptr;
    Waiter *m_next = nullptr;
    Waiter *m_nextReady = nullptr; // in the Resumer's ready list
    // In the Resumer's list of its thread's suspended coroutines (touched in that thread only).
    Waiter *m_prevSuspended = nullptr;
    Waiter *m_nextSuspended = nullptr;
    std::coroutine_handle<> m_handle;
    Resumer *m_resumer = nullptr;
    TaskContext m_context; // the task context when it suspended (see above)
    std::binary_semaphore *m_blocker = nullptr;
    bool m_suspended = false;    // linked in the Resumer's list of suspended coroutines
    bool m_isOperation = false;  // a WaitOperation, which its thread's end can finish
    bool m_endRequested = false; // its thread's end has finished it (Resumer::shutDown())
};

//! An intrusive FIFO of waiters. Guarded by the owning WaitCore's mutex.
class QTAIO_CORE_EXPORT WaitList {
public:
    WaitList() = default;
    WaitList(const WaitList &) = delete;
    WaitList &operator=(const WaitList &) = delete;

    [[nodiscard]] bool isEmpty() const noexcept { return m_head == nullptr; }
    [[nodiscard]] std::size_t size() const noexcept { return m_size; }
    [[nodiscard]] Waiter *front() const noexcept { return m_head; }

    void pushBack(Waiter *waiter) noexcept;
    void remove(Waiter *waiter) noexcept;
    //! Unlinks and returns the first waiter, or nullptr.
    Waiter *popFront() noexcept;

    //! Unlinks every waiter, sets \a status on each and returns them as a chain to pass to
    //! wakeChain() once the lock is released.
    Waiter *finishAll(WaitStatus status) noexcept;

private:
    Waiter *m_head = nullptr;
    Waiter *m_tail = nullptr;
    std::size_t m_size = 0;
};

//! A small stack of finished waiters to wake once the lock is released.
class QTAIO_CORE_EXPORT WakeList {
public:
    WakeList() = default;
    WakeList(const WakeList &) = delete;
    WakeList &operator=(const WakeList &) = delete;
    ~WakeList() { wakeAll(); }

    //! Records a waiter whose status was just set under the lock.
    void add(Waiter *waiter) noexcept;
    //! Wakes everything recorded so far. Call without the lock.
    void wakeAll() noexcept
    {
        if (m_chain)
            wakeAllSlow();
    }

private:
    void wakeAllSlow() noexcept;
    Waiter *m_chain = nullptr;
    Waiter *m_chainTail = nullptr;
};

//! The one way every QtAio object emits its change and event signals, in its flush() (home
//! thread, mutex not held).
/*!
 * A pass reads the observable state once, under the lock, and takes out the events gathered
 * since the last pass (such as itemsPut counts); then it emits a change signal for each value
 * that differs from the one emitted last (value()) and the events it took. A slot that changes
 * the object makes the running pass stale: its remaining values are left to a new pass, which
 * reads the state afresh, so emissions stay in order and none carries a stale value. A flush
 * asked for from inside a slot only marks the running one stale.
 */
class ChangeReport {
public:
    //! Runs \a pass (a callable taking this ChangeReport) until a pass ends without going stale.
    template<typename Pass>
    void run(Pass &&pass)
    {
        if (m_running) {
            m_stale = true; // a slot changed the object: the running report passes again
            return;
        }
        struct Running {
            bool &flag;
            ~Running() { flag = false; }
        } running{m_running = true};
        do {
            m_stale = false;
            pass(*this);
        } while (m_stale);
    }

    //! In a pass: emits \a now through \a emit if it differs from \a emitted (then recorded),
    //! unless a slot has made this pass stale.
    template<typename Value, typename Emit>
    void value(const Value &now, Value &emitted, Emit &&emit)
    {
        if (m_stale || now == emitted)
            return;
        emitted = now;
        emit(now);
    }

private:
    bool m_running = false;
    bool m_stale = false;
};

//! The mutex of a WaitCore: a std::mutex, except on glibc, where it is glibc's adaptive mutex
//! (PTHREAD_MUTEX_ADAPTIVE_NP), which spins a short while before it sleeps in the kernel.
/*!
 * A core's critical sections last tens of nanoseconds, and a thread that finds the lock taken
 * usually finds it free again a moment later: spinning takes it then, where std::mutex
 * sleeps on a futex and its owner pays a second system call to wake it. Lockable, for
 * std::unique_lock.
 */
class QTAIO_CORE_EXPORT CoreMutex {
public:
#if defined(__GLIBC__) && defined(PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP)
    CoreMutex() noexcept = default;
    ~CoreMutex()
    {
        pthread_mutex_destroy(&m_mutex);
    }
    CoreMutex(const CoreMutex &) = delete;
    CoreMutex &operator=(const CoreMutex &) = delete;

    void lock()
    {
        if (const int error = pthread_mutex_lock(&m_mutex))
            throwLockError(error);
    }
    bool try_lock() noexcept
    {
        return pthread_mutex_trylock(&m_mutex) == 0;
    }
    void unlock() noexcept
    {
        pthread_mutex_unlock(&m_mutex);
    }

private:
    [[noreturn]] static void throwLockError(int error);
    pthread_mutex_t m_mutex = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
#else
    void lock()
    {
        m_mutex.lock();
    }
    bool try_lock() noexcept
    {
        return m_mutex.try_lock();
    }
    void unlock() noexcept
    {
        m_mutex.unlock();
    }

private:
    std::mutex m_mutex;
#endif
};

//! The lock of a WaitCore, as WaitCore::lock() returns it.
using CoreLock = std::unique_lock<CoreMutex>;

//! The lockable, shared part of a primitive. Outlives the primitive while waiters refer to it.
class QTAIO_CORE_EXPORT WaitCore {
public:
    WaitCore() = default;
    WaitCore(const WaitCore &) = delete;
    WaitCore &operator=(const WaitCore &) = delete;
    virtual ~WaitCore();

    //! Locks the state this core guards: its waiter lists and the primitive's fields.
    [[nodiscard]] CoreLock lock() const { return CoreLock(m_mutex); }

    //! Binds the core to the QObject whose signals report its state. Call once, from that
    //! object's constructor, before the core is shared with any other thread.
    void attachOwner(QObject *owner) noexcept { m_owner = owner; }
    //! Unbinds the owner, first thing in its destructor, with the lock held: from then on no
    //! flush is posted to it.
    void detachOwnerLocked() noexcept { m_owner = nullptr; }

    //! Records a change of observable state. Call with the mutex held. Returns true when the
    //! caller runs in the owner's home thread and must call flush() once it has unlocked;
    //! otherwise posts one coalesced flush to the home thread (if none is pending yet). Does
    //! nothing while no signal of the owner is connected: signals nobody receives cost nothing.
    [[nodiscard]] bool markChangedLocked() noexcept
    {
        if (m_receivers.load(std::memory_order_relaxed) == 0 || !m_owner)
            return false;
        return markChangedSlow();
    }

    //! Whether any signal of the owner is connected. Exact with the mutex held; a hint without.
    [[nodiscard]] bool hasReceiversLocked() const noexcept
    {
        return m_receivers.load(std::memory_order_relaxed) != 0;
    }

    //! The owner's connectNotify() and disconnectNotify() forward here: counts connections (an
    //! unmatched disconnect only over-counts, which costs a flush, never a lost signal). The
    //! first connection drops event counts gathered while nobody listened.
    void receiverConnected(const QMetaMethod &signal);
    void receiverDisconnected(const QMetaMethod &signal);

    //! The owner's event() forwards here first: runs the flush that markChangedLocked() posted
    //! to the home thread and returns true, or returns false for any other event.
    bool deliverFlush(QEvent *event);

    //! Emits the owner's pending change signals, through report. Home thread only, mutex not
    //! held.
    virtual void flush() = 0;

    //! The state of the owner's signal emission (see ChangeReport). Home thread only.
    ChangeReport report;

protected:
    //! The owner, for flush(): on the home thread it is read without the lock, since only the
    //! owner's own destructor, on that thread, changes it.
    [[nodiscard]] QObject *ownerOnHomeThread() const noexcept { return m_owner; }

    //! Drops event counts (such as itemsPut) gathered while no signal was connected. Called
    //! with the mutex held.
    virtual void discardPendingEventsLocked() {}

private:
    bool markChangedSlow() noexcept;

    mutable CoreMutex m_mutex;
    QObject *m_owner = nullptr; // guarded by m_mutex
    std::atomic<bool> m_flushPosted{false};
    std::atomic<int> m_receivers{0}; // written under mutex
};

//! Options every waiting operation accepts.
struct WaitOptions {
    std::stop_token stop;
    QDeadlineTimer deadline{QDeadlineTimer::Forever};
};

//! Throws std::invalid_argument for a NaN timeout.
[[noreturn]] QTAIO_CORE_EXPORT void throwNaNTimeout();

//! Converts a std::chrono duration to a deadline counted from now (precise timer).
/*!
 * A duration too large to be counted from now in nanoseconds (`hours::max()`, 1000 years)
 * means no deadline; zero or negative means a deadline that has passed. Nothing overflows:
 * the comparison is made in floating point before any integer conversion. A NaN duration
 * throws std::invalid_argument.
 */
template<typename Rep, typename Period>
QDeadlineTimer deadlineAfter(std::chrono::duration<Rep, Period> timeout)
{
    using namespace std::chrono;
    const long double ns = duration<long double, std::nano>(timeout).count();
    if (ns != ns)
        throwNaNTimeout();
    if (ns <= 0)
        return QDeadlineTimer(0);
    // Leaves room for "now" (the steady clock's time since boot) in QDeadlineTimer's qint64.
    constexpr long double limit = static_cast<long double>(nanoseconds::max().count()) / 2;
    if (ns >= limit)
        return QDeadlineTimer(QDeadlineTimer::Forever);
    return QDeadlineTimer(nanoseconds(static_cast<nanoseconds::rep>(ceill(ns))), Qt::PreciseTimer);
}

//! The common part of every QtAio awaitable and blocking wait: registration, cancellation by
//! stop token and deadline, and resumption on the waiting thread.
class QTAIO_CORE_EXPORT WaitOperation : public Waiter {
public:
    explicit WaitOperation(WaitOptions options) noexcept : m_options(std::move(options))
    {
        m_isOperation = true;
    }
    //! Copies an operation that has not started yet (g++ 12 copies lvalue awaitables in
    //! co_await). A started operation is never copied: it is pinned in the coroutine frame.
    WaitOperation(const WaitOperation &other) noexcept : Waiter(), m_options(other.m_options)
    {
        m_isOperation = true;
    }
    WaitOperation &operator=(const WaitOperation &) = delete;
    [[gnu::always_inline]] ~WaitOperation()
    {
        // Only a wait that suspended holds the core; the fast path has nothing to undo.
        if (m_core)
            abandon();
    }

    // The primitives drive these; they are public for the typed queue templates.

    //! Links this waiter into \a list for the coroutine \a handle. Call with the core's lock held.
    /*!
     * Returns false, without linking, when the wait ends at once: its stop was already requested
     * (status Cancelled), its deadline has passed (TimedOut) or the thread's event loop has
     * ended (ThreadEnded). Throws std::logic_error when the calling thread has no Qt event
     * dispatcher, since nothing could ever resume the coroutine.
     */
    bool enqueueLocked(std::shared_ptr<WaitCore> core, WaitList &list,
                       std::coroutine_handle<> handle);
    //! Arms the stop callback and the deadline timer. Call after unlocking, if enqueued.
    void arm();
    //! Disarms the stop callback and timer and drops the core. Call first in await_resume().
    void disarm() noexcept
    {
        if (m_core || m_stopCallback || m_timerId)
            disarmSlow();
    }

    //! Waits on the calling thread, without an event loop, until the wait ends.
    /*!
     * Call with \a lock (the core's lock()) held; returns with it released, the final status set
     * and, when Completed, the result already handed over by whoever completed it.
     */
    WaitStatus blockLocked(std::shared_ptr<WaitCore> core, WaitList &list, CoreLock &lock);

    //! Throws the error that a non-Completed status stands for; \a what names the operation.
    [[noreturn]] static void throwFor(WaitStatus status, const char *what);
    //! As throwFor(WaitStatus, const char *), naming the operation "type::operation".
    [[noreturn]] static void throwFor(WaitStatus status, const char *type, const char *operation);

    //! True once the operation's stop token has been asked to stop; any thread.
    [[nodiscard]] bool stopRequested() const noexcept { return m_options.stop.stop_requested(); }
    //! The operation's deadline (Forever when it has none), read by a caller that bounds
    //! work of its own before the wait, such as a spin, to the time the wait has left.
    [[nodiscard]] const QDeadlineTimer &deadline() const noexcept { return m_options.deadline; }

    //! Moves the deadline to \a deadline if that is earlier (never later). Before the wait
    //! starts only.
    void tightenDeadline(const QDeadlineTimer &deadline) noexcept
    {
        if (deadline < m_options.deadline)
            m_options.deadline = deadline;
    }

protected:
    WaitOptions m_options;

private:
    friend class Resumer;
    struct StopRequested {
        WaitOperation *operation;
        void operator()() const noexcept { operation->expire(WaitStatus::Cancelled); }
    };

    //! Ends the wait with \a why unless it already ended (completion wins).
    void expire(WaitStatus why) noexcept;
    void disarmSlow() noexcept;
    //! Unlinks a wait whose coroutine frame is destroyed while it is suspended.
    void abandon() noexcept;

    std::shared_ptr<WaitCore> m_core;
    WaitList *m_list = nullptr;
    std::optional<std::stop_callback<StopRequested>> m_stopCallback;
    int m_timerId = 0;
};

//! A one-shot signal from any thread to at most one awaiting coroutine, without a lock.
/*!
 * complete() and the waiter's suspension race on one atomic state: whichever comes second
 * decides, so the coroutine either does not suspend at all or is resumed exactly once, on its
 * own thread through its event loop (that of the thread that constructed it). Used for the
 * results of pool jobs.
 */
class QTAIO_CORE_EXPORT OneShot : private Waiter {
public:
    //! Binds it to the calling thread, whose event loop will resume the waiter. Throws
    //! std::logic_error when the thread has no Qt event dispatcher.
    OneShot();

    //! Marks it done and schedules the waiter's resumption if one suspended. Once, from any
    //! thread. Touches nothing afterwards: the resumed side may destroy it right away.
    void complete() noexcept;
    //! Whether complete() was called; everything written before it is visible once true.
    [[nodiscard]] bool isDone() const noexcept
    {
        return m_state.load(std::memory_order_acquire) == Done;
    }

    //! Awaitable returned by wait(): completes once complete() was called.
    class Wait {
    public:
        explicit Wait(OneShot *shot) noexcept : m_shot(shot) {}
        [[nodiscard]] bool await_ready() const noexcept { return m_shot->isDone(); }
        bool await_suspend(std::coroutine_handle<> handle) { return m_shot->suspend(handle); }
        void await_resume() const noexcept {}

    private:
        OneShot *m_shot;
    };
    //! At most one coroutine may await it.
    [[nodiscard]] Wait wait() noexcept { return Wait(this); }

private:
    enum State : int { Pending, Waiting, Done };
    bool suspend(std::coroutine_handle<> handle);

    std::atomic<int> m_state{Pending};
};

//! A one-shot, thread-safe event on the waiting core (asyncio.Event without clear()): set()
//! from any thread releases every waiter, each resuming on its own thread. Used internally to
//! hand results of executor work back to the awaiting coroutine.
class QTAIO_CORE_EXPORT AsyncEvent {
public:
    AsyncEvent();
    AsyncEvent(const AsyncEvent &) = delete;
    AsyncEvent &operator=(const AsyncEvent &) = delete;
    //! Waiters still pending end with CancelledError.
    ~AsyncEvent();

    //! Sets the event and wakes every waiter. Thread-safe; later calls do nothing.
    void set();
    //! Whether set() was called. Thread-safe.
    [[nodiscard]] bool isSet() const;

    //! Awaitable returned by wait(): yields true once set, false when the deadline passed;
    //! throws CancelledError when the stop token was requested first.
    class QTAIO_CORE_EXPORT Wait : public WaitOperation {
    public:
        Wait(AsyncEvent *event, WaitOptions options) noexcept
            : WaitOperation(std::move(options)), m_event(event)
        {
        }
        bool await_ready();
        bool await_suspend(std::coroutine_handle<> handle);
        bool await_resume();

    private:
        AsyncEvent *m_event;
    };

    [[nodiscard]] Wait wait(WaitOptions options = {}) { return {this, std::move(options)}; }

private:
    class Core;
    std::shared_ptr<Core> d;
};

} // namespace QtAio::detail
