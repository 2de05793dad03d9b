// SPDX-License-Identifier: MIT
#pragma once

// Collecting the results of gather()/map() and their settled forms: the typed slots of one
// call, on top of its untyped CallState.

#include <qtaio/detail/executor/callstate.h>
#include <qtaio/detail/executor/directitem.h>
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
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace QtAio::detail {

template<typename R, bool Settled>
class CollectState;

//! The body of one item of a gather()/map() call (see launch()): records the factory's result in
//! the item's slot.
template<typename R, bool Settled, typename Factory>
struct CollectItem {
    CollectState<R, Settled> *state; // kept alive by the sink its launch holds
    std::size_t index;
    Factory factory;

    template<typename... V>
    void finish(V &&...value)
    {
        state->succeed(index, std::forward<V>(value)...);
    }
};

//! Assigns \a value to \a slot (a helper for a pack of one value).
template<typename T, typename V>
void assignSlot(T &slot, V &&value)
{
    slot = std::forward<V>(value);
}

//! The results of one gather()/map() call, one slot per item in input order.
/*!
 * A result that can be default constructed and assigned (an Outcome of one, for the settled
 * forms) goes straight into the list the call yields. When the input's size is known, that list
 * is sized once before the first item, and each item writes its own slot without the lock (no
 * other item touches it; `done` publishes every write to result()). Otherwise the list grows
 * under the lock as the items end, as do the optional slots of other results. Void results keep
 * nothing.
 */
template<typename R, bool Settled>
class CollectState final : public CallState {
public:
    //! What one item of the yielded list is.
    using Value = std::conditional_t<Settled, Outcome<R>, R>;
    //! Nothing to keep: gather() of void results yields nothing.
    static constexpr bool keepsNothing = std::is_void_v<Value>;
    //! Results go straight into the yielded list (see the class description).
    static constexpr bool direct =
        std::is_default_constructible_v<Value> && std::is_move_assignable_v<Value>;

    //! \a size: how many items the input holds, if it knows.
    CollectState(int limit, std::optional<std::size_t> size) : CallState(limit, 0)
    {
        if constexpr (direct) {
            if (size) {
                m_list.resize(static_cast<typename List::size_type>(*size));
                m_presized = m_list.data();
                m_presizedCount = *size;
            }
        }
    }

    //! The body of item of a factory of type \a Factory (see CollectItem).
    template<typename Factory>
    using Item = CollectItem<R, Settled, Factory>;

    //! The result of item \a index, which was counted in flight (see countInFlight()).
    template<typename... V>
    void succeed(std::size_t index, V &&...value)
    {
        bool allDone = false;
        if (m_presized) {
            writePresized(index, std::forward<V>(value)...);
            std::scoped_lock lock(m_mutex);
            allDone = endItemLocked();
        } else {
            std::scoped_lock lock(m_mutex);
            storeLocked(index, std::forward<V>(value)...);
            allDone = endItemLocked();
        }
        if (allDone)
            done.set();
    }

    //! The result of item \a index, launched inline and never counted in flight (see
    //! SourceLauncher).
    template<typename... V>
    void store(std::size_t index, V &&...value)
    {
        if (m_presized) {
            writePresized(index, std::forward<V>(value)...);
        } else if constexpr (!keepsNothing) {
            std::scoped_lock lock(m_mutex);
            storeLocked(index, std::forward<V>(value)...);
        }
    }

    bool fail(std::size_t index, std::exception_ptr error) noexcept override
    {
        // Not settled, or an item past the size the input gave: the call fails.
        if constexpr (Settled) {
            if (!m_presized || index < m_presizedCount)
                return settle(index, Outcome<R>::fromError(std::move(error)));
        }
        return CallState::fail(index, std::move(error));
    }

    //! After done: the results in input order; throws as CallState::throwIfFailed().
    auto result(const char *operation)
    {
        throwIfFailed(operation);
        if constexpr (direct) {
            return std::move(m_list); // every item succeeded (or settled): every slot is set
        } else if constexpr (!keepsNothing) {
            ResultContainer<Value> out;
            out.reserve(static_cast<typename ResultContainer<Value>::size_type>(m_slots.size()));
            for (auto &slot : m_slots)
                out.push_back(std::move(*slot));
            return out;
        }
    }

private:
    using List = std::conditional_t<direct, ResultContainer<Value>, std::vector<char>>;
    using Slot = std::optional<std::conditional_t<keepsNothing, bool, Value>>;

    //! Item \a index failed, in a settled form: its outcome takes its slot.
    bool settle(std::size_t index, Outcome<R> outcome) noexcept
    {
        bool allDone = false;
        if constexpr (direct) {
            if (m_presized) {
                m_presized[index] = std::move(outcome);
                std::scoped_lock lock(m_mutex);
                allDone = endItemLocked();
            }
        }
        if (!m_presized) {
            std::scoped_lock lock(m_mutex);
            reserveLocked(index);
            if constexpr (direct)
                m_list[static_cast<typename List::size_type>(index)] = std::move(outcome);
            else
                m_slots[index].emplace(std::move(outcome));
            allDone = endItemLocked();
        }
        if (allDone)
            done.set();
        return true;
    }

    //! Writes the result of item \a index into the list sized before the first item, without
    //! the lock: only this item writes this slot.
    template<typename... V>
    void writePresized(std::size_t index, V &&...value)
    {
        if constexpr (direct) {
            if (index >= m_presizedCount) // an input that yields more than its size said
                throw std::length_error("TaskExecutor: the input yielded more than its size");
            if constexpr (Settled)
                m_presized[index] = Outcome<R>::fromValue(std::forward<V>(value)...);
            else
                assignSlot(m_presized[index], std::forward<V>(value)...);
        }
    }

    //! Makes room for the result of item \a index. With m_mutex held.
    void reserveLocked(std::size_t index)
    {
        if constexpr (direct) {
            if (static_cast<std::size_t>(m_list.size()) <= index)
                m_list.resize(static_cast<typename List::size_type>(index + 1));
        } else {
            if (m_slots.size() == index)
                m_slots.emplace_back(); // the usual case: items are launched in input order
            else if (m_slots.size() < index)
                m_slots.resize(index + 1);
        }
    }

    template<typename... V>
    void storeLocked(std::size_t index, V &&...value)
    {
        if constexpr (direct) {
            if constexpr (!Settled) {
                if (static_cast<std::size_t>(m_list.size()) == index) { // results come in order
                    m_list.emplace_back(std::forward<V>(value)...);
                    return;
                }
            }
            reserveLocked(index);
            auto &slot = m_list[static_cast<typename List::size_type>(index)];
            if constexpr (Settled)
                slot = Outcome<R>::fromValue(std::forward<V>(value)...);
            else
                assignSlot(slot, std::forward<V>(value)...);
        } else if constexpr (!keepsNothing) {
            reserveLocked(index);
            if constexpr (Settled)
                m_slots[index].emplace(Outcome<R>::fromValue(std::forward<V>(value)...));
            else
                m_slots[index].emplace(std::forward<V>(value)...);
        }
    }

    List m_list; //!< direct: the yielded list; guarded by m_mutex unless presized
    //! The data of m_list when it was sized before the first item (written without the lock).
    std::conditional_t<direct, Value, char> *m_presized = nullptr;
    std::size_t m_presizedCount = 0;
    std::deque<Slot> m_slots; //!< neither direct nor void: guarded by m_mutex
};

//! Launches the items of a call from the input \a Next produces, as State::Item bodies.
/*!
 * An item whose factory returns a QCoro::Task runs inline: its task is registered with the
 * executor, its factory called right here, and when the work has completed by then (trivial
 * work, a result at hand) its result is stored and its task ended without a coroutine of the
 * executor's, the call's permit and the task's registration passing straight on to the next
 * input (ExecutorCore::endAndRestartTask()). Only an item whose work suspends, or that must wait
 * for a slot under the executor's limit, goes on in a coroutine of its own (runAdopted()),
 * taking the permit along, unless its work is a runInThread() call that took the item over
 * (DirectItem): that call finishes the item. Other factories' items each go to launch().
 *
 * A factory that a container of the source holds is called where it lies (it stays there until
 * the call ends, which outlives its items); a factory produced otherwise is moved into a box
 * (see BodyBox) and goes with its task.
 */
template<typename State, typename Next>
class SourceLauncher final : public ItemLauncher {
    using InputFactory = typename std::invoke_result_t<Next &>::value_type;
    using Item = typename State::template Item<InputFactory>;
    using Work = FactoryWork<InputFactory>;
    using Launched = ItemLauncher::Launched;

public:
    SourceLauncher(std::shared_ptr<ExecutorCore> core, const char *operation,
                   std::shared_ptr<State> state, Next next)
        : m_core(std::move(core)), m_operation(operation), m_state(std::move(state)),
          m_next(std::move(next))
    {
    }

    Launched launchNext(std::size_t &index, std::optional<GatePermit> permit, bool batch) override
    {
        if constexpr (IsQCoroTask<Work>) {
            return launchInline(index, permit, batch);
        } else {
            auto factory = nextInput(index);
            if (!factory)
                return Launched::InputEnded;
            const std::size_t item = index++;
            m_state->countInFlight();
            // The item stops with its call (a failure, cancelAll()): it shares the call's stop.
            launch(m_core, m_operation, true, m_state->callStop, std::move(permit), m_state, item,
                   Item{m_state.get(), item, std::move(*factory)});
            return Launched::Some;
        }
    }

private:
    //! The next input, consumed only once there is room for it. When the input throws, it counts
    //! as item \a index, failed: counted in, for the caller to fail it as item \a index - 1.
    std::optional<InputFactory> nextInput(std::size_t &index)
    {
        try {
            return m_next();
        } catch (...) {
            m_state->countInFlight();
            ++index;
            throw;
        }
    }

    //! The next input where it lies in the range its source owns (Next::inPlace), or nullptr
    //! at the end. As nextInput() when the input throws.
    InputFactory *nextInPlace(std::size_t &index)
    {
        try {
            return m_next.nextInPlace();
        } catch (...) {
            m_state->countInFlight();
            ++index;
            throw;
        }
    }

    Launched launchInline(std::size_t &index, std::optional<GatePermit> &permit, bool batch)
    {
        // The last item's task, if it ended inline and no next one took its registration over,
        // ends when this returns, before the permit goes (the end is reported first).
        struct EndPending {
            SourceLauncher *launcher;
            ~EndPending()
            {
                if (std::exchange(launcher->m_pending, false))
                    launcher->m_core->taskEnded(launcher->m_task, nullptr, nullptr, 0);
            }
        } endPending{this};
        Launched launched = Launched::InputEnded;
        // Each item is offered to a runInThread() call its factory makes (see DirectItem), only
        // where the factory lies in the range, which outlives the item without a box. Installed
        // once for the loop (outer offers hidden), cleared before each factory call.
        ItemOffer offer{m_core.get(), &resultTag<typename Work::value_type>};
        const ItemOfferScope offered(Next::inPlace ? &offer : nullptr);
        // The thread's task context, set around each factory call (taken at the first one).
        TaskContext *context = nullptr;
        bool haveContext = false;
        while (true) {
            // The factory is called where it lies: in the source's range, or else in the box.
            InputFactory *factory = nullptr;
            std::size_t item = 0;
            if constexpr (Next::inPlace) {
                factory = nextInPlace(index);
                if (!factory)
                    return launched;
                item = index++;
            } else {
                auto input = nextInput(index);
                if (!input)
                    return launched;
                item = index++;
                if (!m_box)
                    m_box = std::make_unique<std::optional<Item>>();
                factory = &m_box->emplace(Item{m_state.get(), item, std::move(*input)}).factory;
            }
            launched = Launched::Some;
            const bool restarted =
                std::exchange(m_pending, false) && m_core->endAndRestartTask(m_task);
            if (!restarted) {
                try {
                    m_core->registerTask(m_task, m_operation, true);
                } catch (...) {
                    releaseBox();
                    m_state->countInFlight(); // the caller fails it
                    throw;
                }
                if (!m_task.started) {
                    handOver(item, factory, std::nullopt, permit);
                    return launched;
                }
            }
            std::exception_ptr error;
            try {
                std::optional<Work> work;
                if (!haveContext) {
                    context = taskContextSlot();
                    haveContext = true;
                }
                offer.claimant = nullptr;
                offer.claimantFrame = nullptr;
                {
                    const TaskContextSlotScope inTask(context, m_core->contextOf(m_task.id));
                    // The item stops with its call (a failure, cancelAll()).
                    if constexpr (TakesStopToken<InputFactory>)
                        work.emplace((*factory)(m_state->callStop.get_token()));
                    else
                        work.emplace((*factory)());
                }
                if (!work->isReady()) {
                    if (offer.claimantFrame && offer.claimantFrame == coroutineFrame(*work))
                        handOverDirect(item, *offer.claimant, permit); // the task goes
                    else
                        handOver(item, factory, std::move(work), permit);
                    return launched;
                }
                // Completed already: its result is taken as co_await would, without suspending.
                auto awaiter = work->operator co_await();
                if constexpr (std::is_void_v<typename Work::value_type>) {
                    awaiter.await_resume();
                    m_state->store(item);
                } else {
                    m_state->store(item, awaiter.await_resume());
                }
            } catch (...) {
                error = std::current_exception();
            }
            releaseBox(); // a moved factory goes with its task, as runTracked()'s does
            if (error) {
                m_state->countInFlight(); // fail() counts it out
                m_core->taskEnded(m_task, std::move(error), m_state.get(), item);
            } else {
                m_pending = true; // ended by the next item's start, or by endPending
            }
            if (!batch || m_state->stopRequested())
                return launched;
        }
    }

    //! The factory of the item launched inline goes (when it was moved out of its range).
    void releaseBox() noexcept
    {
        if constexpr (!Next::inPlace)
            m_box->reset();
    }

    //! Item \a item goes on in a coroutine of its own, with the task's registration, the permit
    //! and its body: the box, or one that calls \a factory where it lies in the range.
    void handOver(std::size_t item, [[maybe_unused]] InputFactory *factory,
                  std::optional<Work> work, std::optional<GatePermit> &permit)
    {
        m_state->countInFlight();
        if constexpr (Next::inPlace) {
            // The body only points at the factory: it moves along by value, without a box.
            using InPlaceItem = typename State::template Item<FactoryRef<InputFactory>>;
            runAdopted<Work>(m_core, &m_task, m_state->callStop, std::move(work), std::move(permit),
                             m_state, item,
                             InPlaceItem{m_state.get(), item, FactoryRef<InputFactory>{factory}});
        } else {
            runAdopted<Work>(m_core, &m_task, m_state->callStop, std::move(work), std::move(permit),
                             m_state, item, std::move(m_box));
        }
    }

    //! Item \a item goes on in the runInThread() call that its factory returned, which claimed
    //! its offer (see DirectItem) and finishes it.
    void handOverDirect(std::size_t item, DirectItem &claimant, std::optional<GatePermit> &permit)
    {
        m_state->countInFlight();
        claimant.adopt(m_core, m_task, m_state->callStop, std::move(permit), m_state, item,
                       &deliverDirect);
    }

    //! The result of item \a index that a runInThread() call finished (see DeliverItem).
    static void deliverDirect(TaskSink &sink, std::size_t index, void *value)
    {
        using R = typename Work::value_type;
        using InPlaceItem = typename State::template Item<FactoryRef<InputFactory>>;
        InPlaceItem body{static_cast<State *>(&sink), index, FactoryRef<InputFactory>{nullptr}};
        if constexpr (std::is_void_v<R>)
            body.finish();
        else
            body.finish(std::move(*static_cast<R *>(value)));
    }

    std::shared_ptr<ExecutorCore> m_core;
    const char *m_operation;
    std::shared_ptr<State> m_state;
    Next m_next;
    //! The body of the item launched inline (see BodyBox), unless its factory is called in place.
    BodyBox<Item> m_box;
    //! The registration of the item launched inline: no stop of its own (the call, registered
    //! with the executor while it launches, is what stopAll() stops meanwhile).
    TrackedTask m_task{std::stop_source(std::nostopstate)};
    //! m_task ended inline, but is still registered for the next item to take over.
    bool m_pending = false;
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
    auto state = std::make_shared<CollectState<R, Settled>>(limit, next.size());
    auto call = startCall(core, operation, state, std::move(next));
    co_await call;
    co_return state->result(operation);
}

} // namespace QtAio::detail
