// SPDX-License-Identifier: MIT
// qtaio-demo: a live view of queue depth, priorities and concurrency limits.
//
//   qtaio-demo                               interactive window
//   qtaio-demo --duration 5 --screenshot shot.png --summary-json summary.json
//   qtaio-demo --rate 3000 --limit 64 --work-ms 2 --max-size 200 --mix 5,5,5,1
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
#include <cstdlib>
#include <optional>

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
    // The workload's controls, for a scenario that can be reproduced (unset: the defaults).
    std::optional<double> rate;
    std::optional<int> limit;
    std::optional<int> workMs;
    std::optional<int> maxSize;
    QVariantList mix;
};

//! Applies the options' workload controls.
void apply(const Options &options, Workload &workload)
{
    if (options.rate)
        workload.setProducerRate(*options.rate);
    if (options.limit)
        workload.setLimit(*options.limit);
    if (options.workMs)
        workload.setWorkMs(*options.workMs);
    if (options.maxSize)
        workload.setMaxSize(*options.maxSize);
    if (!options.mix.isEmpty())
        workload.setPriorityMix(options.mix);
}

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
    const QCommandLineOption rate(QStringLiteral("rate"),
                                  QStringLiteral("Producer rate in jobs per second (1-5000)."),
                                  QStringLiteral("jobs/s"));
    const QCommandLineOption limit(QStringLiteral("limit"),
                                   QStringLiteral("The executor's limit (1-64)."),
                                   QStringLiteral("n"));
    const QCommandLineOption workMs(QStringLiteral("work-ms"),
                                    QStringLiteral("Work per job in milliseconds (1-2000)."),
                                    QStringLiteral("ms"));
    const QCommandLineOption maxSize(QStringLiteral("max-size"),
                                     QStringLiteral("The queue's maxSize (1-1000)."),
                                     QStringLiteral("n"));
    const QCommandLineOption mix(QStringLiteral("mix"),
                                 QStringLiteral("Priority mix, weights of P0..P3 (e.g. 1,2,3,4)."),
                                 QStringLiteral("weights"));
    parser.addOptions({duration, screenshot, summary, rate, limit, workMs, maxSize, mix});
    parser.process(app);
    Options options;
    options.duration = parser.value(duration).toDouble();
    options.screenshot = parser.value(screenshot);
    options.summary = parser.value(summary);
    const auto number = [&](const QCommandLineOption &option, double low, double high) {
        bool ok = false;
        const double value = parser.value(option).toDouble(&ok);
        if (!ok || value < low || value > high) {
            std::fprintf(stderr, "qtaio-demo: --%s must be a number from %g to %g, got '%s'\n",
                         qPrintable(option.names().constFirst()), low, high,
                         qPrintable(parser.value(option)));
            std::exit(2);
        }
        return value;
    };
    if (parser.isSet(rate))
        options.rate = number(rate, 1, 5000);
    if (parser.isSet(limit))
        options.limit = int(number(limit, 1, 64));
    if (parser.isSet(workMs))
        options.workMs = int(number(workMs, 1, 2000));
    if (parser.isSet(maxSize))
        options.maxSize = int(number(maxSize, 1, 1000));
    if (parser.isSet(mix)) {
        const QStringList weights = parser.value(mix).split(u',');
        bool ok = weights.size() == Workload::priorityLevels;
        for (const QString &weight : weights) {
            bool isNumber = false;
            const int w = weight.toInt(&isNumber);
            ok = ok && isNumber && w >= 0;
            options.mix.push_back(w);
        }
        if (!ok) {
            std::fprintf(stderr, "qtaio-demo: --mix takes %d weights >= 0, got '%s'\n",
                         Workload::priorityLevels, qPrintable(parser.value(mix)));
            std::exit(2);
        }
    }
    if (options.duration <= 0 && (!options.screenshot.isEmpty() || !options.summary.isEmpty()))
        options.duration = 5;
    return options;
}

QCoro::Task<> finishRun(Workload &workload, QQuickWindow *window, Options options)
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

QCoro::Task<> finish(Workload &workload, QQuickWindow *window, Options options)
{
    // Nothing here may end without quitting the application: a failure is reported and
    // becomes the exit status.
    try {
        co_await finishRun(workload, window, options);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "qtaio-demo: stopping failed: %s\n", e.what());
        QCoreApplication::exit(1);
    } catch (...) {
        std::fprintf(stderr, "qtaio-demo: stopping failed\n");
        QCoreApplication::exit(1);
    }
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

    apply(options, workload);
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
