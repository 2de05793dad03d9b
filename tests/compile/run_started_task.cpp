// SPDX-License-Identifier: MIT
// Misuse: run() of something that is neither a factory nor a QCoro::Task.
#include <qtaio/taskexecutor.h>

QCoro::Task<int> misuse(QtAio::TaskExecutor &executor)
{
    co_return co_await executor.run(42);
}
