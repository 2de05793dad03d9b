// SPDX-License-Identifier: MIT
#pragma once

#include <qtaio/asyncqueuebase.h>
#include <qtaio/detail/basicqueue.h>
#include <qtaio/detail/queuestorage.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>

namespace QtAio {

//! A priority queue: the lowest priority value comes out first, first-in first-out among
//! equal priorities. The QtAio form of mtaio's PriorityQueue.
/*!
 * The same guarantees as AsyncQueue<T> (thread safety, resumption on the awaiting thread,
 * FIFO service of waiters, closing, task accounting, signals). \a P is any type ordered by
 * `<`, e.g. int or double (fractional and negative priorities are fine). The timeout form of
 * put is put(item, priority, timeout): a priority is never mistaken for a duration.
 *
 * \code
 * QtAio::PriorityQueue<Job> jobs;
 * co_await jobs.put(std::move(urgent), 0);
 * co_await jobs.put(std::move(later), 5);
 * Job next = co_await jobs.get();                   // urgent
 * auto [job, priority] = co_await jobs.getWithPriority();
 * \endcode
 */
template<typename T, typename P = int>
class PriorityQueue : public detail::BasicQueue<detail::PriorityStorage<T, P>> {
    using Storage = detail::PriorityStorage<T, P>;
    using Base = detail::BasicQueue<Storage>;

public:
    using Base::get;
    using Base::tryGet;
    using typename Base::GetOperation;
    using typename Base::GetWithKeyOperation;
    using typename Base::PutOperation;
    using Item = PriorityItem<T, P>;

    //! \a maxSize <= 0 means unbounded.
    explicit PriorityQueue(int maxSize = 0, QObject *parent = nullptr) : Base(maxSize, parent) {}

    //! Waits for room, then puts \a item with \a priority (moved from only when admitted).
    //! Throws QueueClosedError on a closed queue, CancelledError when \a stop is requested.
    [[nodiscard]] PutOperation put(T &&item, P priority, std::stop_token stop = {})
    {
        return {this, &item, std::move(priority), {std::move(stop), noDeadline()}};
    }
    [[nodiscard]] PutOperation put(const T &item, P priority, std::stop_token stop = {})
    {
        return {this, item, std::move(priority), {std::move(stop), noDeadline()}};
    }
    //! As put(T&&, P, std::stop_token), throwing TimeoutError if \a deadline passes first.
    [[nodiscard]] PutOperation put(T &&item, P priority, QDeadlineTimer deadline,
                                   std::stop_token stop = {})
    {
        return {this, &item, std::move(priority), {std::move(stop), deadline}};
    }
    [[nodiscard]] PutOperation put(const T &item, P priority, QDeadlineTimer deadline,
                                   std::stop_token stop = {})
    {
        return {this, item, std::move(priority), {std::move(stop), deadline}};
    }
    template<typename Rep, typename Period>
    [[nodiscard]] PutOperation put(T &&item, P priority, std::chrono::duration<Rep, Period> timeout,
                                   std::stop_token stop = {})
    {
        return put(std::move(item), std::move(priority), detail::deadlineAfter(timeout),
                   std::move(stop));
    }
    template<typename Rep, typename Period>
    [[nodiscard]] PutOperation put(const T &item, P priority,
                                   std::chrono::duration<Rep, Period> timeout,
                                   std::stop_token stop = {})
    {
        return put(item, std::move(priority), detail::deadlineAfter(timeout), std::move(stop));
    }

    //! As get(), yielding the item together with its priority.
    [[nodiscard]] GetWithKeyOperation getWithPriority(std::stop_token stop = {})
    {
        return {this, {std::move(stop), noDeadline()}};
    }
    [[nodiscard]] GetWithKeyOperation getWithPriority(QDeadlineTimer deadline,
                                                      std::stop_token stop = {})
    {
        return {this, {std::move(stop), deadline}};
    }
    template<typename Rep, typename Period>
    [[nodiscard]] GetWithKeyOperation getWithPriority(std::chrono::duration<Rep, Period> timeout,
                                                      std::stop_token stop = {})
    {
        return getWithPriority(detail::deadlineAfter(timeout), std::move(stop));
    }

    //! Puts \a item if there is room now and nobody waits to put; otherwise returns false and
    //! leaves \a item untouched. Throws QueueClosedError on a closed queue.
    [[nodiscard]] bool tryPut(T &&item, const P &priority)
    {
        return this->tryPutImpl(item, priority);
    }
    [[nodiscard]] bool tryPut(const T &item, const P &priority)
    {
        T copy(item);
        return this->tryPutImpl(copy, priority);
    }
    [[nodiscard]] std::optional<Item> tryGetWithPriority() { return this->tryGetImpl(); }

    //! Blocking forms for threads without a running event loop (see AsyncQueue).
    void putBlocking(T &&item, P priority, QDeadlineTimer deadline = noDeadline(),
                     std::stop_token stop = {})
    {
        this->putBlockingImpl(item, std::move(priority), {std::move(stop), deadline});
    }
    void putBlocking(const T &item, P priority, QDeadlineTimer deadline = noDeadline(),
                     std::stop_token stop = {})
    {
        T copy(item);
        this->putBlockingImpl(copy, std::move(priority), {std::move(stop), deadline});
    }
    T getBlocking(QDeadlineTimer deadline = noDeadline(), std::stop_token stop = {})
    {
        return std::move(this->getBlockingImpl({std::move(stop), deadline}).value);
    }
    Item getBlockingWithPriority(QDeadlineTimer deadline = noDeadline(), std::stop_token stop = {})
    {
        return this->getBlockingImpl({std::move(stop), deadline});
    }

    //! The number of queued items per priority, in priority order (a snapshot; it scans the
    //! queue, so put and get pay nothing for it).
    [[nodiscard]] std::map<P, int> sizeByPriority() const
    {
        std::scoped_lock lock(this->core().mutex);
        return this->storageLocked().counts();
    }
    //! The number of queued items with \a priority (a scan of the queue).
    [[nodiscard]] int sizeOfPriority(const P &priority) const
    {
        std::scoped_lock lock(this->core().mutex);
        return this->storageLocked().count(priority);
    }

private:
    static QDeadlineTimer noDeadline() { return QDeadlineTimer(QDeadlineTimer::Forever); }
};

} // namespace QtAio
