// SPDX-License-Identifier: MIT
// What the Inspector's drawing costs the GUI thread: an InspectorWindow over ~20 primitives that
// a worker thread changes constantly (queues filled and drained, executors running timed tasks
// against changing limits, semaphores and latches), for a few seconds. Prints frame times
// (beforeSynchronizing to frameSwapped: in the GUI thread with the basic render loop of the
// offscreen platform's software scene graph, in the render thread with a GPU backend's threaded
// loop), the synchronisation time (during which the GUI thread is blocked), the cost of one
// sample of the model, and the GUI thread's CPU time as a share of the wall time: the workload
// runs on another thread, so that share is the inspector's.
//
// With --overhead it measures instead what inspection costs a queue's put and get: a
// non-suspending tryPut + tryGet pair on a queue created while inspection is off (unlisted:
// what a queue cost before the registry existed, less one relaxed load at construction), on a
// listed queue with no inspector, and on a listed queue that an InspectorModel samples every
// 100 ms (which counts its taken items through itemsTaken), in alternating rounds.
//
// Usage: qtaio-bench-inspector [--duration S] [--churn-ms N] [--burst N] [--interval MS]
//                              [--select NAME] [--screenshot FILE] [--size WxH]
//        qtaio-bench-inspector --overhead [--rounds N]
#include <inspector.h>
#include <inspectormodel.h>

#include <qtaio/asyncqueue.h>
#include <qtaio/inspection.h>
#include <qtaio/priorityqueue.h>
#include <qtaio/latch.h>
#include <qtaio/semaphore.h>
#include <qtaio/taskexecutor.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QElapsedTimer>
#include <QtCore/QRandomGenerator>
#include <QtCore/QThread>
#include <QtCore/QTimer>
#include <QtGui/QGuiApplication>
#include <QtGui/QImage>
#include <QtQuick/QQuickWindow>

#include <qcoro/qcorotimer.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <unistd.h>
#include <memory>
#include <optional>
#include <vector>

namespace {

using namespace std::chrono_literals;

double threadCpuSeconds()
{
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + double(t.tv_nsec) / 1e9;
}

// CPU seconds of this process's threads whose name starts with \a prefix (Linux, from
// /proc/self/task: a resolution of one clock tick), such as the chart painter's thread.
double namedThreadsCpuSeconds(const QByteArray &prefix)
{
    double seconds = 0;
    const QDir tasks(QStringLiteral("/proc/self/task"));
    for (const QString &task : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile comm(tasks.filePath(task + QStringLiteral("/comm")));
        QFile stat(tasks.filePath(task + QStringLiteral("/stat")));
        if (!comm.open(QIODevice::ReadOnly) || !comm.readAll().startsWith(prefix) ||
            !stat.open(QIODevice::ReadOnly))
            continue;
        // Fields 14 and 15 (utime, stime) follow the name in parentheses, which may hold spaces.
        const QByteArray line = stat.readAll();
        const QList<QByteArray> fields = line.mid(line.lastIndexOf(')') + 2).split(' ');
        if (fields.size() > 12)
            seconds += double(fields[11].toLongLong() + fields[12].toLongLong()) /
                       double(sysconf(_SC_CLK_TCK));
    }
    return seconds;
}

double percentile(std::vector<double> values, double p)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    return values[std::min(values.size() - 1, std::size_t(p * double(values.size() - 1) + 0.5))];
}

// Nanoseconds per tryPut + tryGet pair over \a pairs pairs; \a model, when given, samples every
// 100 ms of the loop (in this thread, as a model in the queue's thread would).
template<typename Queue, typename Put>
double pairCost(Queue &queue, Put put, qint64 pairs, QtAio::InspectorModel *model)
{
    QElapsedTimer clock;
    clock.start();
    qint64 nextSample = 100;
    int sink = 0;
    for (qint64 i = 0; i < pairs; ++i) {
        put(queue, int(i));
        sink += *queue.tryGet();
        if (model && (i & 1023) == 0 && clock.elapsed() >= nextSample) {
            model->sample();
            nextSample += 100;
        }
    }
    const double ns = double(clock.nsecsElapsed()) / double(pairs);
    return sink == 42 ? ns + 1e-9 : ns; // the sum is used: the loop is not optimised away
}

int overhead(int rounds)
{
    constexpr qint64 pairs = 2000000;
    struct Variant {
        const char *name;
        std::vector<double> fifo, priority;
    };
    Variant unlisted{"inspection off (queue unlisted)", {}, {}};
    Variant listed{"inspection on, no inspector (queue listed)", {}, {}};
    Variant sampled{"inspection on, sampled every 100 ms by an InspectorModel", {}, {}};
    const auto fifoPut = [](QtAio::AsyncQueue<int> &q, int v) { (void)q.tryPut(v); };
    const auto priorityPut = [](QtAio::PriorityQueue<int> &q, int v) { (void)q.tryPut(v, v & 3); };
    for (int round = 0; round < rounds; ++round) {
        {
            QtAio::Inspection::setEnabled(false);
            QtAio::AsyncQueue<int> fifo;
            QtAio::PriorityQueue<int> priority;
            unlisted.fifo.push_back(pairCost(fifo, fifoPut, pairs, nullptr));
            unlisted.priority.push_back(pairCost(priority, priorityPut, pairs, nullptr));
        }
        {
            QtAio::Inspection::setEnabled(true);
            QtAio::AsyncQueue<int> fifo;
            QtAio::PriorityQueue<int> priority;
            listed.fifo.push_back(pairCost(fifo, fifoPut, pairs, nullptr));
            listed.priority.push_back(pairCost(priority, priorityPut, pairs, nullptr));
            QtAio::Inspection::setEnabled(false);
        }
        {
            QtAio::InspectorModel model; // enables inspection
            model.setActive(false);
            QtAio::AsyncQueue<int> fifo;
            QtAio::PriorityQueue<int> priority;
            model.sample();
            sampled.fifo.push_back(pairCost(fifo, fifoPut, pairs, &model));
            sampled.priority.push_back(pairCost(priority, priorityPut, pairs, &model));
            QtAio::Inspection::setEnabled(false);
        }
    }
    std::printf("tryPut + tryGet pair, %lld pairs per round, %d alternating rounds: median "
                "(min-max) ns per pair\n",
                static_cast<long long>(pairs), rounds);
    const double fifoBase = percentile(unlisted.fifo, 0.5);
    const double priorityBase = percentile(unlisted.priority, 0.5);
    for (const Variant *v : {&unlisted, &listed, &sampled}) {
        std::printf("  %-58s AsyncQueue<int> %.1f (%.1f-%.1f) %.3fx   PriorityQueue<int> %.1f "
                    "(%.1f-%.1f) %.3fx\n",
                    v->name, percentile(v->fifo, 0.5), percentile(v->fifo, 0),
                    percentile(v->fifo, 1), percentile(v->fifo, 0.5) / fifoBase,
                    percentile(v->priority, 0.5), percentile(v->priority, 0),
                    percentile(v->priority, 1), percentile(v->priority, 0.5) / priorityBase);
    }
    return 0;
}

// Twenty-four primitives living in the worker thread, changed by a timer there.
class Workload : public QObject {
public:
    Workload(int churnMs, int burst) : m_burst(burst)
    {
        const auto named = [](QObject *object, const QString &name) {
            object->setObjectName(name);
        };
        for (int i = 0; i < 8; ++i) {
            m_queues.push_back(std::make_unique<QtAio::AsyncQueue<int>>(i % 2 ? 0 : 100 * (i + 1)));
            named(m_queues.back().get(), QStringLiteral("queue %1").arg(i + 1));
        }
        for (int i = 0; i < 4; ++i) {
            m_priorityQueues.push_back(std::make_unique<QtAio::PriorityQueue<int>>(200));
            named(m_priorityQueues.back().get(), QStringLiteral("priority queue %1").arg(i + 1));
        }
        for (int i = 0; i < 4; ++i) {
            m_executors.push_back(std::make_unique<QtAio::TaskExecutor>());
            m_executors.back()->setLimit(4 + 2 * i);
            named(m_executors.back().get(), QStringLiteral("executor %1").arg(i + 1));
        }
        for (int i = 0; i < 4; ++i) {
            m_semaphores.push_back(std::make_unique<QtAio::Semaphore>(5 + i));
            named(m_semaphores.back().get(), QStringLiteral("semaphore %1").arg(i + 1));
        }
        for (int i = 0; i < 4; ++i) {
            m_latches.push_back(std::make_unique<QtAio::Latch>(1000000));
            named(m_latches.back().get(), QStringLiteral("latch %1").arg(i + 1));
        }
        m_timer.setInterval(churnMs);
        connect(&m_timer, &QTimer::timeout, this, [this] { churn(); });
        m_timer.start();
    }

private:
    void churn()
    {
        auto *random = QRandomGenerator::global();
        ++m_tick;
        for (std::size_t i = 0; i < m_queues.size(); ++i) {
            auto &queue = *m_queues[i];
            // A slow wave of fill and drain, different per queue.
            const bool filling = (m_tick / (200 + 37 * i)) % 2 == 0;
            for (int k = 0, n = int(random->bounded(m_burst)) + 1; k < n; ++k)
                (void)queue.tryPut(k);
            for (int k = 0, n = int(random->bounded(m_burst)) + (filling ? 0 : 2); k < n; ++k)
                (void)queue.tryGet();
        }
        for (auto &queue : m_priorityQueues) {
            // Four priorities, the last one starved: taken only when nothing else is queued.
            for (int k = 0, n = int(random->bounded(m_burst)) + 1; k < n; ++k)
                (void)queue->tryPut(k, int(random->bounded(4)));
            for (int k = 0, n = int(random->bounded(m_burst)) + 1; k < n; ++k)
                (void)queue->tryGet();
        }
        for (std::size_t i = 0; i < m_executors.size(); ++i) {
            auto &executor = *m_executors[i];
            if (m_tick % (500 + 100 * i) == 0)
                executor.setLimit(int(random->bounded(2, 12)));
            if (executor.running() + executor.property("waiting").toInt() +
                    executor.property("pending").toInt() <
                30) {
                const auto work = std::chrono::milliseconds(random->bounded(5, 60));
                (void)executor.spawn([work]() -> QCoro::Task<> { co_await QCoro::sleepFor(work); });
            }
        }
        for (auto &semaphore : m_semaphores) {
            auto permit = random->bounded(2) ? semaphore->tryAcquire() : std::nullopt;
            if (permit) {
                permit->detach(); // held until the release below
                ++m_held[semaphore.get()];
            } else if (m_held[semaphore.get()] > 0) {
                semaphore->release();
                --m_held[semaphore.get()];
            }
        }
        for (auto &latch : m_latches)
            latch->countDown(int(random->bounded(m_burst)));
    }

    int m_burst;
    qint64 m_tick = 0;
    QTimer m_timer;
    std::vector<std::unique_ptr<QtAio::AsyncQueue<int>>> m_queues;
    std::vector<std::unique_ptr<QtAio::PriorityQueue<int>>> m_priorityQueues;
    std::vector<std::unique_ptr<QtAio::TaskExecutor>> m_executors;
    std::vector<std::unique_ptr<QtAio::Semaphore>> m_semaphores;
    std::vector<std::unique_ptr<QtAio::Latch>> m_latches;
    QHash<QtAio::Semaphore *, int> m_held;
};

} // namespace

int main(int argc, char *argv[])
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") && qEnvironmentVariableIsEmpty("DISPLAY") &&
        qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    const QCommandLineOption durationOption(QStringLiteral("duration"),
                                            QStringLiteral("Seconds measured."),
                                            QStringLiteral("s"), QStringLiteral("5"));
    const QCommandLineOption churnOption(
        QStringLiteral("churn-ms"),
        QStringLiteral("Milliseconds between two changes of every primitive."),
        QStringLiteral("ms"), QStringLiteral("2"));
    const QCommandLineOption burstOption(QStringLiteral("burst"),
                                         QStringLiteral("Items put/taken per change, at most."),
                                         QStringLiteral("n"), QStringLiteral("8"));
    const QCommandLineOption intervalOption(QStringLiteral("interval"),
                                            QStringLiteral("Sampling interval."),
                                            QStringLiteral("ms"), QStringLiteral("100"));
    const QCommandLineOption selectOption(QStringLiteral("select"),
                                          QStringLiteral("Primitive shown in detail."),
                                          QStringLiteral("name"), QStringLiteral("executor 2"));
    const QCommandLineOption screenshotOption(
        QStringLiteral("screenshot"), QStringLiteral("Save the window as a PNG at the end."),
        QStringLiteral("file"));
    const QCommandLineOption sizeOption(QStringLiteral("size"), QStringLiteral("Window size."),
                                        QStringLiteral("WxH"), QStringLiteral("1024x640"));
    const QCommandLineOption overheadOption(
        QStringLiteral("overhead"),
        QStringLiteral("Measure what inspection costs a queue's put and get instead."));
    const QCommandLineOption roundsOption(QStringLiteral("rounds"),
                                          QStringLiteral("Rounds of --overhead."),
                                          QStringLiteral("n"), QStringLiteral("7"));
    parser.addOptions({durationOption, churnOption, burstOption, intervalOption, selectOption,
                       screenshotOption, sizeOption, overheadOption, roundsOption});
    parser.process(app);
    if (parser.isSet(overheadOption))
        return overhead(parser.value(roundsOption).toInt());
    const QStringList size = parser.value(sizeOption).split(QLatin1Char('x'));

    QQuickWindow *window = QtAio::Inspector::show();
    if (!window)
        return 1;
    window->resize(size.value(0).toInt(), size.value(1).toInt());
    auto *model = window->findChild<QtAio::InspectorModel *>();
    model->setInterval(parser.value(intervalOption).toInt());

    QThread worker;
    worker.setObjectName(QStringLiteral("workload"));
    worker.start();
    std::unique_ptr<Workload> workload;
    QObject context;
    context.moveToThread(&worker);
    QMetaObject::invokeMethod(
        &context,
        [&] {
            workload = std::make_unique<Workload>(parser.value(churnOption).toInt(),
                                                  parser.value(burstOption).toInt());
        },
        Qt::BlockingQueuedConnection);

    // Frame times: from the start of a frame's synchronisation to its swap, in the GUI thread.
    std::vector<double> frames;
    QElapsedTimer frameClock;
    QObject::connect(
        window, &QQuickWindow::beforeSynchronizing, window, [&] { frameClock.start(); },
        Qt::DirectConnection);
    QObject::connect(
        window, &QQuickWindow::frameSwapped, window,
        [&] {
            if (frameClock.isValid())
                frames.push_back(double(frameClock.nsecsElapsed()) / 1e6);
        },
        Qt::DirectConnection);
    // Synchronisation: the GUI thread is blocked (threaded render loop) or busy (basic loop).
    std::vector<double> syncs;
    QElapsedTimer syncClock;
    QObject::connect(
        window, &QQuickWindow::beforeSynchronizing, window, [&] { syncClock.start(); },
        Qt::DirectConnection);
    QObject::connect(
        window, &QQuickWindow::afterSynchronizing, window,
        [&] { syncs.push_back(double(syncClock.nsecsElapsed()) / 1e6); }, Qt::DirectConnection);
    // The model's sampling, timed on its own.
    std::vector<double> samples;

    // Warm up a second, select the primitive to show, then measure.
    QTimer::singleShot(1000, &app, [&] {
        const QString wanted = parser.value(selectOption);
        for (int row = 0; row < model->rowCount(); ++row) {
            if (model->data(model->index(row), QtAio::InspectorModel::NameRole).toString() ==
                wanted) {
                if (QObject *list = window->findChild<QObject *>(QStringLiteral("primitiveList")))
                    list->setProperty("currentIndex", row);
            }
        }
        model->setActive(false);
        auto *sampler = new QTimer(&app);
        sampler->setInterval(model->interval());
        QObject::connect(sampler, &QTimer::timeout, model, [&] {
            QElapsedTimer t;
            t.start();
            model->sample();
            samples.push_back(double(t.nsecsElapsed()) / 1e6);
        });
        sampler->start();
        frames.clear();
        syncs.clear();
        const double cpuStart = threadCpuSeconds();
        const QByteArray painterThread("QtAio chart pai"); // the name, cut to 15 characters
        const double painterStart = namedThreadsCpuSeconds(painterThread);
        QElapsedTimer wall;
        wall.start();
        const int seconds = parser.value(durationOption).toInt();
        QTimer::singleShot(seconds * 1000, &app, [&, cpuStart, painterThread, painterStart, wall] {
            const double cpu = threadCpuSeconds() - cpuStart;
            const double painter = namedThreadsCpuSeconds(painterThread) - painterStart;
            const double elapsed = double(wall.nsecsElapsed()) / 1e9;
            std::printf("inspector: %d primitives, sampling every %d ms, churn every %s ms (burst "
                        "%s), %.1f s, %dx%d, graphics API %d\n",
                        model->rowCount(), model->interval(), qPrintable(parser.value(churnOption)),
                        qPrintable(parser.value(burstOption)), elapsed, window->width(),
                        window->height(), int(window->rendererInterface()->graphicsApi()));
            std::printf("frames: %zu (%.1f/s), frame time p50 %.2f ms, p95 %.2f ms, max %.2f ms\n",
                        frames.size(), double(frames.size()) / elapsed, percentile(frames, 0.5),
                        percentile(frames, 0.95), percentile(frames, 1.0));
            double syncTotal = 0;
            for (const double sync : syncs)
                syncTotal += sync;
            std::printf("sync: p50 %.2f ms, p95 %.2f ms, %.1f%% of the wall time\n",
                        percentile(syncs, 0.5), percentile(syncs, 0.95), syncTotal / 10 / elapsed);
            std::printf("sample: %zu, p50 %.3f ms, p95 %.3f ms (model update + bindings)\n",
                        samples.size(), percentile(samples, 0.5), percentile(samples, 0.95));
            std::printf("GUI thread busy: %.1f%% (CPU %.3f s of %.3f s wall)\n",
                        100 * cpu / elapsed, cpu, elapsed);
            std::printf("chart painter thread busy: %.1f%% (CPU %.2f s; the software scene "
                        "graph's chart images)\n",
                        100 * painter / elapsed, painter);
            if (parser.isSet(screenshotOption)) {
                const QImage image = window->grabWindow();
                if (image.isNull() || !image.save(parser.value(screenshotOption))) {
                    std::printf("screenshot failed\n");
                    app.exit(1);
                    return;
                }
                std::printf("screenshot: %s\n", qPrintable(parser.value(screenshotOption)));
            }
            app.quit();
        });
    });
    const int code = app.exec();
    QMetaObject::invokeMethod(
        &context, [&] { workload.reset(); }, Qt::BlockingQueuedConnection);
    worker.quit();
    worker.wait();
    return code;
}
