// SPDX-License-Identifier: MIT
// qtaio-demo: a live view of queue depth, priorities and concurrency limits.
//
//   qtaio-demo                               interactive window
//   qtaio-demo --duration 5 --screenshot shot.png --summary-json summary.json
//
// With no display (no DISPLAY / WAYLAND_DISPLAY and no QT_QPA_PLATFORM) it renders offscreen.

#include "workload.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
#include <QtCore/QTimer>
#include <QtQml/QQmlApplicationEngine>
#include <QtQuick/QQuickWindow>
#include <QtWidgets/QApplication>

#include <qcoro/qcorotask.h>

#include <cstdio>

namespace {

bool selectPlatform()
{
    const bool hasDisplay =
        qEnvironmentVariableIsSet("DISPLAY") || qEnvironmentVariableIsSet("WAYLAND_DISPLAY");
    if (hasDisplay || qEnvironmentVariableIsSet("QT_QPA_PLATFORM"))
        return false;
    qputenv("QT_QPA_PLATFORM", "offscreen");
    return true;
}

struct Options {
    double duration = 0;
    QString screenshot;
    QString summary;
};

Options parse(const QApplication &app)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Live view of QtAio: a bounded PriorityQueue fed by a producer thread, consumed by a "
        "TaskExecutor under an adjustable limit, with phases gated by a Latch."));
    parser.addHelpOption();
    const QCommandLineOption duration(QStringLiteral("duration"),
                                      QStringLiteral("Quit after <seconds>."),
                                      QStringLiteral("seconds"));
    const QCommandLineOption screenshot(
        QStringLiteral("screenshot"),
        QStringLiteral("Save the window as PNG <file> when quitting (default duration: 5 s)."),
        QStringLiteral("file"));
    const QCommandLineOption summary(QStringLiteral("summary-json"),
                                     QStringLiteral("Write the run's summary to <file>."),
                                     QStringLiteral("file"));
    parser.addOptions({duration, screenshot, summary});
    parser.process(app);
    Options options;
    options.duration = parser.value(duration).toDouble();
    options.screenshot = parser.value(screenshot);
    options.summary = parser.value(summary);
    if (options.duration <= 0 && (!options.screenshot.isEmpty() || !options.summary.isEmpty()))
        options.duration = 5;
    return options;
}

QCoro::Task<> finish(Workload &workload, QQuickWindow *window, Options options)
{
    int status = 0;
    if (!options.screenshot.isEmpty()) {
        // Taken while the workload still runs: the window as the user sees it.
        const QImage image = window->grabWindow();
        if (image.save(options.screenshot)) {
            std::printf("screenshot: %s (%dx%d)\n",
                        qPrintable(QDir::current().absoluteFilePath(options.screenshot)),
                        image.width(), image.height());
        } else {
            std::fprintf(stderr, "qtaio-demo: could not write %s\n",
                         qPrintable(options.screenshot));
            status = 1;
        }
    }
    co_await workload.stop();
    if (!options.summary.isEmpty()) {
        QFile file(options.summary);
        if (file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
            file.write(QJsonDocument(workload.summary()).toJson());
            std::printf("summary: %s\n",
                        qPrintable(QDir::current().absoluteFilePath(options.summary)));
        } else {
            std::fprintf(stderr, "qtaio-demo: could not write %s\n", qPrintable(options.summary));
            status = 1;
        }
    }
    std::fflush(stdout);
    QCoreApplication::exit(status);
}

} // namespace

int main(int argc, char *argv[])
{
    std::setvbuf(stdout, nullptr, _IOLBF, 0); // progress lines appear at once, also in pipes
    const bool offscreen = selectPlatform();
    QApplication app(argc, argv); // QtCharts needs a QApplication
    QApplication::setApplicationName(QStringLiteral("qtaio-demo"));
    QApplication::setQuitOnLastWindowClosed(false);
    const Options options = parse(app);
    if (offscreen) {
        std::printf("qtaio-demo: no display found, rendering offscreen%s\n",
                    options.screenshot.isEmpty() ? " (use --screenshot FILE to see it)" : "");
    }

    Workload workload;
    QQmlApplicationEngine engine;
    engine.setInitialProperties({{QStringLiteral("workload"), QVariant::fromValue(&workload)}});
    engine.load(QUrl(QStringLiteral("qrc:/QtAioDemo/Main.qml")));
    if (engine.rootObjects().isEmpty())
        return 1;
    auto *window = qobject_cast<QQuickWindow *>(engine.rootObjects().constFirst());
    if (!window)
        return 1;

    workload.start();
    std::optional<QCoro::Task<>> finishing;
    auto quit = [&] {
        if (!finishing)
            finishing = finish(workload, window, options);
    };
    QObject::connect(&app, &QGuiApplication::lastWindowClosed, &app, quit);
    if (options.duration > 0)
        QTimer::singleShot(int(options.duration * 1000), &app, quit);
    return QApplication::exec();
}
