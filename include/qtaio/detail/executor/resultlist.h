// SPDX-License-Identifier: MIT
#pragma once

// The containers that gather(), map() and their settled forms yield.

#include <QtCore/QList>

#include <type_traits>
#include <vector>

namespace QtAio::detail {

//! A QList when \a T can be copied (as Qt code expects), a std::vector for move-only results (a
//! QList needs copyable items). Public as QtAio::ResultList.
template<typename T>
using ResultContainer =
    std::conditional_t<std::is_copy_constructible_v<T>, QList<T>, std::vector<T>>;

template<typename R>
struct CollectResult {
    using type = ResultContainer<R>;
};
template<>
struct CollectResult<void> {
    using type = void;
};
//! What gather()/map() yield for results of type \a R: a list, or nothing for void.
template<typename R>
using CollectResultT = typename CollectResult<R>::type;

} // namespace QtAio::detail
