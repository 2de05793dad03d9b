// SPDX-License-Identifier: MIT
#pragma once

// Where run() and spawn() deliver the result of their one tracked task, and the state of a
// gather() of already started tasks.

#include <qtaio/detail/executorcore.h>
#include <qtaio/detail/resultslot.h>
#include <qtaio/detail/waitcore.h>

#include <qcoro/qcorotask.h>

#include <atomic>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace QtAio::detail {

//! Where run() delivers the result; abandoned once the caller timed out, after which a
//! failure is refused and so reported as unhandled by the executor.
template<typename R>
class RunSlot final : public TaskSink {
public:
    bool fail(std::size_t, std::exception_ptr error) noexcept override
    {
        return result.offerError(std::move(error));
    }
    ResultSlot<R> result;
};

//! The body of run() and spawn() (see launch()): hands the result to the caller's slot.
template<typename R, typename Factory>
struct RunBody {
    std::shared_ptr<RunSlot<R>> slot;
    Factory factory;

    template<typename... V>
    void finish(V &&...value)
    {
        slot->result.succeed(std::forward<V>(value)...);
    }
};

template<typename T>
using ValueOrMonostate = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

//! The shared state of a gather() of started tasks: each one's result, the first failure (in
//! the order the tasks ended), and how many are still running.
template<typename... T>
struct StartedTasks {
    std::tuple<std::optional<ValueOrMonostate<T>>...> values; // each written by its runner
    std::mutex mutex;                                         // guards the first failure
    std::exception_ptr firstError;
    std::size_t firstErrorIndex = 0;
    std::atomic<std::size_t> running{sizeof...(T)};
    AsyncEvent done; // set by the last runner: its release makes every value visible
};

//! Awaits task \a I of a gather() of started tasks and records its outcome.
template<std::size_t I, typename State, typename T>
QCoro::Task<> awaitStarted(std::shared_ptr<State> state, QCoro::Task<T> task)
{
    try {
        if constexpr (std::is_void_v<T>) {
            co_await task;
            std::get<I>(state->values).emplace();
        } else {
            std::get<I>(state->values).emplace(co_await task);
        }
    } catch (...) {
        std::scoped_lock lock(state->mutex);
        if (!state->firstError) {
            state->firstError = std::current_exception();
            state->firstErrorIndex = I;
        }
    }
    if (state->running.fetch_sub(1, std::memory_order_acq_rel) == 1)
        state->done.set();
}

} // namespace QtAio::detail
