// SPDX-License-Identifier: MIT
#pragma once

#include <qtaio/asyncqueuebase.h>
#include <qtaio/detail/basicqueue.h>
#include <qtaio/detail/queuestorage.h>
#include <qtaio/inspection.h>

#include <chrono>
#include <optional>
#include <stop_token>

namespace QtAio {

//! The shared typed interface of AsyncQueue<T> and LifoQueue<T>.
/*!
 * All operations are thread-safe. Awaiting operations resume the awaiting coroutine on the
 * thread where it suspended, through that thread's event loop; they never run another
 * coroutine's code before returning. Waiting getters and putters are served in FIFO order.
 * A put that fails (closed queue, stop, timeout) leaves the caller's item untouched: it is
 * moved only when the put is admitted, so a put awaitable refers to the caller's item and
 * must be awaited in the expression that creates it. put(const T&) copies the item.
 *
 * The get side comes from the internal base class: `co_await queue.get(stop)` waits for an
 * item and yields it (also get(deadline, stop) and get(timeout, stop), which throw
 * TimeoutError when the deadline passes first). get() resumes on the awaiting thread through
 * its event loop and throws QueueClosedError once a closed queue is drained and CancelledError
 * when \a stop is requested first (an item that is there at once is taken even then).
 * tryGet() never waits: it yields a std::optional<T>, empty when no item is there, and
 * throws QueueClosedError on a closed, drained queue.
 */
template<typename T, typename Storage>
class SimpleQueue : public detail::BasicQueue<Storage> {
    using Base = detail::BasicQueue<Storage>;

public:
    using Base::get;
    using Base::next;
    using Base::tryGet;
    using typename Base::GetOperation;
    using typename Base::NextOperation;
    using typename Base::PutOperation;

    //! Waits for room, then puts \a item (moved from only when admitted). Throws
    //! QueueClosedError on a closed queue and CancelledError when \a stop is requested first.
    [[nodiscard]] PutOperation put(T &&item QTAIO_LIFETIMEBOUND, std::stop_token stop = {})
    {
        return {this, &item, {}, {std::move(stop), QDeadlineTimer(QDeadlineTimer::Forever)}};
    }
    //! As put(T&&, std::stop_token), with a copy of \a item.
    [[nodiscard]] PutOperation put(const T &item, std::stop_token stop = {})
    {
        return {this, item, {}, {std::move(stop), QDeadlineTimer(QDeadlineTimer::Forever)}};
    }
    //! As put(T&&, std::stop_token), throwing TimeoutError if \a deadline passes first.
    [[nodiscard]] PutOperation put(T &&item QTAIO_LIFETIMEBOUND, QDeadlineTimer deadline,
                                   std::stop_token stop = {})
    {
        return {this, &item, {}, {std::move(stop), deadline}};
    }
    //! As put(T&&, QDeadlineTimer, std::stop_token), with a copy of \a item.
    [[nodiscard]] PutOperation put(const T &item, QDeadlineTimer deadline,
                                   std::stop_token stop = {})
    {
        return {this, item, {}, {std::move(stop), deadline}};
    }
    //! As put(T&&, QDeadlineTimer, std::stop_token), with a timeout counted from now.
    template<typename Rep, typename Period>
    [[nodiscard]] PutOperation put(T &&item QTAIO_LIFETIMEBOUND,
                                   std::chrono::duration<Rep, Period> timeout,
                                   std::stop_token stop = {})
    {
        return put(std::move(item), detail::deadlineAfter(timeout), std::move(stop));
    }
    //! As put(const T&, QDeadlineTimer, std::stop_token), with a timeout counted from now.
    template<typename Rep, typename Period>
    [[nodiscard]] PutOperation put(const T &item, std::chrono::duration<Rep, Period> timeout,
                                   std::stop_token stop = {})
    {
        return put(item, detail::deadlineAfter(timeout), std::move(stop));
    }

    //! Puts \a item if there is room now and nobody waits to put; otherwise returns false and
    //! leaves \a item untouched. Throws QueueClosedError on a closed queue.
    [[nodiscard]] bool tryPut(T &&item) { return this->tryPutImpl(item, {}); }
    //! As tryPut(T&&), with a copy of \a item.
    [[nodiscard]] bool tryPut(const T &item)
    {
        T copy(item);
        return this->tryPutImpl(copy, {});
    }
    //! Blocking put for threads without a running event loop (thread-pool jobs, std::thread);
    //! waits in the same FIFO as coroutine putters. Throws TimeoutError when \a deadline
    //! passes, CancelledError when \a stop is requested, QueueClosedError when closed; then
    //! \a item is untouched.
    void putBlocking(T &&item, QDeadlineTimer deadline = QDeadlineTimer(QDeadlineTimer::Forever),
                     std::stop_token stop = {})
    {
        this->putBlockingImpl(item, {}, {std::move(stop), deadline});
    }
    //! As putBlocking(T&&, QDeadlineTimer, std::stop_token), with a copy of \a item.
    void putBlocking(const T &item,
                     QDeadlineTimer deadline = QDeadlineTimer(QDeadlineTimer::Forever),
                     std::stop_token stop = {})
    {
        T copy(item);
        this->putBlockingImpl(copy, {}, {std::move(stop), deadline});
    }
    //! As putBlocking(T&&, QDeadlineTimer, std::stop_token), with a timeout counted from now.
    template<typename Rep, typename Period>
    void putBlocking(T &&item, std::chrono::duration<Rep, Period> timeout,
                     std::stop_token stop = {})
    {
        putBlocking(std::move(item), detail::deadlineAfter(timeout), std::move(stop));
    }

    //! Blocking get for threads without a running event loop; same errors as putBlocking().
    T getBlocking(QDeadlineTimer deadline = QDeadlineTimer(QDeadlineTimer::Forever),
                  std::stop_token stop = {})
    {
        return Storage::value(this->getBlockingImpl({std::move(stop), deadline}));
    }
    //! As getBlocking(QDeadlineTimer, std::stop_token), with a timeout counted from now.
    template<typename Rep, typename Period>
    T getBlocking(std::chrono::duration<Rep, Period> timeout, std::stop_token stop = {})
    {
        return getBlocking(detail::deadlineAfter(timeout), std::move(stop));
    }

protected:
    //! \cond INTERNAL
    explicit SimpleQueue(int maxSize, QObject *parent) : Base(maxSize, parent) {}
    //! \endcond
};

//! A first-in, first-out queue: the QtAio form of asyncio.Queue / mtaio's AsyncQueue.
/*!
 * \code
 * QtAio::AsyncQueue<QString> lines(100); // at most 100 queued; 0 means unbounded
 * // producer, any thread with an event loop:   co_await lines.put(line);
 * // producer, a thread-pool job:               lines.putBlocking(line);
 * // consumer coroutine:                        QString line = co_await lines.get();
 * \endcode
 */
template<typename T>
class AsyncQueue : public SimpleQueue<T, detail::FifoStorage<T>> {
public:
    //! \a maxSize <= 0 means unbounded.
    explicit AsyncQueue(int maxSize = 0, QObject *parent = nullptr)
        : SimpleQueue<T, detail::FifoStorage<T>>(maxSize, parent)
    {
        Inspection::add(this, Inspection::Kind::Queue);
    }
    //! Waiters still waiting end with CancelledError.
    ~AsyncQueue() override { Inspection::remove(this); }
};

} // namespace QtAio
