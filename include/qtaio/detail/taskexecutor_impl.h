// SPDX-License-Identifier: MIT
#pragma once

// Template bodies of QtAio::TaskExecutor. Included at the end of qtaio/taskexecutor.h. The
// machinery lives one concern per file in detail/executor/: a tracked task's life
// (trackedtask.h), pool calls (poolcall.h), the untyped call state and launch loop
// (callstate.h, compiled in the library), collecting results (collect.h), the inputs
// (sources.h), streams (streams.h), run()/spawn() results (runslot.h), the internal gate
// (gate.h), map() of a plain function in blocks (blockmap.h, its loop in the library) and
// items that their runInThread() call finishes (directitem.h).

#include <qtaio/detail/executor/blockmap.h>
#include <qtaio/detail/executor/callstate.h>
#include <qtaio/detail/executor/collect.h>
#include <qtaio/detail/executor/directitem.h>
#include <qtaio/detail/executor/gate.h>
#include <qtaio/detail/executor/poolcall.h>
#include <qtaio/detail/executor/runslot.h>
#include <qtaio/detail/executor/sources.h>
#include <qtaio/detail/executor/streams.h>
#include <qtaio/detail/executor/trackedtask.h>

#include <cstddef>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace QtAio {

template<typename... T>
requires(sizeof...(T) > 0) auto TaskExecutor::gather(QCoro::Task<T>... tasks)
    -> QCoro::Task<std::tuple<detail::ValueOrMonostate<T>...>>
{
    // The tasks run already: each is awaited by a small runner of its own, so that every one
    // is awaited to its end whatever order (and on whatever thread) they end in.
    auto state = std::make_shared<detail::StartedTasks<T...>>();
    auto runners = [&]<std::size_t... I>(std::index_sequence<I...>)
    {
        return std::make_tuple(detail::awaitStarted<I>(state, std::move(tasks))...);
    }
    (std::index_sequence_for<T...>{});
    auto allDone = state->done.wait();
    co_await allDone;
    if (state->firstError)
        detail::rethrowForCaller(state->firstError, "TaskExecutor::gather", state->firstErrorIndex);
    co_return std::apply([](auto &...value) { return std::make_tuple(std::move(*value)...); },
                         state->values);
}

template<detail::TaskFactory Factory>
auto TaskExecutor::run(Factory factory, Deadline deadline)
    -> QCoro::Task<detail::FactoryResult<Factory>>
{
    using R = detail::FactoryResult<Factory>;
    auto slot = std::make_shared<detail::RunSlot<R>>();
    std::stop_source stop;
    detail::launch(d, "TaskExecutor::run", true, stop, {}, slot, 0,
                   detail::RunBody<R, Factory>{slot, std::move(factory)});
    auto finished = slot->result.done.wait({{}, deadline.timer()});
    if (!co_await finished && slot->result.abandon()) {
        stop.request_stop(); // the work stays tracked until it ends
        throw TimeoutError("TaskExecutor::run: timed out");
    }
    if (auto error = slot->result.error())
        detail::rethrowForCaller(std::move(error), "TaskExecutor::run");
    co_return slot->result.take();
}

template<typename T>
QCoro::Task<T> TaskExecutor::run(QCoro::Task<T> task, Deadline deadline)
{
    return run(detail::StartedTaskFactory<T>{std::move(task)}, deadline);
}

// gather(), map() and their settled forms hand their input to collect() and return its task:
// the source owns the range(s), so no coroutine of their own needs to keep them alive.

template<detail::FactoryRange Range>
auto TaskExecutor::gather(Range factories, GatherOptions options)
    -> QCoro::Task<detail::CollectResultT<detail::FactoryResult<std::ranges::range_value_t<Range>>>>
{
    using R = detail::FactoryResult<std::ranges::range_value_t<Range>>;
    return detail::collect<R, false>(d, options.limit, "TaskExecutor::gather",
                                     detail::RangeSource<Range>(std::move(factories)));
}

template<detail::FactoryRange Range>
auto TaskExecutor::gatherSettled(Range factories, GatherOptions options)
    -> QCoro::Task<ResultList<Outcome<detail::FactoryResult<std::ranges::range_value_t<Range>>>>>
{
    using R = detail::FactoryResult<std::ranges::range_value_t<Range>>;
    return detail::collect<R, true>(d, options.limit, "TaskExecutor::gatherSettled",
                                    detail::RangeSource<Range>(std::move(factories)));
}

template<typename Func, std::ranges::input_range... Ranges>
requires(sizeof...(Ranges) > 0) auto TaskExecutor::map(Func func, GatherOptions options,
                                                       Ranges... ranges)
    -> QCoro::Task<detail::CollectResultT<
        typename detail::MapResult<Func, std::ranges::range_reference_t<Ranges>...>::type>>
{
    using R = typename detail::MapResult<Func, std::ranges::range_reference_t<Ranges>...>::type;
    if constexpr (detail::PlainMap<Func, Ranges...>) {
        return detail::mapInBlocks<R, false>(d, options.limit, "TaskExecutor::map", std::move(func),
                                             std::move(ranges)...);
    } else {
        auto source = detail::ZipSource<Func, Ranges...>(std::make_shared<Func>(std::move(func)),
                                                         d.get(), std::move(ranges)...);
        return detail::collect<R, false>(d, options.limit, "TaskExecutor::map", std::move(source));
    }
}

template<typename Func, std::ranges::input_range... Ranges>
requires(sizeof...(Ranges) > 0) auto TaskExecutor::mapSettled(Func func, GatherOptions options,
                                                              Ranges... ranges)
    -> QCoro::Task<ResultList<
        Outcome<typename detail::MapResult<Func, std::ranges::range_reference_t<Ranges>...>::type>>>
{
    using R = typename detail::MapResult<Func, std::ranges::range_reference_t<Ranges>...>::type;
    if constexpr (detail::PlainMap<Func, Ranges...>) {
        return detail::mapInBlocks<R, true>(d, options.limit, "TaskExecutor::mapSettled",
                                            std::move(func), std::move(ranges)...);
    } else {
        auto source = detail::ZipSource<Func, Ranges...>(std::make_shared<Func>(std::move(func)),
                                                         d.get(), std::move(ranges)...);
        return detail::collect<R, true>(d, options.limit, "TaskExecutor::mapSettled",
                                        std::move(source));
    }
}

template<detail::FactoryRange Range>
QCoro::AsyncGenerator<Completed<detail::FactoryResult<std::ranges::range_value_t<Range>>>>
TaskExecutor::asCompleted(Range factories, GatherOptions options)
{
    using R = detail::FactoryResult<std::ranges::range_value_t<Range>>;
    constexpr const char *operation = "TaskExecutor::asCompleted";
    auto state = std::make_shared<detail::StreamState<R>>(options.limit, 0);
    const detail::StopOnExit guard{state};
    auto launcher =
        detail::startCall(d, operation, state, detail::RangeSource<Range>(std::move(factories)));
    while (true) {
        co_await state->ready();
        auto next = state->take();
        if (!next)
            break;
        if (next->second.hasError()) {
            auto failing =
                detail::stopAndRethrow(state, next->second.error(), operation, next->first);
            co_await failing;
        }
        const auto index = static_cast<qsizetype>(next->first);
        if constexpr (std::is_void_v<R>) {
            Completed<R> item{index};
            co_yield std::move(item);
        } else {
            Completed<R> item{index, std::move(next->second.value())};
            co_yield std::move(item);
        }
    }
    if (!state->launchedAll())
        throw CancelledError(std::string(operation) + ": cancelled before every task ran");
}

template<detail::FactoryRange Range>
QCoro::AsyncGenerator<detail::FactoryResult<std::ranges::range_value_t<Range>>>
TaskExecutor::inOrder(Range factories, GatherOptions options)
{
    using R = detail::FactoryResult<std::ranges::range_value_t<Range>>;
    static_assert(!std::is_void_v<R>, "inOrder() yields values: use gather() for Task<void>");
    constexpr const char *operation = "TaskExecutor::inOrder";
    auto state = std::make_shared<detail::StreamState<R>>(options.limit, options.window);
    const detail::StopOnExit guard{state};
    auto launcher =
        detail::startCall(d, operation, state, detail::RangeSource<Range>(std::move(factories)));
    std::map<std::size_t, Outcome<R>> ahead;
    std::size_t nextIndex = 0;
    while (true) {
        auto found = ahead.find(nextIndex);
        if (found != ahead.end()) {
            Outcome<R> outcome = std::move(found->second);
            ahead.erase(found);
            if (outcome.hasError()) {
                auto failing = detail::stopAndRethrow(state, outcome.error(), operation, nextIndex);
                co_await failing;
            }
            ++nextIndex;
            if (state->callWindow)
                state->callWindow->release();
            co_yield std::move(outcome.value());
            continue;
        }
        co_await state->ready();
        auto next = state->take();
        if (!next)
            break;
        ahead.emplace(next->first, std::move(next->second));
    }
    if (!state->launchedAll())
        throw CancelledError(std::string(operation) + ": cancelled before every task ran");
}

template<typename Func, typename... Args>
requires detail::ThreadCallable<Func, Args...>
auto TaskExecutor::runInThread(Func func, Args... args)
    -> QCoro::Task<detail::ThreadResult<Func, Args...>>
{
    constexpr bool takesStop = std::invocable<Func &, std::stop_token, Args...>;
    using R = detail::ThreadResult<Func, Args...>;
    // The awaiting coroutine itself is the tracked task (no separate run()): it waits for a
    // slot, hands the call to the pool and resumes here when the pool job is done. A call
    // that does not take a stop token and runs in the slot of the task that made it (a gather
    // of runInThread() calls) never waits for a slot either: nothing would read its stop, so
    // it goes without the stop state that a std::stop_source allocates.
    const bool inTask = detail::currentTask().executorSerial == d->serial();
    std::stop_source stop =
        takesStop || !inTask ? std::stop_source() : std::stop_source(std::nostopstate);
    auto call = [token = stop.get_token(), f = std::move(func),
                 tuple = std::make_tuple(std::move(args)...)]() mutable -> R {
        return std::apply(
            [&](Args &...a) -> R {
                // The job runs once: the arguments are moved into the call.
                if constexpr (takesStop)
                    return std::invoke(f, token, std::move(a)...);
                else
                    return std::invoke(f, std::move(a)...);
            },
            tuple);
    };
    detail::TaskScope scope(d, std::move(stop), "TaskExecutor::runInThread", true);
    if (scope.refusal())
        std::rethrow_exception(scope.refusal());
    // Made by the factory of a call's item: it may take that item over and finish it itself,
    // sparing the item a coroutine that awaits this one (see DirectItem).
    detail::DirectItem item;
    if (inTask && scope.started())
        item.claim(d.get(), &detail::resultTag<R>, co_await detail::OwnFrame{});
    std::conditional_t<std::is_void_v<R>, std::monostate, std::optional<R>> value;
    std::exception_ptr error;
    try {
        co_await scope.slot();
        auto onPool = detail::PoolCall<R, decltype(call)>(scope.core(), std::move(call));
        if constexpr (std::is_void_v<R>)
            co_await std::move(onPool);
        else
            value.emplace(co_await std::move(onPool));
    } catch (...) {
        error = std::current_exception();
    }
    detail::CallerSink caller; // the caller receives the error: nothing is unhandled
    scope.end(error, &caller, 0);
    if (error) {
        if (!item.adopted())
            detail::rethrowForCaller(error, "TaskExecutor::runInThread");
        // The item fails with what its awaiter would have caught.
        try {
            detail::rethrowForCaller(error, "TaskExecutor::runInThread");
        } catch (...) {
            error = std::current_exception();
        }
        item.finish(error, nullptr);
        std::rethrow_exception(error); // into the task that nobody awaits any more
    }
    if constexpr (std::is_void_v<R>) {
        if (item.adopted())
            item.finish(nullptr, nullptr);
    } else {
        if (item.adopted())
            item.finish(nullptr, &*value); // moves the value out: nobody awaits this task now
        co_return std::move(*value);
    }
}

template<detail::TaskFactory Factory>
TaskHandle<detail::FactoryResult<Factory>> TaskExecutor::spawn(Factory factory)
{
    using R = detail::FactoryResult<Factory>;
    auto slot = std::make_shared<detail::RunSlot<R>>();
    std::stop_source stop;
    // Not nested: a spawned task may outlive the one that spawned it, so it has its own slot.
    const TaskId id = detail::launch(d, "TaskExecutor::spawn", false, stop, {}, slot, 0,
                                     detail::RunBody<R, Factory>{slot, std::move(factory)});
    return TaskHandle<R>(std::move(slot), std::move(stop), id);
}

template<typename T>
detail::AsyncEvent::Wait TaskHandle<T>::Awaiter::waitFor(const TaskHandle *handle)
{
    if (!handle->m_slot)
        throw std::logic_error("TaskHandle: co_await of a handle to no task");
    return handle->m_slot->result.done.wait();
}

template<typename T>
void TaskHandle<T>::rethrowTaskError(std::exception_ptr error)
{
    detail::rethrowForCaller(std::move(error), "TaskExecutor::spawn");
}

template<typename T>
void TaskHandle<T>::release() noexcept
{
    if (!m_slot)
        return;
    // A failure that arrives from now on is refused, and so reported by the executor; one
    // that arrived already and was never taken is reported here.
    if (auto untaken = m_slot->result.release())
        detail::reportUntakenFailure(m_id, std::move(untaken));
    m_slot.reset();
}

} // namespace QtAio
