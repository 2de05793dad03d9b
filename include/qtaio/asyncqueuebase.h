// SPDX-License-Identifier: MIT
#pragma once

#include <qtaio/deadline.h>
#include <qtaio/detail/waitcore.h>
#include <qtaio/qtaiocore_export.h>

#include <QtCore/QDeadlineTimer>
#include <QtCore/QObject>

#include <coroutine>
#include <memory>
#include <stop_token>

namespace QtAio {

class AsyncQueueBase;

namespace detail {
class QueueCore;
struct QueueAccess;

//! Awaitable returned by AsyncQueueBase::join().
class QTAIO_CORE_EXPORT QueueJoin : public WaitOperation {
public:
    QueueJoin(AsyncQueueBase *queue, const char *typeName, WaitOptions options) noexcept
        : WaitOperation(std::move(options)), m_queue(queue), m_typeName(typeName)
    {
    }

    bool await_ready();
    bool await_suspend(std::coroutine_handle<> handle);
    void await_resume();

private:
    AsyncQueueBase *m_queue;
    const char *m_typeName; // for errors: the queue may be gone by then
};
} // namespace detail

//! The untyped part of every QtAio queue: signals, properties, counters, task accounting and
//! closing. AsyncQueue<T>, PriorityQueue<T, P> and LifoQueue<T> derive from it and add the
//! typed operations (moc cannot handle templates; the pattern is QFutureWatcherBase).
/*!
 * Every member function is thread-safe. Signals are emitted in the queue's home thread: at
 * once, one emission per change, for operations made there; coalesced for operations made on
 * other threads (one emission per burst carrying the latest value; itemsPut/itemsTaken carry
 * how many since the last emission, so totals stay exact).
 *
 * A coroutine get that finds the queue empty after it took several items that threads put
 * with putBlocking() waits up to 20 µs for the next one before it suspends, yielding the
 * processor between checks (a producer waiting for it runs first): a wake-up through the event
 * loop costs more than that, and a producer thread running beside the consumer usually puts
 * its next item sooner. It ends at once when the queue closes or the get's stop is requested.
 * Gets after coroutine puts (which may come from the getter's own thread) never wait so.
 *
 * Likewise, a putBlocking() that finds a bounded queue full, with no putter waiting ahead of it,
 * waits up to 20 µs (never past its deadline) for the getters to make room for a few items (an
 * eighth of maxSize, 32 at most) before it blocks, so that a producer thread keeping a full
 * queue fed puts a batch at a time instead of blocking for each item taken. It is not counted
 * in waitingPutters while it does; closing the queue, a larger maxSize, the put's stop or the
 * queue's destruction end that wait at once. Coroutine puts never wait so.
 */
class QTAIO_CORE_EXPORT AsyncQueueBase : public QObject {
    Q_OBJECT
    //! Number of items in the queue.
    Q_PROPERTY(int size READ size NOTIFY sizeChanged)
    //! Capacity; 0 or negative means unbounded. Writable at run time: growing admits waiting
    //! putters, shrinking drops nothing.
    Q_PROPERTY(int maxSize READ maxSize WRITE setMaxSize NOTIFY maxSizeChanged)
    //! Whether the queue holds no item.
    Q_PROPERTY(bool empty READ isEmpty NOTIFY emptyChanged)
    //! Whether the queue is bounded and holds maxSize items or more.
    Q_PROPERTY(bool full READ isFull NOTIFY fullChanged)
    //! Items put and not yet marked done with taskDone().
    Q_PROPERTY(qint64 unfinishedTasks READ unfinishedTasks NOTIFY unfinishedTasksChanged)
    //! How many gets (coroutine and blocking) are waiting for an item.
    Q_PROPERTY(int waitingGetters READ waitingGetters NOTIFY waitingGettersChanged)
    //! How many puts (coroutine and blocking) are waiting for room.
    Q_PROPERTY(int waitingPutters READ waitingPutters NOTIFY waitingPuttersChanged)
    //! Whether close() has been called.
    Q_PROPERTY(bool closed READ isClosed NOTIFY closedChanged)
    //! The largest size the queue has had.
    Q_PROPERTY(int highWaterMark READ highWaterMark NOTIFY highWaterMarkChanged)

public:
    //! How close() treats what is left in the queue.
    enum class CloseMode {
        //! Puts fail from now on; getters drain the remaining items, then fail.
        Drain,
        //! The remaining items are discarded (unfinishedTasks drops by their number); waiting
        //! getters and putters fail. As Python 3.13's Queue.shutdown(immediate=True).
        Immediate,
    };
    Q_ENUM(CloseMode)

    //! The stored items are destroyed; waiters still pending (getters, putters, join())
    //! end with CancelledError.
    ~AsyncQueueBase() override;

    //! \name Property accessors
    //!@{

    //! Getter of the property of the same name; thread-safe.
    [[nodiscard]] int size() const;
    [[nodiscard]] int maxSize() const;
    //! Sets the capacity (<= 0: unbounded). Growing admits waiting putters in FIFO order.
    void setMaxSize(int maxSize);
    [[nodiscard]] bool isEmpty() const;
    [[nodiscard]] bool isFull() const;
    [[nodiscard]] qint64 unfinishedTasks() const;
    [[nodiscard]] int waitingGetters() const;
    [[nodiscard]] int waitingPutters() const;
    [[nodiscard]] bool isClosed() const;
    [[nodiscard]] int highWaterMark() const;
    //!@}

    //! The awaitable that join() returns.
    using JoinOperation = detail::QueueJoin;

    //! Marks one item taken from the queue as processed (asyncio's task_done()).
    /*! Throws std::logic_error if called more times than items were put. */
    void taskDone();

    //! Waits until every item put has been marked done with taskDone(). Completes at once when
    //! none is unfinished. Resumes on the awaiting thread through its event loop. Throws
    //! CancelledError when \a stop is requested first.
    [[nodiscard]] JoinOperation join(std::stop_token stop = {});
    //! As join(std::stop_token), throwing TimeoutError if \a deadline passes first.
    [[nodiscard]] JoinOperation join(Deadline deadline, std::stop_token stop = {});

    //! Closes the queue (see CloseMode). Closing twice is harmless; an Immediate close of a
    //! queue closed with Drain discards what is left.
    void close(CloseMode mode = CloseMode::Drain);

Q_SIGNALS:
    //! \name Change signals
    //!@{

    //! Emitted in the home thread when the property of the same name changes.
    /*! Coalesced (one emission carrying the latest value) when the change was made on another
     * thread. */
    void sizeChanged(int size, QPrivateSignal);
    void maxSizeChanged(int maxSize, QPrivateSignal);
    void emptyChanged(bool empty, QPrivateSignal);
    void fullChanged(bool full, QPrivateSignal);
    void unfinishedTasksChanged(qint64 unfinishedTasks, QPrivateSignal);
    void waitingGettersChanged(int waitingGetters, QPrivateSignal);
    void waitingPuttersChanged(int waitingPutters, QPrivateSignal);
    void closedChanged(bool closed, QPrivateSignal);
    void highWaterMarkChanged(int highWaterMark, QPrivateSignal);
    //!@}
    //! \a n items entered the queue (or were handed straight to a getter) since the last
    //! emission.
    void itemsPut(int n, QPrivateSignal);
    //! \a n items were taken since the last emission.
    void itemsTaken(int n, QPrivateSignal);
    //! unfinishedTasks reached 0.
    void allTasksDone(QPrivateSignal);

protected:
    //! \cond INTERNAL
    //! \a typeName names the queue type in error messages ("PriorityQueue").
    AsyncQueueBase(const char *typeName, int maxSize, QObject *parent = nullptr);

    bool event(QEvent *event) override;
    void connectNotify(const QMetaMethod &signal) override;
    void disconnectNotify(const QMetaMethod &signal) override;
    //! \endcond

private:
    friend class detail::QueueJoin;
    friend class detail::QueueCore;
    friend struct detail::QueueAccess;
    void emitChanges();

    // The typed queue's part, called with the lock held: removes every stored item and
    // returns how many there were; moves the items of waiting putters in while there is room.
    virtual int discardAllLocked() = 0;
    virtual void admitPuttersLocked(detail::WakeList &wake) = 0;

    // Shared with suspended waiters, which may outlive the queue object.
    const std::shared_ptr<detail::QueueCore> d;
};

//! How close() treats what is left in a queue.
using CloseMode = AsyncQueueBase::CloseMode;

} // namespace QtAio
