// SPDX-License-Identifier: MIT
// Private to the core library: what the executor's calls (executorcall.cpp, blockmap.cpp) share.
#pragma once

#include <cstddef>
#include <exception>
#include <optional>
#include <utility>

namespace QtAio::detail {

//! A call's first failure: the index of the item that failed, and its error.
using CallFailure = std::optional<std::pair<std::size_t, std::exception_ptr>>;

//! How a call of \a operation ends for its caller: its first failure rethrown (see
//! rethrowForCaller()), else CancelledError when not every item ran (\a ranAll), else nothing.
void throwIfCallFailed(const CallFailure &failure, bool ranAll, const char *operation);

} // namespace QtAio::detail
