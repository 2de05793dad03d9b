// SPDX-License-Identifier: MIT
#pragma once

#include <qtaio/detail/waitcore.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QEvent>
#include <QtCore/QHash>
#include <QtCore/QObject>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

// ThreadSanitizer annotations of the hand-off through Qt's event queue (see Resumer), keyed on
// the compiler's own signal, so that every TSan build of QtAio has them, whoever configures it.
#if defined(__SANITIZE_THREAD__)
#define QTAIO_TSAN_ANNOTATIONS 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define QTAIO_TSAN_ANNOTATIONS 1
#endif
#endif

#if defined(QTAIO_TSAN_ANNOTATIONS)
#include <sanitizer/tsan_interface.h>
#define QTAIO_TSAN_RELEASE(addr) __tsan_release(addr)
#define QTAIO_TSAN_ACQUIRE(addr) __tsan_acquire(addr)
#else
#define QTAIO_TSAN_RELEASE(addr) static_cast<void>(addr)
#define QTAIO_TSAN_ACQUIRE(addr) static_cast<void>(addr)
#endif

namespace QtAio::detail {

//! Spins for at most \a budget until \a done() returns true, checking it once per round of 64
//! pause instructions and yielding the processor after each round (a thread waiting for this
//! processor, often the one this spin waits for, runs first). Returns done()'s last result.
/*!
 * For the few microseconds in which a wake-up through the event loop or the pool would cost
 * more than the wait: checked once per round, not at every pause, so that the spinner takes
 * what arrived meanwhile in one go instead of contending with its producer for each change.
 */
template<typename Done>
bool spinUntil(std::chrono::nanoseconds budget, Done done) noexcept
{
    constexpr int pausesPerCheck = 64;
    const auto end = std::chrono::steady_clock::now() + budget;
    do {
        for (int i = 0; i < pausesPerCheck; ++i) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#elif defined(__aarch64__)
            asm volatile("yield");
#endif
        }
        if (done())
            return true;
        std::this_thread::yield();
    } while (std::chrono::steady_clock::now() < end);
    return done();
}

//! Posts an event of \a type to \a receiver as a hand-off between threads: the receiver's
//! handler calls QTAIO_TSAN_ACQUIRE(event) before it reads the event. The release follows the
//! event's allocation, so ThreadSanitizer sees the allocation, and everything the posting thread
//! did before, happen before the delivery (Debian's Qt, which carries the event, is not
//! instrumented).
inline void postHandOffEvent(QObject *receiver, QEvent::Type type)
{
    auto *event = new QEvent(type);
    QTAIO_TSAN_RELEASE(event);
    QCoreApplication::postEvent(receiver, event, Qt::HighEventPriority);
}

//! Wakes every waiter of a chain returned by WaitList::finishAll(). Call without the lock.
void wakeChain(Waiter *chain) noexcept;

//! Resumes the coroutine waiters of one thread through that thread's event loop.
/*!
 * One Resumer exists per thread that has suspended a QtAio awaitable; it lives in that thread.
 * schedule() is thread-safe and batches: the first waiter that becomes ready posts one event,
 * and that event resumes every waiter queued until it runs, and then, for up to a millisecond,
 * those that became ready while it ran (so a same-thread hand-off costs no event-loop pass).
 * Waiters are resumed one at a time, in FIFO order; while more than one is ready a backstop
 * event stays queued, so that a resumed coroutine that spins a nested event loop (a modal
 * dialog's exec()) lets the others run inside it, still in order.
 *
 * Deadlines of the thread's waiters are Qt timers of the Resumer, so they fire in the waiting
 * thread too; a deadline further away than a Qt timer can count is re-armed until it is due.
 *
 * When the thread's event loop ends for good (its QThread finishes, or QCoreApplication is
 * destroyed, for the main thread), shutDown() finishes every wait still pending there with
 * ThreadEnded and resumes the coroutines right there, in that thread, so they unwind (their
 * awaits throw CancelledError) instead of staying linked in a primitive that would hand them
 * an item they could never take; awaits made after that end at once the same way. Then the
 * Resumer is deleted: nothing refers to it any more.
 */
class Resumer final : public QObject {
public:
    //! The calling thread's Resumer, created on first use. Throws std::logic_error when the
    //! thread has no event dispatcher.
    static Resumer *forCurrentThread();

    //! Queues \a waiter for resumption in this Resumer's thread. Thread-safe.
    void schedule(Waiter *waiter) noexcept;

    //! Records a coroutine of this thread that suspended on \a waiter, until it is resumed
    //! (or untrack()ed). Resumer's thread only.
    void track(Waiter *waiter) noexcept;
    //! Forgets a tracked waiter whose coroutine will not be resumed through this Resumer.
    void untrack(Waiter *waiter) noexcept;
    //! Whether the thread's event loop has ended (see shutDown()). Resumer's thread only.
    [[nodiscard]] bool hasEnded() const noexcept { return m_ended; }

    //! The thread's task context (see currentTaskContext()). Resumer's thread only.
    [[nodiscard]] TaskContext taskContext() const noexcept { return m_taskContext; }
    [[nodiscard]] TaskContext *taskContextSlot() noexcept { return &m_taskContext; }
    TaskContext exchangeTaskContext(TaskContext context) noexcept
    {
        return std::exchange(m_taskContext, context);
    }

    //! Starts a timer that expires \a operation at \a deadline. Resumer's thread only.
    int startDeadline(WaitOperation *operation, const QDeadlineTimer &deadline);
    //! Stops a timer started by startDeadline(). Resumer's thread only.
    void stopDeadline(int timerId) noexcept;

    //! Shuts \a resumer down (see the class description) and deletes it. In its thread, once
    //! the thread's event loop has ended for good.
    static void deleteForThread(Resumer *resumer) noexcept;

protected:
    bool event(QEvent *event) override;
    void timerEvent(QTimerEvent *event) override;

public:
    ~Resumer() override;

private:
    Resumer();
    Waiter *takeReadyLocked() noexcept;
    //! Appends a ready chain to the thread's local run list.
    void appendToRun(Waiter *chain) noexcept;
    //! Resumes the local run list in order, with a backstop event queued while more than one
    //! waiter is left.
    void runLocal() noexcept;
    void resumeOne(Waiter *waiter) noexcept;
    //! Posts a resume event unless one is queued. With m_mutex held; returns whether to post.
    bool needsEventLocked() noexcept;
    void postEvent() noexcept;
    //! The thread's event loop has ended: finish and resume every tracked wait (see above).
    void shutDown() noexcept;

    //! How long one resume event keeps resuming waiters that became ready meanwhile.
    static constexpr qint64 drainBudgetNs = 1'000'000;

    std::mutex m_mutex;
    std::condition_variable m_readyChanged; // signalled by schedule() once the thread ended
    Waiter *m_readyHead = nullptr;          // guarded by m_mutex
    Waiter *m_readyTail = nullptr;          // guarded by m_mutex
    bool m_eventPosted = false;             // guarded by m_mutex
    bool m_endedLocked = false;             // guarded by m_mutex: no more events are posted
    // The rest belongs to the Resumer's thread.
    bool m_ended = false;
    Waiter *m_runHead = nullptr; // ready waiters taken by a resume event, not yet resumed
    Waiter *m_runTail = nullptr;
    Waiter *m_suspendedHead = nullptr; // tracked waiters
    TaskContext m_taskContext;
    QHash<int, WaitOperation *> m_deadlines;
};

} // namespace QtAio::detail
