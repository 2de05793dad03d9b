// SPDX-License-Identifier: MIT
// Misuse: spawn() of a started task where a factory is required.
#include <qtaio/taskexecutor.h>

QCoro::Task<> work()
{
    co_return;
}

void misuse(QtAio::TaskExecutor &executor)
{
    executor.spawn(work());
}
