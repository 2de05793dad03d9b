// SPDX-License-Identifier: MIT
// Misuse: gather() of started tasks where factories are required.
#include <qtaio/taskexecutor.h>

#include <vector>

QCoro::Task<int> work(int value)
{
    co_return value;
}

QCoro::Task<> misuse(QtAio::TaskExecutor &executor)
{
    std::vector<QCoro::Task<int>> tasks;
    tasks.push_back(work(1));
    co_await executor.gather(std::move(tasks));
}
