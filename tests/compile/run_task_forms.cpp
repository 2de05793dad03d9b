// SPDX-License-Identifier: MIT
// The run() forms both compilers must accept (Clang once rejected the timeout form of
// run(QCoro::Task<T>) with a hard error inside a trait of the factory overload).
#include <qtaio/taskexecutor.h>

#include <chrono>
#include <stop_token>

QCoro::Task<int> work()
{
    co_return 1;
}

QCoro::Task<int> forms(QtAio::TaskExecutor &executor)
{
    using namespace std::chrono_literals;
    int sum = co_await executor.run(work());
    sum += co_await executor.run(work(), 5s);
    sum += co_await executor.run(work(), QDeadlineTimer(5000));
    auto factory = [] { return work(); };
    sum += co_await executor.run(factory);
    sum += co_await executor.run(factory, 5s);
    auto stoppable = [](std::stop_token) { return work(); };
    sum += co_await executor.run(stoppable, 5s);
    co_return sum;
}
