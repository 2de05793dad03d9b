// SPDX-License-Identifier: MIT
#pragma once

#include <qtaio/deadline.h>
#include <qtaio/detail/resultslot.h>
#include <qtaio/detail/waitcore.h>
#include <qtaio/errors.h>
#include <qtaio/qtaiocore_export.h>

#include <QtCore/QDeadlineTimer>

#include <qcoro/qcorotask.h>

#include <concepts>
#include <coroutine>
#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

namespace QtAio {

namespace detail {
//! A QtAio awaitable: one of the objects returned by put(), get(), wait(), acquire(), join().
//! A request whose operator co_await builds the wait (queue put and get).
template<typename A>
concept WaitRequest = requires(A &&request)
{
    {
        static_cast<A &&>(request).operator co_await()
        } -> std::derived_from<WaitOperation>;
};

template<typename A>
concept WaitAwaitable = std::derived_from<std::remove_cvref_t<A>, WaitOperation> || WaitRequest<A>;

//! The wait itself: a request's awaiter, or the awaitable as it is.
template<typename A>
auto waitOf(A &&awaitable)
{
    if constexpr (WaitRequest<A>)
        return std::forward<A>(awaitable).operator co_await();
    else
        return std::forward<A>(awaitable);
}

//! Reports the failure of a task abandoned by withTimeout() (a `qtaio.timeout` warning).
QTAIO_CORE_EXPORT void reportAbandonedFailure(std::exception_ptr error) noexcept;

//! Awaitable returned by withTimeout() for a QtAio awaitable.
template<typename A>
class WithTimeout {
public:
    WithTimeout(A awaitable, const QDeadlineTimer &deadline) : m_inner(std::move(awaitable))
    {
        m_inner.tightenDeadline(deadline);
    }
    bool await_ready() { return m_inner.await_ready(); }
    bool await_suspend(std::coroutine_handle<> handle) { return m_inner.await_suspend(handle); }
    decltype(auto) await_resume()
    {
        if constexpr (std::is_void_v<decltype(m_inner.await_resume())>) {
            m_inner.await_resume();
            throwIfTimedOut();
        } else {
            auto result = m_inner.await_resume();
            throwIfTimedOut(); // Latch::wait yields false on timeout: here it throws
            return result;
        }
    }

private:
    void throwIfTimedOut() const
    {
        if (m_inner.waitStatus() == WaitStatus::TimedOut)
            throw TimeoutError("withTimeout: timed out");
    }
    A m_inner;
};

//! Awaits \a task and delivers its outcome to \a race; reports a failure that arrives after
//! withTimeout() gave up on it.
template<typename T>
QCoro::Task<> runRace(QCoro::Task<T> task, std::shared_ptr<ResultSlot<T>> race)
{
    std::exception_ptr error;
    try {
        if constexpr (std::is_void_v<T>) {
            co_await std::move(task);
            race->succeed();
        } else {
            race->succeed(co_await std::move(task));
        }
    } catch (...) {
        error = std::current_exception();
    }
    if (error && !race->offerError(error))
        reportAbandonedFailure(error);
}
} // namespace detail

//! Awaits \a awaitable (any QtAio awaitable: put, get, wait, acquire, join, ...) with a
//! deadline (a std::chrono duration or a QDeadlineTimer); throws TimeoutError when
//! \a deadline passes first, also for Latch::wait (which alone would yield false). The
//! earlier of this deadline and the awaitable's own wins; the operation's semantics are
//! unchanged otherwise: completion wins, and a put that times out leaves its item untouched.
//! Resumes on the awaiting thread through its event loop.
template<detail::WaitAwaitable A>
[[nodiscard]] auto withTimeout(A awaitable, Deadline deadline)
{
    auto wait = detail::waitOf(std::move(awaitable));
    return detail::WithTimeout<decltype(wait)>(std::move(wait), deadline.timer());
}

//! Awaits an already started \a task with a deadline: yields its result, rethrows its
//! exception, or throws TimeoutError when \a deadline passes first. A QCoro task cannot be
//! stopped, so it runs on after a timeout; its result is then dropped and a later failure is
//! reported as a warning in the `qtaio.timeout` logging category (never lost silently). Work
//! that should stop on timeout belongs in TaskExecutor::run(factory, timeout). Resumes on the
//! awaiting thread through its event loop.
template<typename T>
QCoro::Task<T> withTimeout(QCoro::Task<T> task, Deadline deadline)
{
    auto race = std::make_shared<detail::ResultSlot<T>>();
    auto runner = detail::runRace(std::move(task), race);
    auto finished = race->done.wait({{}, deadline.timer()});
    if (!co_await finished && race->abandon())
        throw TimeoutError("withTimeout: timed out");
    co_return race->take();
}

} // namespace QtAio
