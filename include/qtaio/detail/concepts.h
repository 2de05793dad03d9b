// SPDX-License-Identifier: MIT
#pragma once

// The constraints of the public templates, as C++20 concepts. Every one is evaluated as a
// constraint by GCC and Clang alike: a type that does not fit makes the overload drop out (or
// a static_assert name the requirement), never a hard error inside a trait. Nothing here
// depends on another library's detail namespace.

// moc does not need these, and its parser stops at the standard library's <concepts>.
#ifndef Q_MOC_RUN

#include <concepts>
#include <coroutine>
#include <ranges>
#include <stop_token>
#include <type_traits>

namespace QtAio::detail {

//! An awaiter: the three await_ methods, as the compiler calls them on an lvalue.
template<typename T>
concept AwaiterLike = requires(T &awaiter, std::coroutine_handle<> handle)
{
    {
        awaiter.await_ready()
        } -> std::convertible_to<bool>;
    awaiter.await_suspend(handle);
    awaiter.await_resume();
};

template<typename T>
concept HasMemberCoAwait = requires(T &&awaitable)
{
    static_cast<T &&>(awaitable).operator co_await();
};

template<typename T>
concept HasFreeCoAwait = requires(T &&awaitable)
{
    operator co_await(static_cast<T &&>(awaitable));
};

//! Something `co_await` accepts as an rvalue (a QCoro::Task, a QtAio awaitable, ...).
template<typename T>
concept Awaitable = HasMemberCoAwait<T> || HasFreeCoAwait<T> || AwaiterLike<T>;

//! The awaiter `co_await` obtains from \a awaitable (unevaluated use only).
template<Awaitable T>
decltype(auto) awaiterOf(T &&awaitable)
{
    if constexpr (HasMemberCoAwait<T>)
        return static_cast<T &&>(awaitable).operator co_await();
    else if constexpr (HasFreeCoAwait<T>)
        return operator co_await(static_cast<T &&>(awaitable));
    else
        return static_cast<T &&>(awaitable);
}

//! What `co_await` on an rvalue of \a T yields, decayed.
template<Awaitable T>
using AwaitResult = std::decay_t<decltype(awaiterOf(std::declval<T>()).await_resume())>;

//! A factory that takes the std::stop_token its work should observe.
template<typename F>
concept TakesStopToken = std::invocable<F &, std::stop_token>;

template<typename F>
struct FactoryCall {
}; // not callable: no `type`, so the alias below fails as a substitution
template<typename F>
requires TakesStopToken<F>
struct FactoryCall<F> {
    using type = std::invoke_result_t<F &, std::stop_token>;
};
template<typename F>
requires(!TakesStopToken<F> && std::invocable<F &>) struct FactoryCall<F> {
    using type = std::invoke_result_t<F &>;
};

//! What a factory returns when called (with a std::stop_token if it takes one).
template<typename F>
using FactoryAwaitable = typename FactoryCall<F>::type;

//! A callable that starts work when called, optionally with a std::stop_token, and returns an
//! awaitable for it (usually a lambda returning QCoro::Task<T>).
template<typename F>
concept TaskFactory = requires
{
    typename FactoryAwaitable<F>;
}
&&Awaitable<FactoryAwaitable<F>>;

//! What awaiting a factory's work yields.
template<TaskFactory F>
using FactoryResult = AwaitResult<FactoryAwaitable<F>>;

//! A started QCoro task or another awaitable that is not itself a factory: what a caller passes
//! by mistake where a factory is expected.
template<typename T>
concept StartedWork = Awaitable<T> && !TaskFactory<T>;

//! A range whose items are factories (what gather() and the streams take).
template<typename R>
concept FactoryRange = std::ranges::input_range<R> && TaskFactory<std::ranges::range_value_t<R>>;
//! A range whose items are not factories (started tasks, values): a misuse of gather().
template<typename R>
concept NotFactoryRange = std::ranges::input_range<std::remove_cvref_t<R>> &&
    !TaskFactory<std::ranges::range_value_t<std::remove_cvref_t<R>>>;

//! What a rejected call returns after its static_assert: awaitable, and its result converts to
//! anything, so that the static_assert stays the only error reported.
struct Misused {
    struct AnyValue {
        template<typename T>
        operator T() const; // never defined: only ever named in code that does not compile
    };
    [[nodiscard]] bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    AnyValue await_resume() const noexcept { return {}; }
};

//! Always false, for a static_assert that must depend on a template parameter.
template<typename...>
inline constexpr bool alwaysFalse = false;

} // namespace QtAio::detail

#endif // Q_MOC_RUN
