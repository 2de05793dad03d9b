// SPDX-License-Identifier: MIT
#pragma once

// A gather()/map()/stream item whose work is one runInThread() call: the call finishes the item
// itself when it ends, so that the item needs no coroutine of its own to await it (runAdopted()).
//
// While a call's launcher calls an item's factory (on its own thread, see SourceLauncher), it
// offers the item (ItemOffer). The first runInThread() of the same executor that starts inside
// that factory call claims the offer, and records its coroutine frame. When the factory returns
// exactly that coroutine's task, still running, the launcher hands the item's registration, the
// call's permit and the call's state over to the claimant (DirectItem::adopt()) and drops the task;
// otherwise the item goes on as any other. Everything up to the hand-over happens on the
// launcher's thread, inside the factory call, so the offer needs no lock.

#include <qtaio/detail/executor/gate.h>
#include <qtaio/detail/executor/trackedtask.h>
#include <qtaio/qtaiocore_export.h>

#include <qcoro/qcorotask.h>

#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <stop_token>

namespace QtAio::detail {

class DirectItem;

//! Stands for the result type \a T of an item, by address (see ItemOffer::resultTag).
template<typename T>
inline constexpr char resultTag = 0;

//! Gives an item's result (\a value: a pointer to it, nullptr for void) to \a sink, the call's
//! state, as the item's body would.
using DeliverItem = void (*)(TaskSink &sink, std::size_t index, void *value);

//! An item offered to the runInThread() call its factory makes (see the file comment).
struct ItemOffer {
    const ExecutorCore *core = nullptr;
    //! &resultTag<R> of the item's result R: a claimant yields the same type.
    const void *resultTag = nullptr;
    //! The runInThread() call that claimed the offer, and its coroutine frame; null until then.
    DirectItem *claimant = nullptr;
    void *claimantFrame = nullptr;
};

//! Installs \a offer as the calling thread's item offer (nullptr: none) and returns the previous
//! one.
QTAIO_CORE_EXPORT ItemOffer *exchangeItemOffer(ItemOffer *offer) noexcept;

//! Installs an item offer for a scope (the factory call), restoring the outer one after.
class ItemOfferScope {
public:
    explicit ItemOfferScope(ItemOffer *offer) noexcept : m_outer(exchangeItemOffer(offer)) {}
    ItemOfferScope(const ItemOfferScope &) = delete;
    ItemOfferScope &operator=(const ItemOfferScope &) = delete;
    ~ItemOfferScope() { exchangeItemOffer(m_outer); }

private:
    ItemOffer *m_outer;
};

//! Awaitable that yields the awaiting coroutine's frame address without suspending.
struct OwnFrame {
    void *frame = nullptr;
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> handle) noexcept
    {
        frame = handle.address();
        return false;
    }
    [[nodiscard]] void *await_resume() const noexcept { return frame; }
};

//! The frame address of the coroutine of \a task.
template<typename T>
void *coroutineFrame(const QCoro::Task<T> &task) noexcept
{
    // QCoro has no accessor for it: the handle is read through the task's awaiter, whose base
    // keeps it as a protected member (named here through a class derived from that base).
    using Base = QCoro::detail::TaskAwaiterBase<typename QCoro::Task<T>::promise_type>;
    struct Reader : Base {
        static void *frameOf(const Base &awaiter) noexcept
        {
            return (awaiter.*(&Reader::mAwaitedCoroutine)).address();
        }
    };
    return Reader::frameOf(task.operator co_await());
}

//! The item a runInThread() call took over (see the file comment). Lives in that call's frame.
class QTAIO_CORE_EXPORT DirectItem {
public:
    DirectItem() = default;
    DirectItem(const DirectItem &) = delete;
    DirectItem &operator=(const DirectItem &) = delete;
    //! Withdraws an unconfirmed claim (the call ends inside the factory call that offered it).
    ~DirectItem();

    //! Claims the thread's item offer for a runInThread() call of \a core yielding the type
    //! tagged \a resultTag, in the coroutine frame \a frame. Returns whether it did.
    bool claim(const ExecutorCore *core, const void *resultTag, void *frame) noexcept;
    //! The launcher hands the item over (see ItemOffer): its registration \a registered (moved
    //! here, with \a stop), the call's \a permit and \a sink, the call's state that owns what
    //! the item refers to.
    void adopt(std::shared_ptr<ExecutorCore> core, TrackedTask &registered, std::stop_source stop,
               std::optional<GatePermit> permit, std::shared_ptr<TaskSink> sink, std::size_t index,
               DeliverItem deliver) noexcept;
    //! Whether the item was handed over: the call must finish() it.
    [[nodiscard]] bool adopted() const noexcept { return m_scope.has_value(); }
    //! Ends the item as its body would: \a error (what the call throws, as the item's awaiter
    //! would see it) or \a value (see DeliverItem) to the call's state, then the item's task,
    //! then the call's permit.
    void finish(std::exception_ptr error, void *value) noexcept;

private:
    bool m_claimed = false;
    std::shared_ptr<TaskSink> m_sink;
    std::optional<GatePermit> m_permit;
    std::optional<TaskScope> m_scope; // the item's task; ends before the permit goes
    std::size_t m_index = 0;
    DeliverItem m_deliver = nullptr;
};

} // namespace QtAio::detail
