// SPDX-License-Identifier: MIT
#include <qtaio/timeout.h>

#include <QtCore/QLoggingCategory>

Q_LOGGING_CATEGORY(lcTimeout, "qtaio.timeout", QtWarningMsg)

namespace QtAio::detail {

void reportAbandonedFailure(std::exception_ptr error) noexcept
{
    try {
        std::rethrow_exception(error);
    } catch (const std::exception &e) {
        qCWarning(lcTimeout, "a task abandoned by withTimeout() failed later: %s", e.what());
    } catch (...) {
        qCWarning(lcTimeout, "a task abandoned by withTimeout() failed later");
    }
}

} // namespace QtAio::detail
