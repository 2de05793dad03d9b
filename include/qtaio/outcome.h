// SPDX-License-Identifier: MIT
#pragma once

#include <exception>
#include <optional>
#include <utility>
#include <variant>

namespace QtAio {

//! The outcome of one task of TaskExecutor::gatherSettled()/mapSettled(): its value or the
//! exception it ended with (the typed form of asyncio's return_exceptions=True).
template<typename T>
class Outcome {
public:
    //! An empty outcome, neither value nor error: hasValue() and hasError() are false and
    //! value() throws std::bad_variant_access.
    Outcome() = default;
    //! An outcome holding \a value.
    static Outcome fromValue(T value) { return Outcome(std::in_place_index<1>, std::move(value)); }
    //! An outcome holding the exception \a error.
    static Outcome fromError(std::exception_ptr error)
    {
        return Outcome(std::in_place_index<2>, std::move(error));
    }

    //! Whether the task succeeded: the outcome holds a value.
    [[nodiscard]] bool hasValue() const noexcept { return m_state.index() == 1; }
    //! Whether the task failed: the outcome holds an exception.
    [[nodiscard]] bool hasError() const noexcept { return m_state.index() == 2; }
    //! The value; rethrows the task's exception if it failed.
    [[nodiscard]] T &value()
    {
        if (hasError())
            std::rethrow_exception(std::get<2>(m_state));
        return std::get<1>(m_state);
    }
    //! As value(), on a const outcome.
    [[nodiscard]] const T &value() const
    {
        if (hasError())
            std::rethrow_exception(std::get<2>(m_state));
        return std::get<1>(m_state);
    }
    //! The exception the task ended with, or nullptr.
    [[nodiscard]] std::exception_ptr error() const noexcept
    {
        return hasError() ? std::get<2>(m_state) : nullptr;
    }

private:
    template<std::size_t I, typename V>
    Outcome(std::in_place_index_t<I> index, V &&v) : m_state(index, std::forward<V>(v))
    {
    }
    std::variant<std::monostate, T, std::exception_ptr> m_state;
};

//! The outcome of a task that yields nothing: success or the exception it ended with.
template<>
class Outcome<void> {
public:
    //! A successful outcome.
    Outcome() = default;
    //! A successful outcome.
    static Outcome fromValue() { return Outcome(); }
    //! An outcome holding the exception \a error.
    static Outcome fromError(std::exception_ptr error)
    {
        Outcome o;
        o.m_error = std::move(error);
        return o;
    }
    //! Whether the task succeeded.
    [[nodiscard]] bool hasValue() const noexcept { return !m_error; }
    //! Whether the task failed: the outcome holds an exception.
    [[nodiscard]] bool hasError() const noexcept { return static_cast<bool>(m_error); }
    //! Rethrows the task's exception if it failed.
    void value() const
    {
        if (m_error)
            std::rethrow_exception(m_error);
    }
    //! The exception the task ended with, or nullptr.
    [[nodiscard]] std::exception_ptr error() const noexcept { return m_error; }

private:
    std::exception_ptr m_error;
};

} // namespace QtAio
