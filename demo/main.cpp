// SPDX-License-Identifier: MIT
// qtaio-demo: the QtAio Inspector's showcase. A producer thread fills a bounded PriorityQueue, a
// TaskExecutor consumes it under its limit; the window shows both through the Inspector's views.
//
//   qtaio-demo                               interactive window (the default scenario)
//   qtaio-demo --duration 6 --screenshot shot.png --summary-json summary.json
//   qtaio-demo --rate 3000 --mix 5,5,5,1 --limit 8 --at 3s:limit=2 --at 5s:max-size=50
//
// With no display (no DISPLAY / WAYLAND_DISPLAY and no QT_QPA_PLATFORM) it renders offscreen.

#include "workload.h"

#include <inspectormodel.h>
#include <qmlprimitives.h>
#include <qmlqueues.h>

#include <qtaio/inspection.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QTimer>
#include <QtGui/QGuiApplication>
#include <QtQml/QQmlApplicationEngine>
#include <QtQuick/QQuickWindow>

#include <qcoro/qcorotask.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

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

//! A workload control: its name in --at and the range of its value.
struct Control {
    const char *name;
    double low, high;
};
constexpr Control rateControl{"rate", 1, 5000};
constexpr Control limitControl{"limit", 1, 64};
constexpr Control workControl{"work-ms", 1, 2000};
constexpr Control maxSizeControl{"max-size", 1, 1000};

//! One change of the scenario: at \a seconds, \a key (a control, "mix", "pause", "resume" or
//! "close") becomes \a value.
struct Change {
    double seconds = 0;
    QString key;
    QString value;
};

struct Options {
    double duration = 0;
    QString screenshot;
    QString summary;
    QSize size{1280, 800};
    // The workload's controls, for a scenario that can be reproduced (unset: the defaults).
    std::optional<double> rate;
    std::optional<int> limit;
    std::optional<int> workMs;
    std::optional<int> maxSize;
    QVariantList mix;
    std::vector<Change> changes;
    bool still = false;
};

[[noreturn]] void badValue(const QString &flag, const QString &value, const QString &expected)
{
    std::fprintf(stderr, "qtaio-demo: %s: %s, got '%s'\n", qPrintable(flag), qPrintable(expected),
                 qPrintable(value));
    std::exit(2);
}

double number(const QString &flag, const QString &text, const Control &control)
{
    bool ok = false;
    const double value = text.toDouble(&ok);
    if (!ok || value < control.low || value > control.high) {
        badValue(
            flag, text,
            QStringLiteral("expected a number from %1 to %2").arg(control.low).arg(control.high));
    }
    return value;
}

QVariantList mixOf(const QString &flag, const QString &text)
{
    const QStringList weights = text.split(u',');
    QVariantList mix;
    bool ok = weights.size() == Workload::priorityLevels;
    int total = 0;
    for (const QString &weight : weights) {
        bool isNumber = false;
        const int w = weight.toInt(&isNumber);
        ok = ok && isNumber && w >= 0 && w <= 100;
        total += w;
        mix.push_back(w);
    }
    if (!ok || total == 0) {
        badValue(flag, text,
                 QStringLiteral("expected %1 weights from 0 to 100, not all 0, e.g. 4,3,2,1")
                     .arg(Workload::priorityLevels));
    }
    return mix;
}

// "5s:limit=2", "1.5s:mix=5,5,5,1", "3s:pause", "8s:close".
Change changeOf(const QString &text)
{
    const QString flag = QStringLiteral("--at");
    const QString expected =
        QStringLiteral("expected <seconds>s:<key>=<value> (keys: rate, mix, max-size, limit, "
                       "work-ms) or <seconds>s:pause|resume|close, e.g. 5s:limit=2");
    const qsizetype colon = text.indexOf(u':');
    if (colon < 0)
        badValue(flag, text, expected);
    QString time = text.left(colon);
    if (time.endsWith(u's'))
        time.chop(1);
    bool ok = false;
    Change change;
    change.seconds = time.toDouble(&ok);
    if (!ok || change.seconds < 0 || change.seconds > 86400)
        badValue(flag, text, expected);
    const QString action = text.mid(colon + 1);
    const qsizetype equals = action.indexOf(u'=');
    change.key = equals < 0 ? action : action.left(equals);
    change.value = equals < 0 ? QString() : action.mid(equals + 1);
    const QString what = flag + QLatin1Char(' ') + text;
    if (change.key == QLatin1String("pause") || change.key == QLatin1String("resume") ||
        change.key == QLatin1String("close")) {
        if (equals >= 0)
            badValue(flag, text, expected);
    } else if (change.key == QLatin1String("mix")) {
        mixOf(what, change.value);
    } else {
        bool known = false;
        for (const Control &control : {rateControl, limitControl, workControl, maxSizeControl}) {
            if (change.key == QLatin1String(control.name)) {
                number(what, change.value, control);
                known = true;
            }
        }
        if (!known)
            badValue(flag, text, expected);
    }
    return change;
}

Options parse(const QGuiApplication &app)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "The QtAio Inspector's showcase: a bounded PriorityQueue fed by a producer thread, "
        "consumed by a TaskExecutor under an adjustable limit, with phases gated by a Latch.\n"
        "The default scenario: 400 jobs/s, mix 4,3,2,1, maxSize 200, limit 8, 40 ms per job, and "
        "--at 3s:limit=4 (when no --at is given): back-pressure at once, the bulk priority P3 "
        "starving, and the limit halved at 3 s."));
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
    const QCommandLineOption size(QStringLiteral("size"),
                                  QStringLiteral("The window's size (default 1280x800)."),
                                  QStringLiteral("WxH"));
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
                                 QStringLiteral("Priority mix, weights of P0..P3 (e.g. 4,3,2,1)."),
                                 QStringLiteral("weights"));
    const QCommandLineOption at(
        QStringLiteral("at"),
        QStringLiteral("A timed change, repeatable: <seconds>s:<key>=<value> with a key of rate, "
                       "mix, max-size, limit, work-ms; or <seconds>s:pause|resume|close "
                       "(close: as closing the window)."),
        QStringLiteral("change"));
    const QCommandLineOption still(
        QStringLiteral("still"),
        QStringLiteral("The inspector does not sample: the charts stay empty (to measure what the "
                       "views cost the workload)."));
    parser.addOptions(
        {duration, screenshot, summary, size, rate, limit, workMs, maxSize, mix, at, still});
    parser.process(app);
    Options options;
    if (parser.isSet(duration)) {
        options.duration =
            number(QStringLiteral("--duration"), parser.value(duration), {"duration", 0.1, 86400});
    }
    options.still = parser.isSet(still);
    options.screenshot = parser.value(screenshot);
    options.summary = parser.value(summary);
    if (parser.isSet(size)) {
        const QStringList parts = parser.value(size).split(u'x');
        bool okWidth = false, okHeight = false;
        const int width = parts.value(0).toInt(&okWidth);
        const int height = parts.value(1).toInt(&okHeight);
        if (parts.size() != 2 || !okWidth || !okHeight || width < 640 || height < 400 ||
            width > 7680 || height > 4320) {
            badValue(QStringLiteral("--size"), parser.value(size),
                     QStringLiteral("expected <width>x<height>, at least 640x400, e.g. 1024x640"));
        }
        options.size = QSize(width, height);
    }
    if (parser.isSet(rate))
        options.rate = number(QStringLiteral("--rate"), parser.value(rate), rateControl);
    if (parser.isSet(limit))
        options.limit = int(number(QStringLiteral("--limit"), parser.value(limit), limitControl));
    if (parser.isSet(workMs))
        options.workMs =
            int(number(QStringLiteral("--work-ms"), parser.value(workMs), workControl));
    if (parser.isSet(maxSize)) {
        options.maxSize =
            int(number(QStringLiteral("--max-size"), parser.value(maxSize), maxSizeControl));
    }
    if (parser.isSet(mix))
        options.mix = mixOf(QStringLiteral("--mix"), parser.value(mix));
    const QStringList changes =
        parser.isSet(at) ? parser.values(at) : QStringList{QStringLiteral("3s:limit=4")};
    for (const QString &change : changes)
        options.changes.push_back(changeOf(change));
    if (options.duration <= 0 && (!options.screenshot.isEmpty() || !options.summary.isEmpty()))
        options.duration = 5;
    return options;
}

//! What main() shares with the scenario and the summary.
struct Demo {
    Workload *workload = nullptr;
    QQuickWindow *window = nullptr;
    QtAio::QmlSupport::QmlPriorityQueue *queue = nullptr;
    QtAio::QmlSupport::QmlTaskExecutor *executor = nullptr;
    QtAio::InspectorModel *inspector = nullptr;
    QJsonArray applied;  // the --at changes as they were applied
    QJsonArray timeline; // the inspector's samples of the queue and the executor
    bool closedByWindow = false;
};

// Applies one change through the same properties the window's controls write.
void apply(Demo &demo, const Change &change)
{
    const double value = change.value.toDouble();
    if (change.key == QLatin1String("rate"))
        demo.workload->setProducerRate(value);
    else if (change.key == QLatin1String("work-ms"))
        demo.workload->setWorkMs(int(value));
    else if (change.key == QLatin1String("mix"))
        demo.workload->setPriorityMix(mixOf(QStringLiteral("--at"), change.value));
    else if (change.key == QLatin1String("limit"))
        demo.executor->setLimit(int(value));
    else if (change.key == QLatin1String("max-size"))
        demo.queue->setMaxSize(int(value));
    else if (change.key == QLatin1String("pause"))
        demo.workload->setPaused(true);
    else if (change.key == QLatin1String("resume"))
        demo.workload->setPaused(false);
    else if (change.key == QLatin1String("close")) {
        demo.closedByWindow = true;
        demo.window->close();
    }
    demo.applied.push_back(QJsonObject{
        {QStringLiteral("atSeconds"), change.seconds},
        {QStringLiteral("key"), change.key},
        {QStringLiteral("value"), change.value},
        {QStringLiteral("appliedSeconds"), demo.workload->elapsed()},
        // The inspector samples taken before the change: the next one is the first after it.
        {QStringLiteral("samplesBefore"), demo.timeline.size()},
    });
}

// The inspector's state of the queue and the executor at one of its samples.
void record(Demo &demo)
{
    QJsonObject sample{{QStringLiteral("t"), demo.workload->elapsed()}};
    QtAio::InspectorModel &model = *demo.inspector;
    for (int row = 0; row < model.rowCount(); ++row) {
        const QModelIndex index = model.index(row);
        const QString name = model.data(index, QtAio::InspectorModel::NameRole).toString();
        if (name != QLatin1String("jobs") && name != QLatin1String("consumers"))
            continue;
        const QVariantMap state =
            model.state(model.data(index, QtAio::InspectorModel::IdRole).toDouble());
        sample.insert(name, QJsonObject::fromVariantMap(state));
    }
    demo.timeline.push_back(sample);
}

QCoro::Task<> finishRun(Demo &demo, Options options)
{
    int status = 0;
    if (!options.screenshot.isEmpty() && demo.window->isVisible()) {
        // Taken while the workload still runs: the window as the user sees it.
        const QImage image = demo.window->grabWindow();
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
    demo.inspector->setActive(false);
    co_await demo.workload->stop();
    if (!options.summary.isEmpty()) {
        QJsonObject summary = demo.workload->summary();
        summary.insert(QStringLiteral("changes"), demo.applied);
        summary.insert(QStringLiteral("inspector"), demo.timeline);
        summary.insert(QStringLiteral("closedByWindow"), demo.closedByWindow);
        QFile file(options.summary);
        if (file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
            file.write(QJsonDocument(summary).toJson(QJsonDocument::Compact));
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

QCoro::Task<> finish(Demo &demo, Options options)
{
    // Nothing here may end without quitting the application: a failure is reported and
    // becomes the exit status.
    try {
        co_await finishRun(demo, options);
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
    QGuiApplication app(argc, argv);
    QGuiApplication::setApplicationName(QStringLiteral("qtaio-demo"));
    QGuiApplication::setQuitOnLastWindowClosed(false);
    const Options options = parse(app);
    if (offscreen) {
        std::printf("qtaio-demo: no display found, rendering offscreen%s\n",
                    options.screenshot.isEmpty() ? " (use --screenshot FILE to see it)" : "");
    }
    // Before the window's queue and executor exist: the inspector lists what is created after.
    QtAio::Inspection::setEnabled(true);

    Workload workload;
    QQmlApplicationEngine engine;
    engine.setInitialProperties({{QStringLiteral("workload"), QVariant::fromValue(&workload)},
                                 {QStringLiteral("width"), options.size.width()},
                                 {QStringLiteral("height"), options.size.height()}});
    // The modules QtAio and QtAio.Inspector are in the resources of their libraries, which the
    // demo links: qrc:/QtAio (Qt 6.4's default prefix) and qrc:/qt/qml/QtAio/Inspector.
    engine.addImportPath(QStringLiteral("qrc:/"));
    engine.addImportPath(QStringLiteral("qrc:/qt/qml"));
    engine.load(QUrl(QStringLiteral("qrc:/QtAioDemo/Main.qml")));
    if (engine.rootObjects().isEmpty())
        return 1;
    Demo demo;
    demo.workload = &workload;
    demo.window = qobject_cast<QQuickWindow *>(engine.rootObjects().constFirst());
    if (!demo.window)
        return 1;
    demo.queue = demo.window->property("jobQueue").value<QtAio::QmlSupport::QmlPriorityQueue *>();
    demo.executor =
        demo.window->property("jobExecutor").value<QtAio::QmlSupport::QmlTaskExecutor *>();
    demo.inspector = demo.window->findChild<QtAio::InspectorModel *>(QStringLiteral("inspector"));
    if (!demo.queue || !demo.executor || !demo.inspector) {
        std::fprintf(stderr, "qtaio-demo: Main.qml lacks jobQueue, jobExecutor or inspector\n");
        return 1;
    }

    if (options.rate)
        workload.setProducerRate(*options.rate);
    if (options.workMs)
        workload.setWorkMs(*options.workMs);
    if (!options.mix.isEmpty())
        workload.setPriorityMix(options.mix);
    if (options.limit)
        demo.executor->setLimit(*options.limit);
    if (options.maxSize)
        demo.queue->setMaxSize(*options.maxSize);
    QObject::connect(demo.inspector, &QtAio::InspectorModel::sampled, &app, [&] { record(demo); });
    if (options.still)
        demo.inspector->setActive(false);

    std::optional<QCoro::Task<>> finishing;
    auto quit = [&] {
        if (!finishing)
            finishing = finish(demo, options);
    };
    QObject::connect(&app, &QGuiApplication::lastWindowClosed, &app, quit);
    // The workload, its timed changes and the duration start once the window shows its first
    // frame (as an application starts its work once its window is up), or after a second
    // when no frame comes (a window that is never exposed). Counted from there, the first
    // jobs do not wait for the window's first layout and drawing.
    bool started = false;
    auto begin = [&] {
        if (std::exchange(started, true) || finishing)
            return;
        workload.start(demo.queue->queue(), demo.executor->executor());
        for (const Change &change : options.changes) {
            QTimer::singleShot(std::chrono::milliseconds(qint64(change.seconds * 1000)),
                               Qt::PreciseTimer, &app, [&demo, change] { apply(demo, change); });
        }
        if (options.duration > 0) {
            QTimer::singleShot(std::chrono::milliseconds(qint64(options.duration * 1000)),
                               Qt::PreciseTimer, &app, quit);
        }
    };
    QObject::connect(demo.window, &QQuickWindow::frameSwapped, &app, begin,
                     Qt::SingleShotConnection);
    QTimer::singleShot(std::chrono::seconds(1), &app, begin);
    return QGuiApplication::exec();
}
