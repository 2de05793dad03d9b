// SPDX-License-Identifier: MIT
// Misuse: a put awaitable stored and awaited after the temporary it refers to is gone.
#include <qtaio/asyncqueue.h>

#include <QtCore/QString>

#include <qcoro/qcorotask.h>

QCoro::Task<> misuse(QtAio::AsyncQueue<QString> &queue)
{
    auto op = queue.put(QStringLiteral("x"));
    co_await op;
}
