// SPDX-License-Identifier: MIT
// Misuse: runInThread() of a function that does not take the arguments given.
#include <qtaio/taskexecutor.h>

#include <QtCore/QString>

QCoro::Task<> misuse(QtAio::TaskExecutor &executor)
{
    auto twice = [](int value) { return value * 2; };
    const QString text;
    co_await executor.runInThread(twice, text);
}
