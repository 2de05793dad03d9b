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

    //! Fills what every queue tells an inspector (Inspection::Details::taken) and, for a
    //! FIFO queue (\a fifo), its arrivals and the oldest queued one. Takes the lock.
    void describe(Inspection::Details &details, bool fifo);

    //! Releases join() waiters when nothing is unfinished any more.
    void tasksDoneLocked(WakeList &wake) noexcept;

    void flush() override;

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
    std::unique_lock<std::mutex> m_lock;
};

} // namespace QtAio::detail
