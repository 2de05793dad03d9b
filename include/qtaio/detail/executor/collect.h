// SPDX-License-Identifier: MIT
#pragma once

// Collecting the results of gather()/map() and their settled forms: the typed slots of one
// call, on top of its untyped CallState.

#include <qtaio/detail/executor/callstate.h>
#include <qtaio/detail/executor/resultlist.h>
#include <qtaio/detail/executor/trackedtask.h>
#include <qtaio/outcome.h>

#include <qcoro/qcorotask.h>

#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

namespace QtAio::detail {

template<typename R, bool Settled>
class CollectState;

//! The body of one item of a gather()/map() call (see launch()): records the factory's result in
//! the item's slot.
template<typename R, bool Settled, typename Factory>
struct CollectItem {
    std::shared_ptr<CollectState<R, Settled>> state;
    std::size_t index;
    Factory factory;

    template<typename... V>
    void finish(V &&...value)
    {
        state->succeed(index, std::forward<V>(value)...);
    }
};

//! The results of one gather()/map() call, one slot per item in input order.
template<typename R, bool Settled>
class CollectState final : public CallState {
public:
    using Slot = std::conditional_t<Settled, Outcome<R>,
                                    std::conditional_t<std::is_void_v<R>, bool, std::optional<R>>>;

    explicit CollectState(int limit) : CallState(limit, 0) {}

    //! The body of item of a factory of type \a Factory (see CollectItem).
    template<typename Factory>
    using Item = CollectItem<R, Settled, Factory>;

    template<typename... V>
    void succeed(std::size_t index, V &&...value)
    {
        bool allDone = false;
        {
            std::scoped_lock lock(m_mutex);
            if constexpr (Settled)
                m_slots[index] = Outcome<R>::fromValue(std::forward<V>(value)...);
            else if constexpr (std::is_void_v<R>)
                m_slots[index] = true;
            else
                m_slots[index].emplace(std::forward<V>(value)...);
            allDone = endItemLocked();
        }
        if (allDone)
            done.set();
    }

    bool fail(std::size_t index, std::exception_ptr error) noexcept override
    {
        if constexpr (!Settled) {
            return CallState::fail(index, std::move(error));
        } else {
            bool allDone = false;
            {
                std::scoped_lock lock(m_mutex);
                reserveLocked(index); // an input that failed before it was reserved
                m_slots[index] = Outcome<R>::fromError(std::move(error));
                allDone = endItemLocked();
            }
            if (allDone)
                done.set();
            return true;
        }
    }

    //! After done: the results in input order; throws as CallState::throwIfFailed().
    auto result(const char *operation)
    {
        throwIfFailed(operation);
        if constexpr (Settled) {
            ResultContainer<Outcome<R>> out;
            out.reserve(m_slots.size());
            for (auto &slot : m_slots)
                out.push_back(std::move(slot));
            return out;
        } else if constexpr (!std::is_void_v<R>) {
            ResultContainer<R> out;
            out.reserve(m_slots.size());
            for (auto &slot : m_slots)
                out.push_back(std::move(*slot));
            return out;
        }
    }

private:
    void reserveLocked(std::size_t index) override
    {
        if (m_slots.size() <= index)
            m_slots.resize(index + 1);
    }
    void unreserveLocked(std::size_t index) noexcept override
    {
        if (m_slots.size() == index + 1)
            m_slots.pop_back();
    }

    std::deque<Slot> m_slots; // guarded by m_mutex
};

//! Launches the items of a call from the input \a Next produces, as State::Item bodies.
template<typename State, typename Next>
class SourceLauncher final : public ItemLauncher {
public:
    SourceLauncher(std::shared_ptr<ExecutorCore> core, const char *operation,
                   std::shared_ptr<State> state, Next next)
        : m_core(std::move(core)), m_operation(operation), m_state(std::move(state)),
          m_next(std::move(next))
    {
    }

    bool launchNext(std::size_t index, std::optional<GatePermit> permit) override
    {
        auto factory = m_next(); // inputs are consumed only once there is room for them
        if (!factory)
            return false;
        using Item = typename State::template Item<typename decltype(factory)::value_type>;
        // The item stops with its call (a failure, cancelAll()): it shares the call's stop.
        launch(m_core, m_operation, true, m_state->callStop, std::move(permit), m_state, index,
               Item{m_state, index, std::move(*factory)});
        return true;
    }

private:
    std::shared_ptr<ExecutorCore> m_core;
    const char *m_operation;
    std::shared_ptr<State> m_state;
    Next m_next;
};

//! Starts the call of a state \a state over the input \a next (see runCall()).
template<typename State, typename Next>
QCoro::Task<> startCall(const std::shared_ptr<ExecutorCore> &core, const char *operation,
                        const std::shared_ptr<State> &state, Next next)
{
    auto launcher =
        std::make_shared<SourceLauncher<State, Next>>(core, operation, state, std::move(next));
    return runCall(core, state, std::move(launcher));
}

//! Launches the factories \a next() produces under the call's limit, then awaits them all and
//! yields their results.
template<typename R, bool Settled, typename Next>
auto collect(std::shared_ptr<ExecutorCore> core, int limit, const char *operation, Next next)
    -> QCoro::Task<std::conditional_t<Settled, ResultContainer<Outcome<R>>, CollectResultT<R>>>
{
    auto state = std::make_shared<CollectState<R, Settled>>(limit);
    auto call = startCall(core, operation, state, std::move(next));
    co_await call;
    co_return state->result(operation);
}

} // namespace QtAio::detail
