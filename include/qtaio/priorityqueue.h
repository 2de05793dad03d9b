// SPDX-License-Identifier: MIT
#pragma once

#include <qtaio/asyncqueuebase.h>
#include <qtaio/deadline.h>
#include <qtaio/detail/basicqueue.h>
#include <qtaio/detail/queuestorage.h>
#include <qtaio/inspection.h>

#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <type_traits>
#include <utility>

namespace QtAio {

//! An item taken from a PriorityQueue together with its priority.
template<typename T, typename P>
struct PriorityItem {
    //! The item.
    T value;
    //! The priority it was put with.
    P priority;
};

//! A priority queue: the lowest priority value comes out first, first-in first-out among
//! equal priorities. The QtAio form of mtaio's PriorityQueue.
/*!
 * The same guarantees as AsyncQueue<T> (thread safety, resumption on the awaiting thread,
 * FIFO service of waiters, closing, task accounting, signals). \a P is any type ordered by
 * `<`, e.g. int or double (fractional and negative priorities are fine). The timeout form of
 * put is put(item, priority, deadline): there is no two-argument put with a timeout, so a
 * priority is never mistaken for a duration. get(), next(), tryGet() and getBlocking() work
 * as for AsyncQueue<T> and take the item with the lowest priority value; every waiting
 * operation takes a Deadline (a std::chrono duration or a QDeadlineTimer) in the same way.
 *
 * A put costs O(1), a get O(log n) amortized. Items put in a burst are sorted once, at the
 * first get after it (a stable radix sort for integral priorities), and then taken in order,
 * so a queue of many items is drained far faster than a binary heap of them would be.
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
class PriorityQueue : public detail::BasicQueue<detail::PriorityStorageFor<T, P>> {
    using Storage = detail::PriorityStorageFor<T, P>;
    static_assert(std::is_nothrow_move_constructible_v<P> && std::is_nothrow_destructible_v<P>,
                  "QtAio::PriorityQueue needs a priority type whose move constructor and "
                  "destructor do not throw (noexcept); its copy and its operator< may throw");
    using Base = detail::BasicQueue<Storage>;

public:
    using Base::get;
    using Base::getBlocking;
    using Base::next;
    using Base::tryGet;
    using typename Base::GetOperation;
    using typename Base::GetWithKeyOperation;
    using typename Base::NextOperation;
    using typename Base::PutOperation;
    //! An item together with its priority (members `value` and `priority`), as yielded by
    //! getWithPriority(), tryGetWithPriority() and getBlockingWithPriority().
    using Item = PriorityItem<T, P>;

    //! \a maxSize <= 0 means unbounded.
    explicit PriorityQueue(int maxSize = 0, QObject *parent = nullptr) : Base(maxSize, parent)
    {
        Inspection::add(this, Inspection::Kind::Queue, "QtAio::PriorityQueue", &probe);
    }
    //! Waiters still waiting end with CancelledError.
    ~PriorityQueue() { Inspection::remove(this); }

    //! Waits for room, then puts \a item with \a priority (moved from only when admitted).
    //! Throws QueueClosedError on a closed queue, CancelledError when \a stop is requested.
    [[nodiscard]] PutOperation put(T &&item QTAIO_LIFETIMEBOUND, P priority,
                                   std::stop_token stop = {})
    {
        return put(std::move(item), std::move(priority), Deadline(), std::move(stop));
    }
    //! As put(T&&, P, std::stop_token), with a copy of \a item.
    [[nodiscard]] PutOperation put(const T &item, P priority, std::stop_token stop = {})
    {
        return put(item, std::move(priority), Deadline(), std::move(stop));
    }
    //! As put(T&&, P, std::stop_token), throwing TimeoutError if \a deadline passes first.
    [[nodiscard]] PutOperation put(T &&item QTAIO_LIFETIMEBOUND, P priority, Deadline deadline,
                                   std::stop_token stop = {})
    {
        return {this, &item, checked(std::move(priority)), {std::move(stop), deadline.timer()}};
    }
    //! As put(T&&, P, Deadline, std::stop_token), with a copy of \a item.
    [[nodiscard]] PutOperation put(const T &item, P priority, Deadline deadline,
                                   std::stop_token stop = {})
    {
        return {this, item, checked(std::move(priority)), {std::move(stop), deadline.timer()}};
    }

    //! As get(), yielding the item together with its priority.
    [[nodiscard]] GetWithKeyOperation getWithPriority(std::stop_token stop = {})
    {
        return getWithPriority(Deadline(), std::move(stop));
    }
    //! As getWithPriority(std::stop_token), throwing TimeoutError if \a deadline passes first.
    [[nodiscard]] GetWithKeyOperation getWithPriority(Deadline deadline, std::stop_token stop = {})
    {
        return {this, {std::move(stop), deadline.timer()}};
    }

    //! Puts \a item if there is room now and nobody waits to put; otherwise returns false and
    //! leaves \a item untouched. Throws QueueClosedError on a closed queue.
    [[nodiscard]] bool tryPut(T &&item, const P &priority)
    {
        return this->tryPutImpl(item, checked(priority));
    }
    //! As tryPut(T&&, const P&), with a copy of \a item.
    [[nodiscard]] bool tryPut(const T &item, const P &priority)
    {
        T copy(item);
        return this->tryPutImpl(copy, checked(priority));
    }
    //! As tryGet(), yielding the item together with its priority: std::nullopt when the queue
    //! is empty. Never waits. Throws QueueClosedError on a closed, drained queue.
    [[nodiscard]] std::optional<Item> tryGetWithPriority() { return this->tryGetImpl(); }

    //! Blocking put for threads without a running event loop (see AsyncQueue).
    /*! Waits in the same FIFO as coroutine putters. Throws CancelledError when \a stop is
     * requested, QueueClosedError when closed; then \a item is untouched. */
    void putBlocking(T &&item, P priority, std::stop_token stop = {})
    {
        putBlocking(std::move(item), std::move(priority), Deadline(), std::move(stop));
    }
    //! As putBlocking(T&&, P, std::stop_token), with a copy of \a item.
    void putBlocking(const T &item, P priority, std::stop_token stop = {})
    {
        putBlocking(item, std::move(priority), Deadline(), std::move(stop));
    }
    //! As putBlocking(T&&, P, std::stop_token), throwing TimeoutError when \a deadline passes
    //! first.
    void putBlocking(T &&item, P priority, Deadline deadline, std::stop_token stop = {})
    {
        this->putBlockingImpl(item, checked(std::move(priority)),
                              {std::move(stop), deadline.timer()});
    }
    //! As putBlocking(T&&, P, Deadline, std::stop_token), with a copy of \a item.
    void putBlocking(const T &item, P priority, Deadline deadline, std::stop_token stop = {})
    {
        T copy(item);
        this->putBlockingImpl(copy, checked(std::move(priority)),
                              {std::move(stop), deadline.timer()});
    }
    //! As getBlocking(), yielding the item together with its priority.
    Item getBlockingWithPriority(std::stop_token stop = {})
    {
        return getBlockingWithPriority(Deadline(), std::move(stop));
    }
    //! As getBlockingWithPriority(std::stop_token), throwing TimeoutError when \a deadline
    //! passes first.
    Item getBlockingWithPriority(Deadline deadline, std::stop_token stop = {})
    {
        return this->getBlockingImpl({std::move(stop), deadline.timer()},
                                     "getBlockingWithPriority");
    }

    //! The number of queued items per priority, in priority order (a snapshot; it scans the
    //! queue, so put and get pay nothing for it).
    [[nodiscard]] std::map<P, int> sizeByPriority() const
    {
        return this->readStorage([](const Storage &storage) { return storage.counts(); });
    }
    //! The number of queued items with \a priority (a scan of the queue).
    [[nodiscard]] int sizeOfPriority(const P &priority) const
    {
        return this->readStorage(
            [&priority](const Storage &storage) { return storage.count(priority); });
    }

private:
    //! The queue's Inspection::Details: the items it has handed out, and the backlog of each
    //! priority with its oldest arrival. A storage that does not number its arrivals (a
    //! priority whose `<` may throw) reports counts only, not `numbered`.
    static void probe(const QObject *object, Inspection::Details &details)
    {
        const auto *queue = static_cast<const PriorityQueue *>(object);
        detail::QueueAccess::core(*queue).describe(details, false);
        [[maybe_unused]] int rank = 0;
        const auto toNumber = [&](const P &priority) {
            if constexpr (std::is_arithmetic_v<P>)
                return double(priority);
            else
                return double(rank++);
        };
        details.levels.clear();
        queue->readStorage([&](const Storage &storage) {
            if constexpr (requires { storage.nextArrival(); }) {
                details.numbered = true;
                details.next = storage.nextArrival();
                for (const auto &[priority, level] : storage.waitingByPriority())
                    details.levels.push_back(
                        {toNumber(priority), level.count, level.oldest, level.median, level.p95});
            } else {
                details.next = 0;
                for (const auto &[priority, count] : storage.counts())
                    details.levels.push_back({toNumber(priority), count, 0, 0, 0});
            }
        });
    }

    //! A NaN priority would make the order undefined: std::invalid_argument at the call, before
    //! anything is queued (floating-point priorities only).
    static const P &checked(const P &priority)
    {
        if constexpr (std::is_floating_point_v<P>) {
            if (std::isnan(priority))
                throw std::invalid_argument("PriorityQueue::put: the priority must not be NaN");
        }
        return priority;
    }
    static P checked(P &&priority)
    {
        checked(std::as_const(priority));
        return std::move(priority);
    }
};

} // namespace QtAio
