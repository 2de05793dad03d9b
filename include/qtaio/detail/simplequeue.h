// SPDX-License-Identifier: MIT
#pragma once

// The typed put side shared by AsyncQueue<T> and LifoQueue<T> (PriorityQueue has its own,
// with a priority). Included by asyncqueue.h and lifoqueue.h.

#include <qtaio/deadline.h>
#include <qtaio/detail/basicqueue.h>
#include <qtaio/detail/queuestorage.h>

#include <stop_token>
#include <utility>

namespace QtAio::detail {

//! The typed interface of AsyncQueue<T> and LifoQueue<T>: put in every form over BasicQueue.
template<typename T, typename Storage>
class SimpleQueue : public BasicQueue<Storage> {
    using Base = BasicQueue<Storage>;

public:
    using typename Base::PutOperation;

    [[nodiscard]] PutOperation put(T &&item QTAIO_LIFETIMEBOUND, std::stop_token stop = {})
    {
        return {this, &item, {}, {std::move(stop), Deadline::never().timer()}};
    }
    [[nodiscard]] PutOperation put(const T &item, std::stop_token stop = {})
    {
        return {this, item, {}, {std::move(stop), Deadline::never().timer()}};
    }
    [[nodiscard]] PutOperation put(T &&item QTAIO_LIFETIMEBOUND, Deadline deadline,
                                   std::stop_token stop = {})
    {
        return {this, &item, {}, {std::move(stop), deadline.timer()}};
    }
    [[nodiscard]] PutOperation put(const T &item, Deadline deadline, std::stop_token stop = {})
    {
        return {this, item, {}, {std::move(stop), deadline.timer()}};
    }

    [[nodiscard]] bool tryPut(T &&item) { return this->tryPutImpl(item, {}); }
    [[nodiscard]] bool tryPut(const T &item)
    {
        T copy(item);
        return this->tryPutImpl(copy, {});
    }

    void putBlocking(T &&item, std::stop_token stop = {})
    {
        this->putBlockingImpl(item, {}, {std::move(stop), Deadline::never().timer()});
    }
    void putBlocking(const T &item, std::stop_token stop = {})
    {
        T copy(item);
        this->putBlockingImpl(copy, {}, {std::move(stop), Deadline::never().timer()});
    }
    void putBlocking(T &&item, Deadline deadline, std::stop_token stop = {})
    {
        this->putBlockingImpl(item, {}, {std::move(stop), deadline.timer()});
    }
    void putBlocking(const T &item, Deadline deadline, std::stop_token stop = {})
    {
        T copy(item);
        this->putBlockingImpl(copy, {}, {std::move(stop), deadline.timer()});
    }

protected:
    explicit SimpleQueue(int maxSize, QObject *parent) : Base(maxSize, parent) {}
};

} // namespace QtAio::detail
