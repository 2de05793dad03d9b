// SPDX-License-Identifier: MIT
#pragma once

// The state behind asCompleted() and inOrder(): the results of one call as they complete,
// handed to the generator through an internal gate (one permit per result, one more at the end).

#include <qtaio/detail/executor/callstate.h>
#include <qtaio/detail/executor/gate.h>
#include <qtaio/outcome.h>

#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

namespace QtAio::detail {

template<typename R>
class StreamState;

//! The body of one item of a stream (see launch()): hands the factory's result to the consumer.
template<typename R, typename Factory>
struct StreamItem {
    StreamState<R> *state; // kept alive by the sink its launch holds
    std::size_t index;
    Factory factory;

    template<typename... V>
    void finish(V &&...value)
    {
        state->deliver(index, Outcome<R>::fromValue(std::forward<V>(value)...));
        state->itemEnded();
    }
};

//! The results of a stream in the order they completed, for its single consumer.
template<typename R>
class StreamState final : public CallState {
public:
    using Entry = std::pair<std::size_t, Outcome<R>>;

    StreamState(int limit, int window) : CallState(limit, window) {}

    //! The body of item of a factory of type \a Factory (see StreamItem).
    template<typename Factory>
    using Item = StreamItem<R, Factory>;

    bool fail(std::size_t index, std::exception_ptr error) noexcept override
    {
        // The first failure is delivered before the cancellations it causes, so the consumer
        // reports it; starting nothing new does not wait for the consumer.
        deliver(index, Outcome<R>::fromError(error));
        return CallState::fail(index, std::move(error));
    }

    void allEnded() noexcept override { m_ready.release(); } // the end, after every result

    //! The result of item \a index, launched inline and never counted in flight (see
    //! SourceLauncher).
    template<typename... V>
    void store(std::size_t index, V &&...value)
    {
        deliver(index, Outcome<R>::fromValue(std::forward<V>(value)...));
    }

    //! Awaitable: completes when a result (or the end) can be taken.
    [[nodiscard]] Gate::Acquire ready() noexcept { return m_ready.acquire(); }
    //! After ready(): the next result, or nothing at the end.
    std::optional<Entry> take()
    {
        std::scoped_lock lock(m_resultsMutex);
        if (m_results.empty())
            return std::nullopt;
        std::optional<Entry> entry(std::move(m_results.front()));
        m_results.pop_front();
        return entry;
    }

    //! Queues a result for the consumer.
    void deliver(std::size_t index, Outcome<R> outcome) noexcept
    {
        {
            std::scoped_lock lock(m_resultsMutex);
            m_results.emplace_back(index, std::move(outcome));
        }
        m_ready.release();
    }

private:
    std::mutex m_resultsMutex;
    std::deque<Entry> m_results;
    Gate m_ready{0};
};

} // namespace QtAio::detail
