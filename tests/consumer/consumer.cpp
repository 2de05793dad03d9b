// SPDX-License-Identifier: MIT
// A program outside the QtAio project: builds against an installed QtAio (find_package) or a
// source tree (add_subdirectory) and uses the core types; with `--qml FILE` it also loads a
// QML file that imports QtAio (from QML_IMPORT_PATH) and exits with the code it sets.

#include <qtaio/asyncqueue.h>
#include <qtaio/latch.h>
#include <qtaio/taskexecutor.h>
#include <qtaio/version.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QTimer>
#ifdef CONSUMER_WITH_QML
#include <QtQml/QQmlComponent>
#include <QtQml/QQmlEngine>
#endif

#include <qcoro/qcorotask.h>

#include <cstdio>
#include <memory>
#include <thread>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
#ifdef CONSUMER_WITH_QML
    const QStringList args = QCoreApplication::arguments();
    const qsizetype qmlAt = args.indexOf(QStringLiteral("--qml"));
    if (qmlAt > 0 && qmlAt + 1 < args.size()) {
        QQmlEngine engine;
        QObject::connect(&engine, &QQmlEngine::exit, &app, &QCoreApplication::exit);
        QQmlComponent component(&engine, QUrl::fromLocalFile(args.at(qmlAt + 1)));
        std::unique_ptr<QObject> root(component.create());
        if (!root) {
            std::fprintf(stderr, "%s\n", qPrintable(component.errorString()));
            return 1;
        }
        QTimer::singleShot(60000, &app, [] { QCoreApplication::exit(3); });
        return QCoreApplication::exec();
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
