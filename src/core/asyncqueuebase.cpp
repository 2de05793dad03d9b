// SPDX-License-Identifier: MIT
#include <qtaio/asyncqueuebase.h>
#include <qtaio/detail/queuecore.h>

#include "waitcore_p.h"

#include <QtCore/QEvent>
#include <QtCore/QMetaMethod>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

namespace QtAio {

namespace detail {

void QueueCore::tasksDoneLocked(WakeList &wake) noexcept
{
    if (unfinishedTasks != 0)
        return;
    pendingAllTasksDone = true;
    while (Waiter *w = joiners.popFront()) {
        w->status = WaitStatus::Completed;
        wake.add(w);
    }
}

bool QueueCore::spinForItem(const WaitOperation &operation) noexcept
{
    // A wake-up through the event loop costs several microseconds on both sides; an item that
    // a running producer stores within that time is taken without one. Bounded, so an idle
    // queue costs one short spin when its stream stops, and the event loop is held up no longer.
    spinUntil(std::chrono::microseconds(20), [&] {
        return changedForSpinner.load(std::memory_order_relaxed) || operation.stopRequested();
    });
    return changedForSpinner.load(std::memory_order_relaxed);
}

bool QueueCore::spinForRoomLocked(CoreLock &lock, const WaitOperation &operation) noexcept
{
    using namespace std::chrono;
    nanoseconds budget = microseconds(20);
    if (!operation.deadline().isForever())
        budget = std::min(budget, nanoseconds(operation.deadline().remainingTimeAsDuration()));
    if (budget <= nanoseconds::zero())
        return !destroying;
    const int target = maxSize - std::clamp(maxSize / 8, 1, roomSpinBatch);
    ++spinningPutters;
    sizeForSpinningPutters.store(size, std::memory_order_relaxed);
    lock.unlock();
    spinUntil(budget, [&] {
        return sizeForSpinningPutters.load(std::memory_order_relaxed) <= target ||
               operation.stopRequested();
    });
    lock.lock(); // noexcept: a mutex that cannot be locked again terminates
    --spinningPutters;
    return !destroying;
}

void QueueCore::endPutterSpins() noexcept
{
    auto held = lock();
    destroying = true;
    endPutterSpinsLocked();
    while (spinningPutters != 0) {
        held.unlock();
        std::this_thread::yield();
        held.lock();
    }
}

void QueueCore::describe(Inspection::Details &details, bool fifo)
{
    const auto held = lock();
    details.taken = qint64(taken);
    if (fifo) {
        // A FIFO queue's items leave in the order they came, and a getter is handed an item
        // at put only when nothing is queued: the queued items are the last `size` arrivals.
        details.numbered = true;
        details.next = arrivals;
        details.oldest = size > 0 ? qint64(arrivals) - size : -1;
    }
}

void QueueCore::flush()
{
    static_cast<AsyncQueueBase *>(ownerOnHomeThread())->emitChanges();
}

bool QueueJoin::await_ready()
{
    const auto lock = m_queue->d->lock();
    if (m_queue->d->unfinishedTasks != 0)
        return false;
    status = WaitStatus::Completed;
    return true;
}

bool QueueJoin::await_suspend(std::coroutine_handle<> handle)
{
    bool suspended = false;
    {
        QueueTransaction tx(*m_queue->d);
        if (tx.core.unfinishedTasks == 0)
            status = WaitStatus::Completed;
        else
            suspended = enqueueLocked(m_queue->d, tx.core.joiners, handle);
    }
    if (suspended)
        arm();
    return suspended;
}

void QueueJoin::await_resume()
{
    disarm();
    if (status != WaitStatus::Completed)
        throwFor(status, m_typeName, "join");
}

} // namespace detail

AsyncQueueBase::AsyncQueueBase(const char *typeName, int maxSize, QObject *parent)
    : QObject(parent), d(std::make_shared<detail::QueueCore>())
{
    d->typeName = typeName;
    d->maxSize = d->emitted.maxSize = std::max(0, maxSize);
    d->attachOwner(this);
}

AsyncQueueBase::~AsyncQueueBase()
{
    detail::WakeList wake;
    {
        const auto lock = d->lock();
        d->detachOwnerLocked();
        for (detail::WaitList *list : {&d->getters, &d->putters, &d->joiners}) {
            while (detail::Waiter *w = list->popFront()) {
                w->status = detail::WaitStatus::Destroyed;
                wake.add(w);
            }
        }
    }
}

int AsyncQueueBase::size() const
{
    const auto lock = d->lock();
    return d->size;
}

int AsyncQueueBase::maxSize() const
{
    const auto lock = d->lock();
    return d->maxSize;
}

void AsyncQueueBase::setMaxSize(int maxSize)
{
    detail::QueueTransaction tx(*d);
    maxSize = std::max(0, maxSize);
    if (tx.core.maxSize == maxSize)
        return;
    tx.core.maxSize = maxSize;
    tx.core.endPutterSpinsLocked();
    admitPuttersLocked(tx.wake);
}

bool AsyncQueueBase::isEmpty() const
{
    return size() == 0;
}

bool AsyncQueueBase::isFull() const
{
    const auto lock = d->lock();
    return d->isFull();
}

qint64 AsyncQueueBase::unfinishedTasks() const
{
    const auto lock = d->lock();
    return d->unfinishedTasks;
}

int AsyncQueueBase::waitingGetters() const
{
    const auto lock = d->lock();
    return static_cast<int>(d->getters.size());
}

int AsyncQueueBase::waitingPutters() const
{
    const auto lock = d->lock();
    return static_cast<int>(d->putters.size());
}

bool AsyncQueueBase::isClosed() const
{
    const auto lock = d->lock();
    return d->closed;
}

int AsyncQueueBase::highWaterMark() const
{
    const auto lock = d->lock();
    return d->highWaterMark;
}

void AsyncQueueBase::taskDone()
{
    detail::QueueTransaction tx(*d);
    if (tx.core.unfinishedTasks == 0) {
        throw std::logic_error(std::string(d->typeName) +
                               "::taskDone: called more times than items were put "
                               "(unfinishedTasks is already 0)");
    }
    --tx.core.unfinishedTasks;
    tx.core.tasksDoneLocked(tx.wake);
}

AsyncQueueBase::JoinOperation AsyncQueueBase::join(std::stop_token stop)
{
    return join(Deadline(), std::move(stop));
}

AsyncQueueBase::JoinOperation AsyncQueueBase::join(Deadline deadline, std::stop_token stop)
{
    return {this, d->typeName, {std::move(stop), deadline.timer()}};
}

void AsyncQueueBase::close(CloseMode mode)
{
    detail::QueueTransaction tx(*d);
    auto &c = tx.core;
    if (c.closed && mode == CloseMode::Drain)
        return;
    c.closed = true;
    c.changedForSpinner.store(true, std::memory_order_relaxed);
    c.endPutterSpinsLocked();
    while (detail::Waiter *w = c.putters.popFront()) {
        w->status = detail::WaitStatus::Closed;
        tx.wake.add(w);
    }
    // Getters only wait on an empty queue, so none of them has anything left to drain.
    while (detail::Waiter *w = c.getters.popFront()) {
        w->status = detail::WaitStatus::Closed;
        tx.wake.add(w);
    }
    if (mode == CloseMode::Immediate) {
        const int discarded = discardAllLocked();
        c.size = 0;
        c.unfinishedTasks -= discarded;
        if (discarded > 0)
            c.tasksDoneLocked(tx.wake);
    }
}

void AsyncQueueBase::connectNotify(const QMetaMethod &signal)
{
    d->receiverConnected(signal);
}

void AsyncQueueBase::disconnectNotify(const QMetaMethod &signal)
{
    d->receiverDisconnected(signal);
}

bool AsyncQueueBase::event(QEvent *event)
{
    return d->deliverFlush(event) || QObject::event(event);
}

void AsyncQueueBase::emitChanges()
{
    auto &e = d->emitted;
    d->report.run([&](detail::ChangeReport &report) {
        struct {
            int size, maxSize;
            qint64 unfinished;
            int getters, putters, highWater, put, taken;
            bool full, closed, allDone;
        } now{};
        {
            const auto lock = d->lock();
            now = {d->size,
                   d->maxSize,
                   d->unfinishedTasks,
                   static_cast<int>(d->getters.size()),
                   static_cast<int>(d->putters.size()),
                   d->highWaterMark,
                   std::exchange(d->pendingPut, 0),
                   std::exchange(d->pendingTaken, 0),
                   d->isFull(),
                   d->closed,
                   std::exchange(d->pendingAllTasksDone, false)};
        }
        report.value(now.maxSize, e.maxSize,
                     [&](int v) { Q_EMIT maxSizeChanged(v, QPrivateSignal()); });
        report.value(now.size, e.size, [&](int v) { Q_EMIT sizeChanged(v, QPrivateSignal()); });
        report.value(now.size == 0, e.empty,
                     [&](bool v) { Q_EMIT emptyChanged(v, QPrivateSignal()); });
        report.value(now.full, e.full, [&](bool v) { Q_EMIT fullChanged(v, QPrivateSignal()); });
        report.value(now.highWater, e.highWaterMark,
                     [&](int v) { Q_EMIT highWaterMarkChanged(v, QPrivateSignal()); });
        report.value(now.unfinished, e.unfinishedTasks,
                     [&](qint64 v) { Q_EMIT unfinishedTasksChanged(v, QPrivateSignal()); });
        report.value(now.getters, e.waitingGetters,
                     [&](int v) { Q_EMIT waitingGettersChanged(v, QPrivateSignal()); });
        report.value(now.putters, e.waitingPutters,
                     [&](int v) { Q_EMIT waitingPuttersChanged(v, QPrivateSignal()); });
        report.value(now.closed, e.closed,
                     [&](bool v) { Q_EMIT closedChanged(v, QPrivateSignal()); });
        // Events were taken out of the core: always delivered.
        if (now.put > 0)
            Q_EMIT itemsPut(now.put, QPrivateSignal());
        if (now.taken > 0)
            Q_EMIT itemsTaken(now.taken, QPrivateSignal());
        if (now.allDone)
            Q_EMIT allTasksDone(QPrivateSignal());
    });
}

} // namespace QtAio
