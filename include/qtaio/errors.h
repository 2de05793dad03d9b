// SPDX-License-Identifier: MIT
#pragma once

#include <qtaio/qtaiocore_export.h>

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>

namespace QtAio {

//! Base of every exception QtAio throws for a failed or interrupted operation.
/*!
 * Bad arguments are reported with std::invalid_argument and misuse with std::logic_error
 * instead; those are programming errors, not outcomes of an asynchronous operation.
 */
class QTAIO_CORE_EXPORT Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
    ~Error() override;
};

//! A task run by a TaskExecutor failed.
/*!
 * The original exception is nested (std::throw_with_nested): get it back with
 * std::rethrow_if_nested(error) or cause(). index() is the position of the failing task in the
 * input of gather()/map(), where there is one.
 */
class QTAIO_CORE_EXPORT ExecutionError : public Error {
public:
    //! Creates the error with the message \a what and the position \a index of the failing
    //! task, if there is one.
    explicit ExecutionError(const std::string &what, std::optional<std::size_t> index = {});
    ~ExecutionError() override;

    //! Position of the failing task in the input of gather()/map(), if the failure has one.
    [[nodiscard]] std::optional<std::size_t> index() const noexcept { return m_index; }

    //! Throws a new ExecutionError with the exception currently being handled nested in it.
    /*! Must be called from a catch block. The message names \a context and the cause. */
    [[noreturn]] static void throwWithCurrentCause(const std::string &context,
                                                   std::optional<std::size_t> index = {});

private:
    std::optional<std::size_t> m_index;
};

//! A deadline passed before the operation could complete.
class QTAIO_CORE_EXPORT TimeoutError : public Error {
public:
    using Error::Error;
    ~TimeoutError() override;
};

//! A wait ended because its std::stop_token was requested, or because the object it waited on
//! was destroyed.
class QTAIO_CORE_EXPORT CancelledError : public Error {
public:
    using Error::Error;
    ~CancelledError() override;
};

//! A put on a closed queue, or a get on a closed queue that has been drained.
class QTAIO_CORE_EXPORT QueueClosedError : public Error {
public:
    using Error::Error;
    ~QueueClosedError() override;
};

} // namespace QtAio
