// SPDX-License-Identifier: MIT
#pragma once

// The typed half of every QtAio queue: one template over a storage policy (FIFO, LIFO,
// stable priority), its awaitables and its blocking forms. Included by asyncqueue.h,
// lifoqueue.h and priorityqueue.h.

#include <qtaio/asyncqueuebase.h>
#include <qtaio/deadline.h>
#include <qtaio/detail/concepts.h>
#include <qtaio/detail/queuecore.h>
#include <qtaio/errors.h>

#include <QtCore/QDeadlineTimer>

#include <concepts>
#include <coroutine>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <stop_token>
#include <type_traits>
#include <utility>

// Marks a parameter that the returned object refers to, so that Clang warns (-Wdangling) when
// the object outlives it: a put awaitable stored past the end of the statement that made it.
#if defined(__has_cpp_attribute)
#if __has_cpp_attribute(clang::lifetimebound)
#define QTAIO_LIFETIMEBOUND [[clang::lifetimebound]]
#endif
#endif
#ifndef QTAIO_LIFETIMEBOUND
#define QTAIO_LIFETIMEBOUND
#endif

namespace QtAio::detail {

//! The typed queues' access to the untyped state of AsyncQueueBase, which keeps it private.
struct QueueAccess {
    static QueueCore &core(const AsyncQueueBase &queue) noexcept { return *queue.d; }
    static const std::shared_ptr<QueueCore> &sharedCore(const AsyncQueueBase &queue) noexcept
    {
        return queue.d;
    }
};

//! The key of FIFO and LIFO queues: nothing.
struct NoKey {
    friend constexpr bool operator==(NoKey, NoKey) noexcept { return true; }
};

//! State of a getter: where the item it is handed goes.
template<typename Item>
class GetterBase : public WaitOperation {
public:
    using WaitOperation::WaitOperation;
    GetterBase(const GetterBase &other) noexcept : WaitOperation(other) {}
    [[gnu::always_inline]] ~GetterBase() = default;
    std::optional<Item> result;
};

//! State of a putter: the caller's item (moved from only when admitted) and its key.
template<typename T, typename Key>
class PutterBase : public WaitOperation {
public:
    PutterBase(T *source, Key itemKey,
               WaitOptions options) noexcept(std::is_nothrow_move_constructible_v<Key>)
        : WaitOperation(std::move(options)), item(source), key(std::move(itemKey))
    {
    }
    PutterBase(const PutterBase &other) : WaitOperation(other), item(other.item), key(other.key) {}
    [[gnu::always_inline]] ~PutterBase() = default;
    T *item;
    Key key;
};

//! The queue template shared by AsyncQueue, LifoQueue and PriorityQueue.
/*!
 * Storage provides: value_type, Key, Item (what a get hands over), push(T&&, Key),
 * Item pop(), clear(), size(), and static value(Item&&) to extract the value.
 */
template<typename Storage>
class BasicQueue : public AsyncQueueBase {
    // A get hands the item over by moving it, after it has left the queue: a move that could
    // throw would lose it on the way (the reason std::queue splits front() from pop()). Every
    // other step that can throw (a copy of the item or of its priority, an allocation) happens
    // before the queue changes, and then leaves the queue and the caller's item as they were.
    static_assert(std::is_nothrow_move_constructible_v<typename Storage::value_type> &&
                      std::is_nothrow_destructible_v<typename Storage::value_type>,
                  "QtAio queues need an item type whose move constructor and destructor do not "
                  "throw (noexcept): a get moves the item out after it has left the queue");

public:
    using value_type = typename Storage::value_type;
    using Key = typename Storage::Key;
    using Item = typename Storage::Item;
    using Getter = GetterBase<Item>;
    using Putter = PutterBase<value_type, Key>;

    //! The wait of a put(): constructed in place in the awaiting coroutine's frame by
    //! PutOperation's operator co_await.
    //! A put(const T&) awaiter owns its copy of the item, so that it stands on its own (as in
    //! withTimeout(), which keeps the awaiter, not the request).
    class PutAwaiter : public Putter {
    public:
        PutAwaiter(BasicQueue *queue, value_type *source, std::optional<value_type> &&owned,
                   Key itemKey, WaitOptions options)
            : Putter(source, std::move(itemKey), std::move(options)), m_queue(queue)
        {
            // Moved member by member, not as a whole optional: for a small item, a copy of the
            // whole would load the value and its flag at once right after they were stored
            // apart, a store-forwarding stall that cost a put of an int a third of its time.
            if (owned) {
                m_owned.emplace(std::move(*owned));
                this->item = &*m_owned;
            }
        }
        //! Copies an awaiter that has not started; an owned item is copied and re-pointed.
        PutAwaiter(const PutAwaiter &other) : Putter(other), m_queue(other.m_queue)
        {
            if constexpr (std::is_copy_constructible_v<value_type>) {
                if (other.m_owned) {
                    m_owned.emplace(*other.m_owned);
                    this->item = &*m_owned;
                }
            }
        }
        PutAwaiter &operator=(const PutAwaiter &) = delete;
        // Inlined, so that a put that completes at once costs a few compares to destroy.
        [[gnu::always_inline]] ~PutAwaiter() = default;

        bool await_ready() { return m_queue->tryPutNow(*this); }
        bool await_suspend(std::coroutine_handle<> handle)
        {
            return m_queue->suspendPut(*this, handle);
        }
        void await_resume()
        {
            this->disarm();
            if (this->status != WaitStatus::Completed)
                WaitOperation::throwFor(this->status, Storage::typeName, "put");
        }

    private:
        BasicQueue *m_queue;
        std::optional<value_type> m_owned;
    };

    //! Awaitable returned by put(): completes when the item entered the queue.
    /*!
     * It only holds the request; co_await builds the wait (a PutAwaiter) right in the
     * coroutine frame, so that a put that completes at once copies nothing. It refers to the
     * caller's item, so it is awaited in the expression that creates it: co_await accepts it
     * only as an rvalue (`auto op = queue.put(QString(...)); co_await op;` would read a
     * temporary that is gone, and does not compile).
     */
    class PutOperation {
    public:
        PutOperation(BasicQueue *queue, value_type *source, Key itemKey, WaitOptions options)
            : m_queue(queue), m_source(source), m_key(std::move(itemKey)),
              m_options(std::move(options))
        {
        }
        //! Owns a copy of the item (put(const T&)).
        PutOperation(BasicQueue *queue, const value_type &value, Key itemKey, WaitOptions options)
            : m_queue(queue), m_source(nullptr), m_key(std::move(itemKey)),
              m_options(std::move(options)), m_owned(value)
        {
        }

        PutAwaiter operator co_await() &&
        {
            return {m_queue, m_source, std::move(m_owned), std::move(m_key), std::move(m_options)};
        }
        //! Rejected at compile time: a stored put awaitable may refer to a temporary that is
        //! gone. (Declared, so that QCoro's Awaitable concept, which checks an lvalue, holds.)
        template<typename Self = PutOperation>
        PutAwaiter operator co_await() &
        {
            static_assert(alwaysFalse<Self>,
                          "QtAio: a put awaitable refers to the caller's item: co_await it in the "
                          "expression that creates it (co_await queue.put(item)); a stored one "
                          "(auto op = queue.put(...); co_await op;) would read a temporary that "
                          "is gone");
            return std::move(*this).operator co_await();
        }

    private:
        BasicQueue *m_queue;
        value_type *m_source;
        Key m_key;
        WaitOptions m_options;
        std::optional<value_type> m_owned;
    };

    //! What a get yields: the value, the whole Item (with its key), or the value as a
    //! std::optional that is empty once the queue is closed and drained (next()).
    enum class GetForm { Value, WithKey, OrClosed };

    //! The wait of a get(): constructed in place in the awaiting coroutine's frame by
    //! GetAwaitable's operator co_await.
    template<GetForm Form>
    class GetAwaiter : public Getter {
    public:
        GetAwaiter(BasicQueue *queue, WaitOptions options)
            : Getter(std::move(options)), m_queue(queue)
        {
        }
        GetAwaiter(const GetAwaiter &other) : Getter(other), m_queue(other.m_queue) {}
        // Inlined, so that a get that completes at once costs a few compares to destroy.
        [[gnu::always_inline]] ~GetAwaiter() = default;

        bool await_ready() { return m_queue->tryGetNow(*this); }
        bool await_suspend(std::coroutine_handle<> handle)
        {
            return m_queue->suspendGet(*this, handle);
        }
        auto await_resume()
        {
            this->disarm();
            if constexpr (Form == GetForm::OrClosed) {
                if (this->status == WaitStatus::Closed)
                    return std::optional<value_type>();
            }
            if (this->status != WaitStatus::Completed)
                WaitOperation::throwFor(this->status, Storage::typeName,
                                        Form == GetForm::WithKey    ? "getWithPriority"
                                        : Form == GetForm::OrClosed ? "next"
                                                                    : "get");
            if constexpr (Form == GetForm::WithKey)
                return std::move(*this->result);
            else if constexpr (Form == GetForm::OrClosed)
                return std::optional<value_type>(Storage::value(std::move(*this->result)));
            else
                return Storage::value(std::move(*this->result));
        }

    private:
        BasicQueue *m_queue;
    };

    //! Awaitable returned by get(): yields the value (or, by Form, the whole Item or an
    //! optional value).
    /*!
     * It only holds the request; co_await builds the wait (a GetAwaiter) right in the
     * coroutine frame. Await it once.
     */
    template<GetForm Form>
    class GetAwaitable {
    public:
        GetAwaitable(BasicQueue *queue, WaitOptions options)
            : m_queue(queue), m_options(std::move(options))
        {
        }

        GetAwaiter<Form> operator co_await() { return {m_queue, std::move(m_options)}; }

    private:
        BasicQueue *m_queue;
        WaitOptions m_options;
    };

    //! Awaitable returned by get(): yields the value.
    using GetOperation = GetAwaitable<GetForm::Value>;
    //! Awaitable returned by getWithPriority(): yields the whole Item.
    using GetWithKeyOperation = GetAwaitable<GetForm::WithKey>;
    //! Awaitable returned by next(): yields std::optional<T>, empty once closed and drained.
    using NextOperation = GetAwaitable<GetForm::OrClosed>;

    //! Items are destroyed with the queue; waiters still pending fail with CancelledError.
    ~BasicQueue() override { core().endPutterSpins(); }

    [[nodiscard]] GetOperation get(std::stop_token stop = {})
    {
        return {this, {std::move(stop), Deadline::never().timer()}};
    }
    [[nodiscard]] GetOperation get(Deadline deadline, std::stop_token stop = {})
    {
        return {this, {std::move(stop), deadline.timer()}};
    }

    [[nodiscard]] NextOperation next(std::stop_token stop = {})
    {
        return {this, {std::move(stop), Deadline::never().timer()}};
    }
    [[nodiscard]] NextOperation next(Deadline deadline, std::stop_token stop = {})
    {
        return {this, {std::move(stop), deadline.timer()}};
    }

    value_type getBlocking(std::stop_token stop = {})
    {
        return Storage::value(getBlockingImpl({std::move(stop), Deadline::never().timer()}));
    }
    value_type getBlocking(Deadline deadline, std::stop_token stop = {})
    {
        return Storage::value(getBlockingImpl({std::move(stop), deadline.timer()}));
    }

    //! Takes an item if there is one. Throws QueueClosedError on a closed, drained queue.
    [[nodiscard]] std::optional<value_type> tryGet()
    {
        auto item = tryGetImpl();
        if (!item)
            return std::nullopt;
        return std::optional<value_type>(Storage::value(std::move(*item)));
    }

protected:
    explicit BasicQueue(int maxSize, QObject *parent)
        : AsyncQueueBase(Storage::typeName, maxSize, parent)
    {
    }

    // --- non-waiting forms ------------------------------------------------------------

    bool tryPutImpl(value_type &item, const Key &key)
    {
        QueueTransaction tx(core());
        if (tx.core.closed)
            throw QueueClosedError(std::string(Storage::typeName) +
                                   "::tryPut: the queue is closed");
        return putLocked(tx.wake, item, key);
    }

    std::optional<Item> tryGetImpl()
    {
        QueueTransaction tx(core());
        std::optional<Item> out;
        if (getLocked(tx.wake, out))
            return out;
        if (tx.core.closed)
            throw QueueClosedError(std::string(Storage::typeName) +
                                   "::tryGet: the queue is closed and drained");
        return std::nullopt;
    }

    // --- blocking forms ---------------------------------------------------------------

    void putBlockingImpl(value_type &item, Key key, WaitOptions options)
    {
        Putter op(&item, std::move(key), std::move(options));
        runBlocking(
            op, core().putters,
            [&](WakeList &wake) {
                if (core().closed) {
                    op.status = WaitStatus::Closed;
                    return true;
                }
                core().blockingPutSinceWait = true;
                return putLocked(wake, item, op.key);
            },
            SpinForRoom::Yes);
        if (op.status != WaitStatus::Completed)
            WaitOperation::throwFor(op.status, Storage::typeName, "putBlocking");
    }

    Item getBlockingImpl(WaitOptions options, const char *what = "getBlocking")
    {
        Getter op(std::move(options));
        runBlocking(op, core().getters, [&](WakeList &wake) {
            if (getLocked(wake, op.result))
                return true;
            if (core().closed) {
                op.status = WaitStatus::Closed;
                return true;
            }
            return false;
        });
        if (op.status != WaitStatus::Completed)
            WaitOperation::throwFor(op.status, Storage::typeName, what);
        return std::move(*op.result);
    }

    //! Calls \a read with the storage, under the lock.
    template<typename Read>
    decltype(auto) readStorage(Read read) const
    {
        const auto lock = core().lock();
        return read(m_storage);
    }

private:
    [[nodiscard]] QueueCore &core() const noexcept { return QueueAccess::core(*this); }
    [[nodiscard]] const std::shared_ptr<QueueCore> &sharedCore() const noexcept
    {
        return QueueAccess::sharedCore(*this);
    }

    enum class SpinForRoom { No, Yes };

    // Runs \a tryNow under the lock; when it cannot finish, blocks \a op in \a list. A putter
    // (\a spin) that found the queue full spins for room first and tries once more.
    template<typename TryNow>
    void runBlocking(WaitOperation &op, WaitList &list, TryNow tryNow,
                     SpinForRoom spin = SpinForRoom::No)
    {
        WakeList wake;
        bool flush = false;
        auto lock = core().lock();
        bool done = tryNow(wake);
        if (!done && spin == SpinForRoom::Yes && core().shouldSpinForRoomLocked()) {
            // The core outlives a destruction of the queue that ends the spin.
            const std::shared_ptr<QueueCore> keep = sharedCore();
            if (!keep->spinForRoomLocked(lock, op)) {
                op.status = WaitStatus::Destroyed;
                lock.unlock();
                return;
            }
            done = tryNow(wake);
        }
        if (done) {
            if (op.status == WaitStatus::Waiting)
                op.status = WaitStatus::Completed;
        } else {
            op.blockLocked(sharedCore(), list, lock); // returns unlocked
        }
        if (lock.owns_lock()) {
            flush = core().markChangedLocked();
            lock.unlock();
        }
        if (flush)
            core().flush();
        wake.wakeAll();
    }

    // Takes the item into the queue if that can happen now: straight to the first waiting
    // getter, or into storage when there is room and no putter is waiting ahead (FIFO).
    bool putLocked(WakeList &wake, value_type &item, const Key &key)
    {
        auto &c = core();
        if (!c.getters.isEmpty()) { // (checked inline: the common case has no getter)
            auto *getter = static_cast<Getter *>(c.getters.front());
            // May throw (a copy of the priority): before anything changed.
            getter->result.emplace(Storage::makeItem(std::move(item), key));
            c.getters.popFront();
            getter->status = WaitStatus::Completed;
            wake.add(getter);
            ++c.unfinishedTasks;
            ++c.pendingPut;
            ++c.arrivals;
            c.itemTakenLocked();
            return true;
        }
        if (!c.putters.isEmpty() || c.isFull())
            return false;
        m_storage.push(std::move(item), key);
        c.itemStoredLocked();
        return true;
    }

    // Takes an item if there is one, then lets waiting putters fill the room it left.
    bool getLocked(WakeList &wake, std::optional<Item> &out)
    {
        auto &c = core();
        if (c.size == 0) {
            // Putters wait with room to spare only after an admission failed (out of memory, a
            // priority's copy threw); a get admits them (no virtual call on the fast path).
            if (c.putters.isEmpty() || c.isFull())
                return false;
            BasicQueue::admitPuttersLocked(wake);
            if (c.size == 0)
                return false;
        }
        out.emplace(m_storage.pop());
        --c.size;
        if (c.spinningPutters != 0)
            c.sizeForSpinningPutters.store(c.size, std::memory_order_relaxed);
        ++c.takenSinceWait;
        c.itemTakenLocked();
        if (!c.putters.isEmpty())
            BasicQueue::admitPuttersLocked(wake); // no virtual call on the fast path
        return true;
    }

    void admitPuttersLocked(WakeList &wake) override
    {
        auto &c = core();
        while (!c.isFull() && !c.putters.isEmpty()) {
            auto *putter = static_cast<Putter *>(c.putters.front());
            try {
                m_storage.push(std::move(*putter->item), putter->key);
            } catch (...) {
                // Out of memory, or a priority's copy threw: the putter keeps its item and
                // waits on, and the next get admits it. The get that got here has its item.
                break;
            }
            c.putters.popFront();
            c.itemStoredLocked();
            putter->status = WaitStatus::Completed;
            wake.add(putter);
        }
    }

    int discardAllLocked() override
    {
        const int n = static_cast<int>(m_storage.size());
        m_storage.clear();
        return n;
    }

    bool tryPutNow(PutAwaiter &op)
    {
        QueueTransaction tx(core());
        if (tx.core.closed) {
            op.status = WaitStatus::Closed;
            return true;
        }
        if (!putLocked(tx.wake, *op.item, op.key))
            return false;
        op.status = WaitStatus::Completed;
        return true;
    }

    bool suspendPut(PutAwaiter &op, std::coroutine_handle<> handle)
    {
        bool suspended = false;
        {
            QueueTransaction tx(core());
            if (tx.core.closed)
                op.status = WaitStatus::Closed;
            else if (putLocked(tx.wake, *op.item, op.key))
                op.status = WaitStatus::Completed;
            else
                suspended = op.enqueueLocked(sharedCore(), tx.core.putters, handle);
        }
        if (suspended)
            op.arm();
        return suspended;
    }

    template<GetForm Form>
    bool tryGetNow(GetAwaiter<Form> &op)
    {
        bool spin = false;
        {
            QueueTransaction tx(core());
            if (getLocked(tx.wake, op.result)) {
                op.status = WaitStatus::Completed;
                return true;
            }
            if (tx.core.closed) {
                op.status = WaitStatus::Closed;
                return true;
            }
            spin = tx.core.prepareSpinLocked();
        }
        // Whatever the spin saw, suspendGet() looks again under the lock before it suspends.
        if (spin)
            core().spinForItem(op);
        return false;
    }

    template<GetForm Form>
    bool suspendGet(GetAwaiter<Form> &op, std::coroutine_handle<> handle)
    {
        bool suspended = false;
        {
            QueueTransaction tx(core());
            if (getLocked(tx.wake, op.result))
                op.status = WaitStatus::Completed;
            else if (tx.core.closed)
                op.status = WaitStatus::Closed;
            else if ((suspended = op.enqueueLocked(sharedCore(), tx.core.getters, handle)))
                tx.core.resetSpinLocked();
        }
        if (suspended)
            op.arm();
        return suspended;
    }

    Storage m_storage;
};

} // namespace QtAio::detail
