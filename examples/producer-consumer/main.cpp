// SPDX-License-Identifier: MIT
// A worker thread without an event loop produces lines into a bounded AsyncQueue; a coroutine
// on the main thread consumes them; a Latch tells the main thread when both sides are done.

#include <qtaio/asyncqueue.h>
#include <qtaio/latch.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QMetaObject>
#include <QtCore/QString>

#include <qcoro/qcorotask.h>

#include <cstdio>
#include <optional>
#include <thread>

// [consumer]
QCoro::Task<> consume(QtAio::AsyncQueue<QString> &lines, QtAio::Latch &done)
{
    int count = 0;
    // next() yields std::nullopt once the producer closed the queue and every line was taken.
    while (const std::optional<QString> line = co_await lines.next()) { // resumes on this thread
        ++count;
        if (count % 25 == 0)
            std::printf("consumed %d lines, last: %s\n", count, qPrintable(*line));
    }
    std::printf("consumer finished after %d lines\n", count);
    done.countDown();
}
// [consumer]

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);

    // [producer]
    QtAio::AsyncQueue<QString> lines(8); // bounded: the producer waits while 8 are queued
    QtAio::Latch done(2);                // the producer and the consumer

    std::jthread producer([&] {
        for (int i = 1; i <= 100; ++i)
            lines.putBlocking(QStringLiteral("line %1").arg(i)); // no event loop here
        lines.close(); // getters drain what is left, then get QueueClosedError
        done.countDown();
    });
    // [producer]

    auto consumer = consume(lines, done);
    auto waitForBoth = [&]() -> QCoro::Task<> {
        co_await done.wait();
        std::printf("both sides done; high-water mark %d of %d\n", lines.highWaterMark(),
                    lines.maxSize());
        // Queued: with a fast producer, both sides can be done before exec() runs, and quit()
        // ignores a loop that has not started.
        QMetaObject::invokeMethod(&app, &QCoreApplication::quit, Qt::QueuedConnection);
    };
    auto waiting = waitForBoth();
    return QCoreApplication::exec();
}
