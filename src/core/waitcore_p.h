// SPDX-License-Identifier: MIT
#pragma once

#include <qtaio/detail/waitcore.h>

#include <QtCore/QHash>
#include <QtCore/QObject>

#include <mutex>
#include <optional>

#if defined(QTAIO_TSAN_ANNOTATIONS)
#include <sanitizer/tsan_interface.h>
#define QTAIO_TSAN_RELEASE(addr) __tsan_release(addr)
#define QTAIO_TSAN_ACQUIRE(addr) __tsan_acquire(addr)
#else
#define QTAIO_TSAN_RELEASE(addr) static_cast<void>(addr)
#define QTAIO_TSAN_ACQUIRE(addr) static_cast<void>(addr)
#endif

namespace QtAio::detail {

//! Resumes the coroutine waiters of one thread through that thread's event loop.
/*!
 * One Resumer exists per thread that has suspended a QtAio awaitable; it lives in that thread
 * and is deleted when the thread finishes (the main thread's when QCoreApplication goes).
 * schedule() is thread-safe and batches: the first waiter that becomes ready posts one event,
 * and that event resumes every waiter queued until it runs, and then, for up to a millisecond,
 * those that became ready while it ran (so a same-thread hand-off costs no event-loop pass).
 * Deadlines of the thread's waiters are Qt timers of the Resumer, so they fire in the waiting
 * thread too.
 */
class Resumer final : public QObject {
public:
    //! The calling thread's Resumer, created on first use. Throws std::logic_error when the
    //! thread has no event dispatcher.
    static Resumer *forCurrentThread();

    //! Queues \a waiter for resumption in this Resumer's thread. Thread-safe.
    void schedule(Waiter *waiter) noexcept;

    //! Starts a timer that expires \a operation at \a deadline. Resumer's thread only.
    int startDeadline(WaitOperation *operation, const QDeadlineTimer &deadline);
    //! Stops a timer started by startDeadline(). Resumer's thread only.
    void stopDeadline(int timerId) noexcept;

protected:
    bool event(QEvent *event) override;
    void timerEvent(QTimerEvent *event) override;

public:
    ~Resumer() override;

private:
    Resumer();
    Waiter *takeReadyLocked() noexcept;
    static void resumeChain(Waiter *ready) noexcept;

    //! How long one resume event keeps resuming waiters that became ready meanwhile.
    static constexpr qint64 drainBudgetNs = 1'000'000;

    std::mutex m_mutex;
    Waiter *m_readyHead = nullptr; // guarded by m_mutex
    Waiter *m_readyTail = nullptr; // guarded by m_mutex
    bool m_eventPosted = false;    // guarded by m_mutex
    QHash<int, WaitOperation *> m_deadlines;
};

//! Reads an observable value under \a core's lock and, if it differs from the last value
//! emitted, records it and returns it. Home thread only. Reading each value afresh right before
//! its emission means a slot that changes the object again (and emits from a nested call) is
//! never followed by a stale emission.
template<typename Read>
std::optional<int> takeChange(WaitCore &core, int &emitted, Read read)
{
    std::scoped_lock lock(core.mutex);
    const int current = read();
    if (current == emitted)
        return std::nullopt;
    emitted = current;
    return current;
}

} // namespace QtAio::detail
