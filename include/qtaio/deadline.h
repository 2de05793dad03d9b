// SPDX-License-Identifier: MIT
#pragma once

#include <qtaio/detail/waitcore.h>

#include <QtCore/QDeadlineTimer>

#include <chrono>

namespace QtAio {

//! When a wait gives up: the one timeout type of every QtAio operation.
/*!
 * Every waiting operation has exactly two forms, `op(args, std::stop_token = {})` and
 * `op(args, Deadline, std::stop_token = {})`; withTimeout() takes a Deadline too. A Deadline
 * converts implicitly from any std::chrono duration, counted from the moment it is made, and
 * from a QDeadlineTimer, used as it is:
 *
 * \code
 * co_await queue.get(2s);                                    // a timeout
 * co_await queue.get(QDeadlineTimer(5000), stop);            // a deadline shared by several waits
 * queue.putBlocking(item, std::chrono::milliseconds(100));   // the blocking forms alike
 * \endcode
 *
 * A duration uses a precise timer. Zero or negative means a deadline that has already passed
 * (an operation that can complete at once still completes); a duration too large to count
 * from now in nanoseconds (`hours::max()`) means no deadline; a NaN duration throws
 * std::invalid_argument. A default-constructed Deadline never passes.
 */
class Deadline {
public:
    //! A deadline that never passes.
    constexpr Deadline() noexcept = default;
    //! A deadline \a timeout from now (precise timer). Throws std::invalid_argument if
    //! \a timeout is NaN.
    template<typename Rep, typename Period>
    Deadline(std::chrono::duration<Rep, Period> timeout) // NOLINT(google-explicit-constructor)
        : m_timer(detail::deadlineAfter(timeout))
    {
    }
    //! The deadline of \a timer, as it is.
    constexpr Deadline(QDeadlineTimer timer) noexcept // NOLINT(google-explicit-constructor)
        : m_timer(timer)
    {
    }

    //! A deadline that never passes, from `QDeadlineTimer::Forever` (as 0.1's calls passed it).
    constexpr Deadline(QDeadlineTimer::ForeverConstant) noexcept // NOLINT: implicit on purpose
    {
    }

    //! A deadline that never passes (the same as Deadline()).
    [[nodiscard]] static constexpr Deadline never() noexcept { return Deadline(); }

    //! The deadline as a QDeadlineTimer.
    [[nodiscard]] constexpr QDeadlineTimer timer() const noexcept { return m_timer; }
    //! Whether the deadline never passes.
    [[nodiscard]] constexpr bool isForever() const noexcept { return m_timer.isForever(); }

private:
    QDeadlineTimer m_timer{QDeadlineTimer::Forever};
};

} // namespace QtAio
