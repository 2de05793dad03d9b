// SPDX-License-Identifier: MIT
// A program outside the QtAio project: builds against an installed QtAio (find_package,
// pkg-config) or a source tree (add_subdirectory, FetchContent) and uses the core types; built
// with CONSUMER_WITH_QML, `--qml FILE` loads a QML file that imports QtAio (found through
// QML_IMPORT_PATH and CONSUMER_QML_IMPORT_PATH, the import path the build gives) and exits with
// the code the file sets.

#include <qtaio/asyncqueue.h>
#include <qtaio/latch.h>
#include <qtaio/taskexecutor.h>
#include <qtaio/version.h>

#include <QtCore/QCoreApplication>
#ifdef CONSUMER_WITH_QML
#include "runqml.h"
#ifndef CONSUMER_QML_IMPORT_PATH
#define CONSUMER_QML_IMPORT_PATH ""
#endif
#endif

#include <qcoro/qcorotask.h>

#include <cstdio>
#include <thread>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
#ifdef CONSUMER_WITH_QML
    const QStringList args = QCoreApplication::arguments();
    const qsizetype qmlAt = args.indexOf(QStringLiteral("--qml"));
    if (qmlAt > 0 && qmlAt + 1 < args.size()) {
        return runQml(args.at(qmlAt + 1), QStringLiteral(CONSUMER_QML_IMPORT_PATH));
    }
#endif
    std::printf("QtAio %s\n", QTAIO_VERSION_STRING);
    QtAio::AsyncQueue<int> queue(4);
    QtAio::Latch done(1);
    QtAio::TaskExecutor executor;
    int sum = 0;
    std::jthread producer([&] {
        for (int i = 1; i <= 100; ++i)
            queue.putBlocking(i);
        queue.close();
    });
    auto consume = [&]() -> QCoro::Task<> {
        while (true) {
            try {
                sum += co_await queue.get();
            } catch (const QtAio::QueueClosedError &) {
                break;
            }
        }
        sum += co_await executor.runInThread([](int x) { return x * 2; }, 0);
        done.countDown();
    };
    auto task = consume();
    auto finish = [&]() -> QCoro::Task<> {
        co_await done.wait();
        QCoreApplication::exit(sum == 5050 ? 0 : 2);
    };
    auto finishing = finish();
    return QCoreApplication::exec();
}
