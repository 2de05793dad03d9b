// SPDX-License-Identifier: MIT
#pragma once

#include <qtaio/detail/waitcore.h>
#include <qtaio/inspection.h>
#include <qtaio/qtaiocore_export.h>

#include <limits>

namespace QtAio::detail {

//! The shared, lock-guarded state of a queue that is not typed by its items.
class QTAIO_CORE_EXPORT QueueCore final : public WaitCore {
public:
    const char *typeName = "AsyncQueue"; // in error messages: "PriorityQueue::get: ..."
    int size = 0;
    int maxSize = 0;
    qint64 unfinishedTasks = 0; // 64 bits: a queue used without taskDone() counts up for good
    int highWaterMark = 0;
    bool closed = false;
    // Counted for Inspection::Details only: arrivals (stored, or handed straight to a getter)
    // and items handed out since the queue was made.
    quint64 arrivals = 0;
    quint64 taken = 0;
    WaitList getters;
    WaitList putters;
    WaitList joiners;

    // Since a coroutine getter last suspended: the items gets took from storage, and whether a
    // putBlocking() put one. Many items from a blocking putter (a thread of its own) mean that
    // items pile up while a getter waits for its wake-up, so a getter that finds the queue empty
    // spins briefly (spinForItem()) before it suspends. (A coroutine putter may share the
    // getter's thread, which a spin would only hold up.)
    int takenSinceWait = 0;
    bool blockingPutSinceWait = false;
    // Written under the lock when an item is stored or the queue closes; read without it by a
    // spinning getter, which clears it under the lock before it spins.
    std::atomic<bool> changedForSpinner{false};

    // Blocking putters that found the queue full spin for room before they block
    // (spinForRoomLocked()): how many do, under the lock; the size the getters leave while any
    // does, written under the lock and read by the spinners without it (0 ends every spin:
    // close, a larger maxSize, the queue's destruction); and whether the queue is being
    // destroyed (endPutterSpins()).
    int spinningPutters = 0;
    std::atomic<int> sizeForSpinningPutters{0};
    bool destroying = false;

    // Event counts since the last emission.
    int pendingPut = 0;
    int pendingTaken = 0;
    bool pendingAllTasksDone = false;

    //! The values last emitted, and the flush re-entrancy guard. Home thread only.
    struct Emitted {
        int size = 0;
        int maxSize = 0;
        bool empty = true;
        bool full = false;
        qint64 unfinishedTasks = 0;
        int waitingGetters = 0;
        int waitingPutters = 0;
        bool closed = false;
        int highWaterMark = 0;
    } emitted;

    //! Full at maxSize, and (unbounded or not) when `size` could not count one more item.
    [[nodiscard]] bool isFull() const noexcept
    {
        return (maxSize > 0 && size >= maxSize) || size == std::numeric_limits<int>::max();
    }

    //! Accounts for one item stored (not handed straight to a getter).
    void itemStoredLocked() noexcept
    {
        ++size;
        changedForSpinner.store(true, std::memory_order_relaxed);
        ++unfinishedTasks;
        ++pendingPut;
        ++arrivals;
        if (size > highWaterMark)
            highWaterMark = size;
    }

    //! Accounts for one item handed out to a getter.
    void itemTakenLocked() noexcept
    {
        ++pendingTaken;
        ++taken;
    }

    //! Whether a getter that found the queue empty should spin before it suspends, and if so,
    //! prepares the spin. Call with the lock held, the queue open and empty.
    [[nodiscard]] bool prepareSpinLocked() noexcept
    {
        if (!blockingPutSinceWait || takenSinceWait < spinAfterTaken)
            return false;
        changedForSpinner.store(false, std::memory_order_relaxed);
        return true;
    }

    //! A coroutine getter suspends: the counts behind prepareSpinLocked() start again.
    void resetSpinLocked() noexcept
    {
        takenSinceWait = 0;
        blockingPutSinceWait = false;
    }

    //! After prepareSpinLocked(), without the lock: waits a few microseconds at most for an item
    //! to be stored or the queue to close, yielding the processor between checks. Returns
    //! whether one of them happened (then the get tries again under the lock). Ends early when
    //! \a operation's stop is requested.
    bool spinForItem(const WaitOperation &operation) noexcept;

    //! Whether a blocking putter that found the queue full spins for room before it blocks:
    //! only when no putter waits ahead of it (FIFO among putters), on a bounded queue that is
    //! open and not being destroyed. Call with the lock held.
    [[nodiscard]] bool shouldSpinForRoomLocked() const noexcept
    {
        return putters.isEmpty() && maxSize > 0 && size >= maxSize && !closed && !destroying;
    }

    //! A blocking putter that found the queue full waits up to 20 µs (and no longer than its
    //! deadline), without the lock and yielding the processor between checks, for the getters to
    //! make room for a batch of items (roomSpinBatch, an eighth of maxSize at most), so that a
    //! producer that keeps a full queue fed puts a batch at a time instead of blocking for each
    //! item a getter takes. Ends early on close, a larger maxSize, the operation's stop or the
    //! queue's destruction. Call with \a lock held; returns with it held again, and false when
    //! the queue is being destroyed: then nothing of the queue but this core may be touched.
    //! (Terminates if the lock cannot be taken again: its mutex is broken.)
    bool spinForRoomLocked(CoreLock &lock, const WaitOperation &operation) noexcept;

    //! First thing in a typed queue's destructor, before its storage goes: ends every putter's
    //! spin for room and returns once none spins any more.
    void endPutterSpins() noexcept;

    //! Ends every putter's spin for room, so that each looks at the queue again (under the lock).
    void endPutterSpinsLocked() noexcept
    {
        if (spinningPutters != 0)
            sizeForSpinningPutters.store(0, std::memory_order_relaxed);
    }

    //! Fills what every queue tells an inspector (Inspection::Details::taken) and, for a
    //! FIFO queue (\a fifo), its arrivals and the oldest queued one. Takes the lock.
    void describe(Inspection::Details &details, bool fifo);

    //! Releases join() waiters when nothing is unfinished any more.
    void tasksDoneLocked(WakeList &wake) noexcept;

    void flush() override;

    //! The number of items taken since the last wait from which a getter spins.
    static constexpr int spinAfterTaken = 4;
    //! The room, in items, that a putter spinning for room waits for (an eighth of maxSize at
    //! most, one at least).
    static constexpr int roomSpinBatch = 32;

protected:
    void discardPendingEventsLocked() override
    {
        pendingPut = pendingTaken = 0;
        pendingAllTasksDone = false;
    }
};

//! One change of a queue: locks the core, and once the change is made (at destruction)
//! unlocks it, emits the change signals due in this thread and wakes the finished waiters.
class QueueTransaction {
public:
    explicit QueueTransaction(QueueCore &queueCore) : core(queueCore), m_lock(core.lock()) {}
    ~QueueTransaction()
    {
        const bool flushNow = core.markChangedLocked();
        m_lock.unlock();
        // Signals first, then wake-ups: state is final before either, and woken coroutines only
        // resume later from their own event loops. (WakeList's own destructor wakes whatever
        // is left, which is nothing.)
        if (flushNow)
            core.flush();
        wake.wakeAll();
    }
    QueueTransaction(const QueueTransaction &) = delete;
    QueueTransaction &operator=(const QueueTransaction &) = delete;

    QueueCore &core;
    WakeList wake;

private:
    CoreLock m_lock;
};

} // namespace QtAio::detail
