// SPDX-License-Identifier: MIT
#pragma once

// Where a piece of work started elsewhere (a tracked task of run(), a task raced by
// withTimeout()) delivers its value or its exception to the coroutine that awaits it.

#include <qtaio/detail/waitcore.h>

#include <exception>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace QtAio::detail {

//! One result, delivered once from any thread; `done` is set when it arrives. The awaiting
//! side may abandon it (after a timeout): an error that arrives later is then refused, so
//! that its sender reports it instead of dropping it.
template<typename T>
class ResultSlot {
public:
    //! Delivers the value (nothing for T = void).
    template<typename... V>
    void succeed(V &&...value)
    {
        {
            std::scoped_lock lock(m_mutex);
            if constexpr (!std::is_void_v<T>)
                m_value.emplace(std::forward<V>(value)...);
            m_finished = true;
        }
        done.set();
    }

    //! Delivers an error; false (and nothing delivered) when the result was abandoned.
    bool offerError(std::exception_ptr error) noexcept
    {
        {
            std::scoped_lock lock(m_mutex);
            if (m_abandoned)
                return false;
            m_error = std::move(error);
            m_finished = true;
        }
        done.set();
        return true;
    }

    //! Gives up on the result; false if it arrived meanwhile (completion wins).
    bool abandon()
    {
        std::scoped_lock lock(m_mutex);
        if (m_finished)
            return false;
        m_abandoned = true;
        return true;
    }

    //! The error delivered, or nullptr. After `done`.
    [[nodiscard]] std::exception_ptr error() const
    {
        std::scoped_lock lock(m_mutex);
        return m_error;
    }

    //! Gives up on the result for good (its taker is gone): yields an error that was
    //! delivered but never taken, for the caller to report; an error that arrives later is
    //! refused (see abandon()).
    std::exception_ptr release()
    {
        std::scoped_lock lock(m_mutex);
        if (!m_finished) {
            m_abandoned = true;
            return nullptr;
        }
        return m_taken ? nullptr : m_error;
    }

    //! Whether the result arrived. Thread-safe.
    [[nodiscard]] bool isFinished() const
    {
        std::scoped_lock lock(m_mutex);
        return m_finished;
    }

    //! The value; rethrows the error delivered instead. After `done`, once.
    T take()
    {
        std::scoped_lock lock(m_mutex);
        m_taken = true;
        if (m_error)
            std::rethrow_exception(m_error);
        if constexpr (!std::is_void_v<T>)
            return std::move(*m_value);
    }

    AsyncEvent done;

private:
    mutable std::mutex m_mutex;
    std::conditional_t<std::is_void_v<T>, std::monostate, std::optional<T>> m_value{};
    std::exception_ptr m_error;
    bool m_finished = false;
    bool m_abandoned = false;
    bool m_taken = false;
};

} // namespace QtAio::detail
