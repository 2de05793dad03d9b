// SPDX-License-Identifier: MIT
#pragma once

#include <qtaio/deadline.h>
#include <qtaio/detail/waitcore.h>
#include <qtaio/qtaiocore_export.h>

#include <QtCore/QDeadlineTimer>
#include <QtCore/QObject>

#include <atomic>
#include <coroutine>
#include <memory>
#include <stop_token>

namespace QtAio {

class Latch;

namespace detail {
class LatchCore;

//! The part of the latch's core that the inline Latch::countDown() reads: the count, and
//! (through WaitCore) whether any signal is connected. The rest of the core is private.
class LatchCount : public WaitCore {
public:
    //! The raw count. Atomic so that a count-down that releases nobody needs no lock: every
    //! decrement is one atomic read-modify-write, so exactly one of them takes it from above
    //! zero to zero or below, and that count-down, and only it, releases the latch (see
    //! Latch::countDown()). It may read below zero for a moment, by at most (count-downs in
    //! flight) x n, when callers count down more than the count; nobody reports it: the
    //! released flag (in the core) is what waiters and every accessor go by.
    std::atomic<int> count{0};
};

//! Awaitable returned by Latch::wait(): `co_await` yields true once the count is zero, false
//! on timeout. Await it in the expression that creates it.
class QTAIO_CORE_EXPORT LatchWait : public WaitOperation {
public:
    LatchWait(Latch *latch, WaitOptions options) noexcept
        : WaitOperation(std::move(options)), m_latch(latch)
    {
    }

    bool await_ready();
    bool await_suspend(std::coroutine_handle<> handle);
    bool await_resume();

private:
    Latch *m_latch;
};
} // namespace detail

//! A single-use countdown barrier: waiters are released when the count reaches zero.
/*!
 * The QtAio form of mtaio's Latch (and of std::latch, awaitable). Every member function is
 * thread-safe. Signals are emitted in the latch's home thread: at once for a countDown() made
 * there, coalesced (one emission per burst, carrying the latest count) for countDown() calls
 * made on other threads.
 *
 * \code
 * QtAio::Latch ready(3);
 * // ... three workers each call ready.countDown() when done, from any thread ...
 * const bool allDone = co_await ready.wait(std::chrono::seconds(5));
 * \endcode
 */
class QTAIO_CORE_EXPORT Latch : public QObject {
    Q_OBJECT
    //! The remaining count; 0 once released.
    Q_PROPERTY(int count READ count NOTIFY countChanged)
    //! Whether the count has reached zero.
    Q_PROPERTY(bool released READ isReleased NOTIFY releasedChanged)
    //! How many waits (coroutine and blocking) are pending.
    Q_PROPERTY(int waiting READ waiting NOTIFY waitingChanged)

public:
    //! Creates a latch with \a count. Throws std::invalid_argument if \a count is negative.
    //! Latch(0) is born released and never emits releasedChanged().
    explicit Latch(int count, QObject *parent = nullptr);
    //! Waiters still pending end with CancelledError.
    ~Latch() override;

    //! \name Property accessors
    //!@{

    //! Getter of the property of the same name; thread-safe.
    [[nodiscard]] int count() const;
    [[nodiscard]] bool isReleased() const;
    [[nodiscard]] int waiting() const;
    //!@}

    //! Lowers the count by \a n (floored at 0) and releases every waiter when it reaches 0.
    /*! Thread-safe and never re-entrant: waiters resume later, in their own threads' event
     * loops. Throws std::invalid_argument if \a n is negative. The call that brings the count
     * to 0 has released the latch when it returns. A call that comes after that one, when
     * count-downs exceed the count, may return while that one is still releasing: until then
     * count() reads 1 and isReleased() false (wait() is not affected: it completes with the
     * release). */
    void countDown(int n = 1)
    {
        // The fast path, inline so that a count-down costs about one atomic read-modify-write
        // (DESIGN.md section 7, target f). It applies with nothing connected (a hint without
        // the lock, as in every primitive; a change is reported only while somebody listens),
        // 0 < n <= maxFastCountDown and a count above n when read: then one fetch_sub is the
        // whole operation unless it is the one decrement that takes the count from above zero
        // to zero or below. The latch cannot be destroyed before that decrement's thread has
        // released it (waiters, tryWait(), isReleased() and count() go by the released flag,
        // which only it sets), so it may still call countedDownToZero(). Any other count-down
        // is done with the latch once its decrement is made: one that stays above zero
        // returns, and one that finds the count already at zero or below (more count-downs
        // than the count) must not touch it again, as it may already be destroyed. Since the
        // fast path subtracts only after reading count > n, each count-down in flight can take
        // the count at most n below zero: with n <= 65535 it would take 32768 count-downs at
        // once between their read and their decrement to wrap the int. Everything else
        // (n <= 0: a no-op or std::invalid_argument; a listener; a count at most n) takes the
        // out-of-line path.
        if (static_cast<unsigned>(n) - 1U < unsigned(maxFastCountDown) &&
            !m_count->hasReceiversLocked() && m_count->count.load(std::memory_order_relaxed) > n) {
            const int before = m_count->count.fetch_sub(n, std::memory_order_acq_rel);
            if (before > n)
                return;
            if (before > 0)
                countedDownToZero();
            return;
        }
        countDownSlow(n);
    }

    //! True if the count is 0. Never waits.
    [[nodiscard]] bool tryWait() const;

    //! The awaitable that wait() returns; `co_await` yields a bool.
    using WaitOperation = detail::LatchWait;

    //! Waits until the count is 0. `co_await` yields true; it resumes on the thread that
    //! awaited, through its event loop. Throws CancelledError if \a stop is requested first
    //! (a latch already at 0 completes even then).
    [[nodiscard]] WaitOperation wait(std::stop_token stop = {});
    //! Waits until the count is 0 or \a deadline passes: yields true or false, never throws on
    //! timeout. True at once if the count is already 0, even with an expired deadline.
    [[nodiscard]] WaitOperation wait(Deadline deadline, std::stop_token stop = {});

    //! Blocks the calling thread (one without a running event loop, such as a QThreadPool job)
    //! until the count is 0 (true). Waits in the same FIFO as coroutine waiters. Throws
    //! CancelledError if \a stop is requested first.
    bool waitBlocking(std::stop_token stop = {});
    //! As waitBlocking(std::stop_token), returning false when \a deadline passes first.
    bool waitBlocking(Deadline deadline, std::stop_token stop = {});

Q_SIGNALS:
    //! The count changed; carries the new value. Emitted in the home thread.
    void countChanged(int count, QPrivateSignal);
    //! The count reached zero (\a released is true): emitted once, in the home thread, after
    //! the last countChanged().
    void releasedChanged(bool released, QPrivateSignal);
    //! The number of pending waits changed.
    void waitingChanged(int waiting, QPrivateSignal);

protected:
    //! \cond INTERNAL
    bool event(QEvent *event) override;
    void connectNotify(const QMetaMethod &signal) override;
    void disconnectNotify(const QMetaMethod &signal) override;
    //! \endcond

private:
    friend class detail::LatchWait;
    friend class detail::LatchCore;
    void emitChanges();
    //! The largest n that countDown() subtracts without a compare-and-swap (see countDown()).
    static constexpr int maxFastCountDown = 65535;
    //! countDown() whenever its inline fast path does not apply.
    void countDownSlow(int n);
    //! The inline fast path made the decrement that took the count from above zero to zero or
    //! below: releases the latch.
    void countedDownToZero();

    const std::shared_ptr<detail::LatchCore> d;
    //! The same object as d, as the part that countDown() reads inline.
    detail::LatchCount *const m_count;
};

} // namespace QtAio
