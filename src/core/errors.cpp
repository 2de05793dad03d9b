// SPDX-License-Identifier: MIT
#include <qtaio/errors.h>

#include <exception>

namespace QtAio {

// Out-of-line destructors anchor the vtables (and so the type_info used by catch clauses) in
// the library, so that exceptions thrown inside it are caught by type in every consumer.
Error::~Error() = default;
TimeoutError::~TimeoutError() = default;
CancelledError::~CancelledError() = default;
QueueClosedError::~QueueClosedError() = default;

ExecutionError::ExecutionError(const std::string &what, std::optional<std::size_t> index)
    : Error(what), m_index(index)
{
}

ExecutionError::~ExecutionError() = default;

void ExecutionError::throwWithCurrentCause(const std::string &context,
                                           std::optional<std::size_t> index)
{
    std::string cause = "unknown exception";
    try {
        throw;
    } catch (const std::exception &e) {
        cause = e.what();
    } catch (...) {
    }
    std::string message = context;
    if (index)
        message += " (task " + std::to_string(*index) + ")";
    message += ": " + cause;
    std::throw_with_nested(ExecutionError(message, index));
}

} // namespace QtAio
