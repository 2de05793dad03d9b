// SPDX-License-Identifier: MIT
#pragma once

// The inputs of gather()/map()/streams: each produces the factories of one call one by one,
// lazily, owning the range(s) they come from (the executor owns what it is given).

#include <qtaio/detail/concepts.h>
#include <qtaio/detail/executor/poolcall.h>
#include <qtaio/detail/executorcore.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>

namespace QtAio::detail {

//! Produces the factories of a range one by one, moving each out of the range it owns. Moved
//! only before its first call (its iterators point into the range).
template<typename Range>
class RangeSource {
public:
    //! The range owns its factories where they stay (a container, not a view): they can be
    //! called there, without moving them out (see nextInPlace()).
    static constexpr bool inPlace =
        std::ranges::forward_range<Range> && !std::ranges::view<Range> &&
        std::is_same_v<std::ranges::range_reference_t<Range>, std::ranges::range_value_t<Range> &>;

    explicit RangeSource(Range range) : m_range(std::move(range)) {}
    RangeSource(RangeSource &&other) noexcept(std::is_nothrow_move_constructible_v<Range>)
        : m_range(std::move(other.m_range))
    {
    }

    //! How many factories the range holds, when it knows (std::ranges::sized_range).
    std::optional<std::size_t> size()
    {
        if constexpr (std::ranges::sized_range<Range>)
            return static_cast<std::size_t>(std::ranges::size(m_range));
        else
            return std::nullopt;
    }

    std::optional<std::ranges::range_value_t<Range>> operator()()
    {
        if (!m_it) {
            m_it.emplace(std::ranges::begin(m_range));
            m_end.emplace(std::ranges::end(m_range));
        }
        if (*m_it == *m_end)
            return std::nullopt;
        std::optional<std::ranges::range_value_t<Range>> factory(std::move(**m_it));
        ++*m_it;
        return factory;
    }

    //! The next factory where it lies in the range, or nullptr at the end (when inPlace). It
    //! stays there until the source goes.
    std::ranges::range_value_t<Range> *nextInPlace()
    {
        if (!m_it) {
            m_it.emplace(std::ranges::begin(m_range));
            m_end.emplace(std::ranges::end(m_range));
        }
        if (*m_it == *m_end)
            return nullptr;
        auto *factory = std::addressof(**m_it);
        ++*m_it;
        return factory;
    }

private:
    Range m_range;
    std::optional<std::ranges::iterator_t<Range>> m_it;
    std::optional<std::ranges::sentinel_t<Range>> m_end;
};

//! One map() call as a factory: awaits an awaitable result on the event loop, or runs a plain
//! call on the thread pool.
template<typename Func, typename Tuple>
struct MapCall {
    std::shared_ptr<Func> func;
    Tuple args;
    ExecutorCore *core; // outlives the call: its collect() holds it

    auto operator()()
    {
        using Direct = decltype(std::apply(*func, args));
        if constexpr (Awaitable<Direct>) {
            return std::apply(*func, std::move(args));
        } else {
            auto call = [f = func, a = std::move(args)]() mutable {
                return std::apply(*f, std::move(a));
            };
            return PoolCall<Direct, decltype(call)>(core, std::move(call));
        }
    }
};

//! Produces MapCall factories from the zipped ranges it owns, the shortest winning. Moved only
//! before its first call.
template<typename Func, typename... Ranges>
class ZipSource {
public:
    static constexpr bool inPlace = false; // each call is made of the ranges' items

    ZipSource(std::shared_ptr<Func> func, ExecutorCore *core, Ranges... ranges)
        : m_func(std::move(func)), m_core(core), m_ranges(std::move(ranges)...)
    {
    }
    ZipSource(ZipSource &&other) noexcept(
        std::is_nothrow_move_constructible_v<std::tuple<Ranges...>>)
        : m_func(std::move(other.m_func)), m_core(other.m_core), m_ranges(std::move(other.m_ranges))
    {
    }

    //! How many calls the ranges make, when each one knows its size (the shortest wins).
    std::optional<std::size_t> size()
    {
        if constexpr ((std::ranges::sized_range<Ranges> && ...)) {
            return std::apply(
                [](auto &...range) {
                    return std::min({static_cast<std::size_t>(std::ranges::size(range))...});
                },
                m_ranges);
        } else {
            return std::nullopt;
        }
    }

    using Args = std::tuple<std::ranges::range_value_t<Ranges>...>;
    std::optional<MapCall<Func, Args>> operator()()
    {
        auto args = nextArgs();
        if (!args)
            return std::nullopt;
        return MapCall<Func, Args>{m_func, std::move(*args), m_core};
    }

    //! The arguments of the next call, or nothing once the shortest range ended.
    std::optional<Args> nextArgs()
    {
        if (!m_its)
            start(std::index_sequence_for<Ranges...>{});
        if (atEnd(std::index_sequence_for<Ranges...>{}))
            return std::nullopt;
        return take(std::index_sequence_for<Ranges...>{});
    }
    //! The function the calls apply.
    [[nodiscard]] Func &function() const noexcept { return *m_func; }

private:
    template<std::size_t... I>
    void start(std::index_sequence<I...>)
    {
        m_its.emplace(std::ranges::begin(std::get<I>(m_ranges))...);
        m_ends.emplace(std::ranges::end(std::get<I>(m_ranges))...);
    }
    template<std::size_t... I>
    bool atEnd(std::index_sequence<I...>) const
    {
        return ((std::get<I>(*m_its) == std::get<I>(*m_ends)) || ...);
    }
    template<std::size_t... I>
    std::optional<Args> take(std::index_sequence<I...>)
    {
        std::optional<Args> args(std::in_place, *std::get<I>(*m_its)...);
        (++std::get<I>(*m_its), ...);
        return args;
    }

    std::shared_ptr<Func> m_func;
    ExecutorCore *m_core;
    std::tuple<Ranges...> m_ranges;
    std::optional<std::tuple<std::ranges::iterator_t<Ranges>...>> m_its;
    std::optional<std::tuple<std::ranges::sentinel_t<Ranges>...>> m_ends;
};

} // namespace QtAio::detail
