// SPDX-License-Identifier: MIT
#include <inspector.h>
#include <inspectormodel.h>
#include <serieschart.h>
#include <valueformat.h>

#include <qtaio/asyncqueue.h>
#include <qtaio/inspection.h>
#include <qtaio/latch.h>
#include <qtaio/lifoqueue.h>
#include <qtaio/priorityqueue.h>
#include <qtaio/semaphore.h>
#include <qtaio/taskexecutor.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QProcess>
#include <QtCore/QThread>
#include <QtGui/QImage>
#include <QtQml/QQmlComponent>
#include <QtQml/QQmlEngine>
#include <QtCore/QScopeGuard>
#include <QtQuick/QQuickWindow>
#include <QtQuick/QSGRendererInterface>
#include <QtTest/QTest>

#include <qcoro/qcorotask.h>

#include <memory>
#include <optional>

using QtAio::Inspection;
using QtAio::InspectorModel;

namespace {

// The row of the primitive named `name`, or -1.
int rowNamed(const InspectorModel &model, const QString &name)
{
    for (int row = 0; row < model.rowCount(); ++row) {
        if (model.data(model.index(row), InspectorModel::NameRole).toString() == name)
            return row;
    }
    return -1;
}

double idOf(const InspectorModel &model, int row)
{
    return model.data(model.index(row), InspectorModel::IdRole).toDouble();
}

// Fails the test on any warning issued while it is installed (QML warnings included).
class WarningTrap {
public:
    WarningTrap()
    {
        s_warnings.clear();
        s_previous = qInstallMessageHandler(&WarningTrap::handle);
    }
    ~WarningTrap() { qInstallMessageHandler(s_previous); }
    WarningTrap(const WarningTrap &) = delete;
    WarningTrap &operator=(const WarningTrap &) = delete;
    static QStringList warnings() { return s_warnings; }

private:
    static void handle(QtMsgType type, const QMessageLogContext &context, const QString &message)
    {
        if (type == QtWarningMsg || type == QtCriticalMsg || type == QtFatalMsg)
            s_warnings.append(message);
        if (s_previous)
            s_previous(type, context, message);
    }
    static inline QtMessageHandler s_previous = nullptr;
    static inline QStringList s_warnings;
};

// A thread with an event loop and an object living there to run code on it.
class Worker {
public:
    Worker()
    {
        m_thread.setObjectName(QStringLiteral("worker"));
        m_context.moveToThread(&m_thread);
        m_thread.start();
    }
    ~Worker()
    {
        m_thread.quit();
        m_thread.wait();
    }
    Worker(const Worker &) = delete;
    Worker &operator=(const Worker &) = delete;
    template<typename F>
    void run(F &&f)
    {
        QMetaObject::invokeMethod(&m_context, std::forward<F>(f), Qt::BlockingQueuedConnection);
    }

private:
    QThread m_thread;
    QObject m_context;
};

} // namespace

class tst_Inspector : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void cleanup() { Inspection::setEnabled(false); }

    void formatsValuesReadably_data();
    void formatsValuesReadably();
    void listsEveryKindWithItsState();
    void listsWorkerThreadPrimitivesAndDropsDestroyedOnes();
    void showsAChangedLimitWithinASample();
    void writesABoundInThePrimitivesThread();
    void countsQueueThroughput();
    void queuesTellWhatTheyHandedOutAndTheirOldest();
    void samplingConnectsToNoQueueSignal();
    void keepsABoundedHistory();
    void showsBacklogAndOldestAgePerPriority();
    void showsTheLongestRunningTasksAge();
    void estimatesAgesBetweenTwoSamples();
    void showsTheWaitPercentilesOfQueuedItems();
    void chartScalesToTheVisibleWindowAndItsBound();
    void softwareChartsArePaintedOffTheGuiThreadAndShown();
    void windowLoadsRendersAndCloses();
    void viewEmbedsThroughTheQmlModule();
    void environmentVariableOpensTheWindow();
};

void tst_Inspector::formatsValuesReadably_data()
{
    QTest::addColumn<double>("value");
    QTest::addColumn<QString>("unit");
    QTest::addColumn<QString>("expected");
    QTest::newRow("count") << 42.0 << QString() << QStringLiteral("42");
    QTest::newRow("count below 10k stays exact") << 1234.0 << QString() << QStringLiteral("1234");
    QTest::newRow("large count") << 13880.0 << QString() << QStringLiteral("13.9k");
    QTest::newRow("millions") << 1250000.0 << QString() << QStringLiteral("1.25M");
    QTest::newRow("fraction") << 0.5 << QString() << QStringLiteral("0.5");
    QTest::newRow("milliseconds") << 850.0 << QStringLiteral("ms") << QStringLiteral("850 ms");
    QTest::newRow("seconds") << 13880.0 << QStringLiteral("ms") << QStringLiteral("13.9 s");
    QTest::newRow("minutes") << 150000.0 << QStringLiteral("ms") << QStringLiteral("2.5 min");
    QTest::newRow("rate") << 170.4 << QStringLiteral("/s") << QStringLiteral("170/s");
    QTest::newRow("high rate") << 13880.0 << QStringLiteral("/s") << QStringLiteral("13.9k/s");
}

void tst_Inspector::formatsValuesReadably()
{
    QFETCH(double, value);
    QFETCH(QString, unit);
    QFETCH(QString, expected);
    QCOMPARE(QtAio::formatInspectorValue(value, unit), expected);
}

void tst_Inspector::listsEveryKindWithItsState()
{
    InspectorModel model;
    QVERIFY(Inspection::isEnabled());
    QtAio::AsyncQueue<int> queue(4);
    queue.setObjectName(QStringLiteral("queue"));
    QVERIFY(queue.tryPut(1));
    QtAio::Latch latch(3);
    latch.setObjectName(QStringLiteral("latch"));
    QtAio::Semaphore semaphore(5);
    semaphore.setObjectName(QStringLiteral("semaphore"));
    QtAio::TaskExecutor executor;
    executor.setObjectName(QStringLiteral("executor"));
    executor.setLimit(6);

    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 4, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(rowNamed(model, QStringLiteral("executor")) >= 0, 10000);
    const auto stateOf = [&](const char *name) {
        return model.state(idOf(model, rowNamed(model, QString::fromLatin1(name))));
    };
    const auto roleOf = [&](const char *name, InspectorModel::Role role) {
        return model.data(model.index(rowNamed(model, QString::fromLatin1(name))), role);
    };
    const auto kindOf = [&](const char *name) { return roleOf(name, InspectorModel::KindRole); };
    QCOMPARE(kindOf("queue"), QStringLiteral("Queue"));
    QCOMPARE(kindOf("latch"), QStringLiteral("Latch"));
    QCOMPARE(kindOf("semaphore"), QStringLiteral("Semaphore"));
    QCOMPARE(kindOf("executor"), QStringLiteral("Executor"));
    const auto typeNameOf = [&](const char *name) {
        return roleOf(name, InspectorModel::TypeNameRole);
    };
    // A queue is a class template over AsyncQueueBase: it is listed by the name a user wrote.
    QCOMPARE(typeNameOf("queue"), QStringLiteral("QtAio::AsyncQueue"));
    QCOMPARE(typeNameOf("latch"), QStringLiteral("QtAio::Latch"));
    QCOMPARE(typeNameOf("executor"), QStringLiteral("QtAio::TaskExecutor"));
    QCOMPARE(stateOf("queue").value(QStringLiteral("size")).toInt(), 1);
    QCOMPARE(stateOf("queue").value(QStringLiteral("maxSize")).toInt(), 4);
    QCOMPARE(stateOf("queue").value(QStringLiteral("closed")).toBool(), false);
    QCOMPARE(stateOf("latch").value(QStringLiteral("count")).toInt(), 3);
    QCOMPARE(stateOf("semaphore").value(QStringLiteral("capacity")).toInt(), 5);
    QCOMPARE(stateOf("semaphore").value(QStringLiteral("available")).toInt(), 5);
    QCOMPARE(stateOf("executor").value(QStringLiteral("limit")).toInt(), 6);
    QVERIFY(stateOf("executor").contains(QStringLiteral("waiting")));
    QCOMPARE(model.data(model.index(rowNamed(model, QStringLiteral("queue"))),
                        InspectorModel::ThreadRole),
             QStringLiteral("main"));
    QCOMPARE(model.data(model.index(rowNamed(model, QStringLiteral("executor"))),
                        InspectorModel::EditableKeyRole),
             QStringLiteral("limit"));
    QCOMPARE(model.data(model.index(rowNamed(model, QStringLiteral("latch"))),
                        InspectorModel::EditableKeyRole),
             QString());
}

void tst_Inspector::listsWorkerThreadPrimitivesAndDropsDestroyedOnes()
{
    InspectorModel model;
    Worker worker;
    std::unique_ptr<QtAio::AsyncQueue<int>> queue;
    std::unique_ptr<QtAio::Semaphore> semaphore;
    worker.run([&] {
        queue = std::make_unique<QtAio::AsyncQueue<int>>();
        queue->setObjectName(QStringLiteral("worker queue"));
        semaphore = std::make_unique<QtAio::Semaphore>(2);
        semaphore->setObjectName(QStringLiteral("worker semaphore"));
    });
    QTRY_VERIFY_WITH_TIMEOUT(rowNamed(model, QStringLiteral("worker queue")) >= 0, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(rowNamed(model, QStringLiteral("worker semaphore")) >= 0, 10000);
    QCOMPARE(model.data(model.index(rowNamed(model, QStringLiteral("worker queue"))),
                        InspectorModel::ThreadRole),
             QStringLiteral("worker"));

    worker.run([&] { queue.reset(); });
    QTRY_COMPARE_WITH_TIMEOUT(rowNamed(model, QStringLiteral("worker queue")), -1, 10000);
    QVERIFY(rowNamed(model, QStringLiteral("worker semaphore")) >= 0);
    worker.run([&] { semaphore.reset(); });
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 0, 10000);
}

void tst_Inspector::showsAChangedLimitWithinASample()
{
    InspectorModel model;
    model.setInterval(50);
    QtAio::TaskExecutor executor;
    executor.setLimit(2);
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 1, 10000);
    const double id = idOf(model, 0);
    QTRY_COMPARE_WITH_TIMEOUT(model.state(id).value(QStringLiteral("limit")).toInt(), 2, 10000);
    executor.setLimit(7);
    QTRY_COMPARE_WITH_TIMEOUT(model.state(id).value(QStringLiteral("limit")).toInt(), 7, 10000);
    QCOMPARE(model.history(id, QStringLiteral("limit")).last(), 7.0);
}

void tst_Inspector::writesABoundInThePrimitivesThread()
{
    InspectorModel model;
    Worker worker;
    std::unique_ptr<QtAio::AsyncQueue<int>> queue;
    worker.run([&] { queue = std::make_unique<QtAio::AsyncQueue<int>>(3); });
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 1, 10000);
    const double id = idOf(model, 0);
    QVERIFY(model.write(id, QStringLiteral("maxSize"), 9));
    QTRY_COMPARE_WITH_TIMEOUT(queue->maxSize(), 9, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(model.state(id).value(QStringLiteral("maxSize")).toInt(), 9, 10000);
    QVERIFY(!model.write(id, QStringLiteral("size"), 1));           // read-only
    QVERIFY(!model.write(id + 1000, QStringLiteral("maxSize"), 1)); // no such primitive
    QVERIFY(!model.write(-1, QStringLiteral("maxSize"), 1));
    worker.run([&] { queue.reset(); });
}

void tst_Inspector::countsQueueThroughput()
{
    InspectorModel model;
    model.setActive(false);
    QtAio::AsyncQueue<int> queue;
    model.sample();
    QCOMPARE(model.rowCount(), 1);
    const double id = idOf(model, 0);
    for (int i = 0; i < 50; ++i)
        QVERIFY(queue.tryPut(i));
    for (int i = 0; i < 50; ++i)
        QVERIFY(queue.tryGet().has_value());
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            model.sample();
            return model.state(id).value(QStringLiteral("throughput")).toDouble() > 0;
        }(),
        10000);
}

namespace {

// The Details that `object`'s probe gives, or nullopt when it is not listed or has no probe.
std::optional<Inspection::Details> detailsOf(const QObject *object)
{
    std::optional<Inspection::Details> details;
    Inspection::forEach([&](const Inspection::Primitive &primitive) {
        if (primitive.object == object && primitive.probe) {
            details.emplace();
            primitive.probe(primitive.object, *details);
        }
    });
    return details;
}

// A queue that lets a test ask whether anything is connected to its signals.
class ObservedQueue : public QtAio::AsyncQueue<int> {
public:
    using QObject::isSignalConnected;
};

} // namespace

void tst_Inspector::queuesTellWhatTheyHandedOutAndTheirOldest()
{
    Inspection::setEnabled(true);
    QtAio::AsyncQueue<int> fifo;
    for (int i = 0; i < 3; ++i)
        QVERIFY(fifo.tryPut(i));
    QVERIFY(fifo.tryGet().has_value());
    auto details = detailsOf(&fifo);
    QVERIFY(details);
    QVERIFY(details->numbered);
    QCOMPARE(details->taken, 1);
    QCOMPARE(details->next, 3u);
    QCOMPARE(details->oldest, 1); // arrivals 0..2, the first taken: the head is arrival 1
    QVERIFY(details->levels.empty());

    // An item put straight into a waiting getter's hands arrives and is taken at once.
    while (fifo.tryGet())
        ;
    auto getter = [&]() -> QCoro::Task<int> { co_return co_await fifo.get(); }();
    QCOMPARE(fifo.waitingGetters(), 1);
    QVERIFY(fifo.tryPut(42));
    QCOMPARE(QCoro::waitFor(std::move(getter)), 42);
    details = detailsOf(&fifo);
    QCOMPARE(details->taken, 4);
    QCOMPARE(details->next, 4u);
    QCOMPARE(details->oldest, -1); // nothing queued
    QVERIFY(fifo.tryPut(43));
    QCOMPARE(detailsOf(&fifo)->oldest, 4);

    // A stack's oldest item is at its bottom, which nothing numbers: no ages, items counted.
    QtAio::LifoQueue<int> lifo;
    QVERIFY(lifo.tryPut(1));
    QVERIFY(lifo.tryPut(2));
    QCOMPARE(lifo.tryGet(), std::optional<int>(2));
    details = detailsOf(&lifo);
    QVERIFY(details);
    QVERIFY(!details->numbered);
    QCOMPARE(details->taken, 1);
    QCOMPARE(details->oldest, -1);

    QtAio::PriorityQueue<int> priority;
    QVERIFY(priority.tryPut(10, 1));
    QVERIFY(priority.tryPut(20, 2));
    QVERIFY(priority.tryPut(30, 2));
    QCOMPARE(priority.tryGet(), std::optional<int>(10));
    details = detailsOf(&priority);
    QVERIFY(details);
    QVERIFY(details->numbered);
    QCOMPARE(details->taken, 1);
    QCOMPARE(details->next, 3u);
    QCOMPARE(details->levels.size(), std::size_t(1));
    QCOMPARE(details->levels[0].count, 2);
    QCOMPARE(details->levels[0].oldest, 1u);

    // A probe overwrites what it tells; reset() clears what it does not.
    details->reset();
    QVERIFY(!details->numbered);
    QCOMPARE(details->taken, -1);
    QVERIFY(details->levels.empty());
}

void tst_Inspector::samplingConnectsToNoQueueSignal()
{
    // A sampled queue costs its producers and consumers nothing more: the model reads counts
    // under the queue's lock and connects to none of its signals (a connected itemsTaken would
    // make every get emit).
    InspectorModel model;
    model.setActive(false);
    ObservedQueue queue;
    QtAio::LifoQueue<int> stack;
    model.sample();
    QCOMPARE(model.rowCount(), 2);
    const QMetaObject &meta = QtAio::AsyncQueueBase::staticMetaObject;
    for (int i = meta.methodOffset(); i < meta.methodCount(); ++i) {
        const QMetaMethod method = meta.method(i);
        if (method.methodType() == QMetaMethod::Signal)
            QVERIFY2(!queue.isSignalConnected(method), method.methodSignature().constData());
    }

    // Ages where the queue numbers its arrivals: the FIFO's head grows older while it stays.
    double fifoId = -1;
    for (int row = 0; row < model.rowCount(); ++row) {
        if (model.data(model.index(row), InspectorModel::TypeNameRole).toString() ==
            u"QtAio::AsyncQueue")
            fifoId = idOf(model, row);
    }
    QVERIFY(fifoId >= 0);
    QVERIFY(queue.tryPut(1));
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            model.sample();
            return model.state(fifoId).value(QStringLiteral("oldestAge")).toDouble() >= 200;
        }(),
        10000);
    QVERIFY(queue.tryGet());
    model.sample();
    QCOMPARE(model.state(fifoId).value(QStringLiteral("oldestAge")).toDouble(), 0.0);
    for (int row = 0; row < model.rowCount(); ++row) {
        const double rowId = idOf(model, row);
        if (rowId != fifoId)
            QVERIFY(!model.state(rowId).contains(QStringLiteral("oldestAge"))); // the stack
    }
}

void tst_Inspector::showsTheWaitPercentilesOfQueuedItems()
{
    // Twenty items of priority 1 queued before a first sample, twenty more after it: at the
    // next sample the older half has waited at least as long as the samples lie apart, and the
    // newer half less, each put at an estimated time between the two samples. So the median
    // (rank 20 of 40 by age) is one of the newer, and the 95th percentile (rank 2) and the
    // oldest are among the older.
    InspectorModel model;
    model.setActive(false);
    QtAio::PriorityQueue<int> queue;
    for (int i = 0; i < 20; ++i)
        QVERIFY(queue.tryPut(i, 1));
    model.sample();
    const double id = idOf(model, 0);
    QElapsedTimer apart;
    apart.start();
    QTRY_VERIFY_WITH_TIMEOUT(apart.elapsed() >= 200, 10000); // a deadline, not a sleep
    for (int i = 20; i < 40; ++i)
        QVERIFY(queue.tryPut(i, 1));
    model.sample();
    QVariantMap state = model.state(id);
    QCOMPARE(state.value(QStringLiteral("backlog[1]")).toInt(), 40);
    const double p50 = state.value(QStringLiteral("waitP50[1]")).toDouble();
    const double p95 = state.value(QStringLiteral("waitP95[1]")).toDouble();
    QVERIFY2(p95 >= 200, qPrintable(QString::number(p95)));
    QVERIFY2(p50 > 0 && p50 < p95, qPrintable(QStringLiteral("%1 %2").arg(p50).arg(p95)));
    QCOMPARE(state.value(QStringLiteral("oldestAge[1]")).toDouble(), p95);

    // The older half taken, and five of the newer: the ten oldest of the newer half remain,
    // and the oldest of them is the oldest item queued.
    for (int i = 0; i < 25; ++i)
        QCOMPARE(queue.tryGet(), std::optional<int>(i));
    model.sample();
    state = model.state(id);
    QCOMPARE(state.value(QStringLiteral("backlog[1]")).toInt(), 15);
    const double age = state.value(QStringLiteral("oldestAge[1]")).toDouble();
    const double laterP95 = state.value(QStringLiteral("waitP95[1]")).toDouble();
    const double laterP50 = state.value(QStringLiteral("waitP50[1]")).toDouble();
    QVERIFY2(age >= laterP95 && laterP95 >= laterP50 && laterP50 > 0,
             qPrintable(QStringLiteral("%1 %2 %3").arg(age).arg(laterP95).arg(laterP50)));

    // Empty: no waits.
    while (queue.tryGet())
        ;
    model.sample();
    state = model.state(id);
    QCOMPARE(state.value(QStringLiteral("waitP50[1]")).toDouble(), 0.0);
    QCOMPARE(state.value(QStringLiteral("waitP95[1]")).toDouble(), 0.0);
    const QList<qreal> p95s = model.history(id, QStringLiteral("waitP95[1]"));
    QVERIFY(p95s.size() >= 3);
    QCOMPARE(p95s.at(p95s.size() - 3), p95); // the samples above, the last three
    QCOMPARE(p95s.at(p95s.size() - 2), laterP95);
    QCOMPARE(p95s.last(), 0.0);
}

void tst_Inspector::keepsABoundedHistory()
{
    InspectorModel model;
    model.setActive(false);
    model.setHistoryLength(5);
    QtAio::Latch latch(10);
    for (int i = 0; i < 8; ++i) {
        model.sample();
        latch.countDown();
    }
    const QList<qreal> history = model.history(idOf(model, 0), QStringLiteral("count"));
    QCOMPARE(history, (QList<qreal>{7, 6, 5, 4, 3}));
    QVERIFY(model.history(idOf(model, 0), QStringLiteral("nonsense")).isEmpty());
}

void tst_Inspector::showsBacklogAndOldestAgePerPriority()
{
    // Starvation: one bulk item (priority 3) stays queued while urgent items (priority 0) flow
    // through. Its age grows from sample to sample; the urgent ones, each put after the previous
    // sample, are never older than the time since that sample.
    InspectorModel model;
    model.setActive(false);
    QtAio::PriorityQueue<int> queue;
    QVERIFY(queue.tryPut(300, 3));
    QVERIFY(queue.tryPut(0, 0));
    QElapsedTimer clock;
    clock.start();
    qint64 previousSample = clock.elapsed(); // (just before it)
    model.sample();
    QCOMPARE(model.rowCount(), 1);
    const double id = idOf(model, 0);
    const QModelIndex index = model.index(0);
    QCOMPARE(model.data(index, InspectorModel::PrioritiesRole).toList(), (QVariantList{0.0, 3.0}));
    QCOMPARE(model.state(id).value(QStringLiteral("backlog[0]")).toInt(), 1);
    QCOMPARE(model.state(id).value(QStringLiteral("backlog[3]")).toInt(), 1);
    QCOMPARE(model.state(id).value(QStringLiteral("oldestAge[3]")).toDouble(), 0.0);

    int next = 1;
    double lastAge = 0;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            const auto urgent = queue.tryGetWithPriority(); // the urgent ones come first
            if (!urgent || urgent->priority != 0)
                return false;
            if (!queue.tryPut(next++, 0))
                return false;
            const qint64 before = clock.elapsed();
            model.sample();
            const qint64 sinceLastSample = clock.elapsed() - std::exchange(previousSample, before);
            const QVariantMap state = model.state(id);
            // Put after the previous sample (+1: the model counts whole milliseconds).
            if (state.value(QStringLiteral("oldestAge[0]")).toDouble() >
                double(sinceLastSample + 1))
                return false;
            const double age = state.value(QStringLiteral("oldestAge[3]")).toDouble();
            if (age < lastAge)
                return false; // an age never shrinks while its item stays
            lastAge = age;
            return age >= 500;
        }(),
        20000);
    QVERIFY2(lastAge >= 500, qPrintable(QString::number(lastAge)));
    const QVariantMap state = model.state(id);
    QCOMPARE(state.value(QStringLiteral("backlog[0]")).toInt(), 1);
    QCOMPARE(state.value(QStringLiteral("backlog[3]")).toInt(), 1);
    QCOMPARE(state.value(QStringLiteral("oldestAge")).toDouble(), lastAge);
    QVERIFY(model.data(index, InspectorModel::SummaryRole).toString().contains(u"oldest"));
    const QList<qreal> ages = model.history(id, QStringLiteral("oldestAge[3]"));
    QVERIFY(std::is_sorted(ages.begin(), ages.end()));

    // Once taken, its priority shows an empty backlog and no age; the level stays listed.
    while (queue.tryGet())
        ;
    model.sample();
    QCOMPARE(model.state(id).value(QStringLiteral("backlog[3]")).toInt(), 0);
    QCOMPARE(model.state(id).value(QStringLiteral("oldestAge[3]")).toDouble(), 0.0);
    QCOMPARE(model.state(id).value(QStringLiteral("oldestAge")).toDouble(), 0.0);
    QCOMPARE(model.data(index, InspectorModel::PrioritiesRole).toList(), (QVariantList{0.0, 3.0}));
    // A level that appears later has a history as long as the others.
    QVERIFY(queue.tryPut(7, 1));
    model.sample();
    QCOMPARE(model.history(id, QStringLiteral("backlog[1]")).size(),
             model.history(id, QStringLiteral("backlog[0]")).size());
    QCOMPARE(model.state(id).value(QStringLiteral("backlog[1]")).toInt(), 1);
}

void tst_Inspector::showsTheLongestRunningTasksAge()
{
    InspectorModel model;
    model.setActive(false);
    QtAio::TaskExecutor executor;
    QtAio::Latch gate(1);
    QtAio::Latch started(1);
    executor.spawn([&]() -> QCoro::Task<> {
        started.countDown();
        co_await gate.wait();
    });
    model.sample();
    const double id = idOf(model, 0);
    QTRY_COMPARE_WITH_TIMEOUT(started.count(), 0, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            model.sample();
            return model.state(id).value(QStringLiteral("oldestRunningAge")).toDouble() >= 100;
        }(),
        10000);
    gate.countDown();
    QTRY_COMPARE_WITH_TIMEOUT(executor.running(), 0, 10000);
    model.sample();
    QCOMPARE(model.state(id).value(QStringLiteral("oldestRunningAge")).toDouble(), 0.0);
}

void tst_Inspector::estimatesAgesBetweenTwoSamples()
{
    // A task started between two samples, shorter-lived than the sampling interval would be: at
    // the second sample it reads an age above 0 and below the time between the samples.
    InspectorModel model;
    model.setActive(false);
    QtAio::TaskExecutor executor;
    QtAio::Latch gate(1);
    QElapsedTimer clock;
    clock.start();
    model.sample();
    const double id = idOf(model, 0);
    QCOMPARE(model.state(id).value(QStringLiteral("oldestRunningAge")).toDouble(), 0.0);
    QTRY_VERIFY(clock.elapsed() >= 50); // a deadline, not a sleep
    executor.spawn([&]() -> QCoro::Task<> { co_await gate.wait(); });
    QCOMPARE(executor.running(), 1);
    const qint64 started = clock.elapsed();
    QTRY_VERIFY(clock.elapsed() >= started + 50);
    model.sample();
    const double age = model.state(id).value(QStringLiteral("oldestRunningAge")).toDouble();
    QVERIFY2(age > 0 && age <= double(clock.elapsed() + 1), qPrintable(QString::number(age)));
    gate.countDown();
    QTRY_COMPARE_WITH_TIMEOUT(executor.running(), 0, 10000);
}

void tst_Inspector::chartScalesToTheVisibleWindowAndItsBound()
{
    InspectorModel model;
    model.setActive(false);
    QtAio::AsyncQueue<int> queue(100);
    model.sample();
    for (int i = 0; i < 130; ++i)
        (void)queue.tryPut(i); // up to 100
    model.sample();
    while (queue.tryGet())
        ;
    model.sample();
    QtAio::SeriesChart chart;
    chart.setModel(&model);
    chart.setPrimitiveId(idOf(model, 0));
    chart.setSeries({QStringLiteral("size")});
    // The latest size is 0, but the history's 100 is still in view.
    QCOMPARE(chart.yMax(), 100.0);
    QCOMPARE(chart.latest().value(0).toDouble(), 0.0);
    // The bound counts even above the data.
    QVERIFY(queue.tryPut(1));
    queue.setMaxSize(300);
    model.sample();
    chart.setReferenceKey(QStringLiteral("maxSize"));
    QCOMPARE(chart.yMax(), 500.0);
    // Once the peak leaves the window, the axis shrinks.
    chart.setVisibleSamples(1);
    chart.setReferenceKey(QString());
    QCOMPARE(chart.yMax(), 1.0);
}

void tst_Inspector::softwareChartsArePaintedOffTheGuiThreadAndShown()
{
    // The software scene graph, where a chart is an image painted on the painter's thread.
    const QSGRendererInterface::GraphicsApi previous = QQuickWindow::graphicsApi();
    QQuickWindow::setGraphicsApi(QSGRendererInterface::Software);
    const auto restore = qScopeGuard([previous] { QQuickWindow::setGraphicsApi(previous); });
    InspectorModel model;
    model.setActive(false);
    QtAio::AsyncQueue<int> queue(100);
    for (int i = 0; i < 50; ++i)
        QVERIFY(queue.tryPut(i));
    for (int i = 0; i < 5; ++i)
        model.sample(); // a flat line at the top of the chart

    QQuickWindow window;
    window.setColor(Qt::white);
    window.resize(160, 80);
    const auto makeChart = [&](const QColor &color) {
        auto *chart = new QtAio::SeriesChart(window.contentItem());
        chart->setSize(QSizeF(160, 80));
        chart->setModel(&model);
        chart->setPrimitiveId(idOf(model, 0));
        chart->setSeries({QStringLiteral("size")});
        chart->setLineWidth(4);
        chart->setVisibleSamples(5); // the five samples span the width
        chart->setColors({color});
        return chart;
    };
    QtAio::SeriesChart *chart = makeChart(Qt::red);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QCOMPARE(window.rendererInterface()->graphicsApi(), QSGRendererInterface::Software);
    // How many pixels of the window have exactly `color` (the core of the line).
    const auto pixelsOf = [&window](const QColor &color) {
        const QImage image = window.grabWindow().convertToFormat(QImage::Format_RGB32);
        qsizetype count = 0;
        for (int y = 0; y < image.height(); ++y) {
            for (int x = 0; x < image.width(); ++x)
                count += image.pixel(x, y) == color.rgb() ? 1 : 0;
        }
        return count;
    };
    // The image comes after the frame that asked for it: the window shows it once painted.
    QTRY_VERIFY_WITH_TIMEOUT(pixelsOf(Qt::red) > 100, 10000);
    // A change redraws it, and the old image goes.
    chart->setColors({QColor(Qt::blue)});
    QTRY_VERIFY_WITH_TIMEOUT(pixelsOf(Qt::blue) > 100 && pixelsOf(Qt::red) == 0, 10000);
    // So does a new size: the line is as long as the chart.
    chart->setWidth(80);
    QTRY_VERIFY_WITH_TIMEOUT(pixelsOf(Qt::blue) > 100 && pixelsOf(Qt::blue) < 4 * 90, 10000);

    // Charts destroyed while their images are painted: the images are dropped; the others
    // are still shown.
    for (int round = 0; round < 20; ++round) {
        QtAio::SeriesChart *doomed = makeChart(Qt::green);
        (void)window.grabWindow(); // hands its picture to the painter
        delete doomed;
    }
    delete chart;
    chart = makeChart(Qt::magenta);
    QTRY_VERIFY_WITH_TIMEOUT(pixelsOf(Qt::magenta) > 100 && pixelsOf(Qt::green) == 0, 10000);
    // A background fills the chart (an opaque image, which hides the window beneath): above
    // the line, it shows as it is; below, under the series' translucent area.
    chart->setBackground(Qt::yellow);
    QTRY_VERIFY_WITH_TIMEOUT(pixelsOf(Qt::yellow) >= 160, 10000);
    QCOMPARE(pixelsOf(Qt::white), 0);
}

void tst_Inspector::windowLoadsRendersAndCloses()
{
    QQuickWindow *window = nullptr;
    {
        WarningTrap trap;
        window = QtAio::Inspector::show();
        QVERIFY(window);
        QVERIFY(QTest::qWaitForWindowExposed(window));
        QCOMPARE(QtAio::Inspector::window(), window);
        QtAio::AsyncQueue<int> queue(10);
        queue.setObjectName(QStringLiteral("rendered queue"));
        QVERIFY(queue.tryPut(1));
        QtAio::TaskExecutor executor;
        executor.setLimit(4);
        auto *model = window->findChild<InspectorModel *>();
        QVERIFY(model);
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 2, 10000);
        const qint64 samples = model->sampleCount();
        QTRY_VERIFY_WITH_TIMEOUT(model->sampleCount() > samples + 3, 10000);

        const QImage image = window->grabWindow();
        QVERIFY(!image.isNull());
        QCOMPARE(image.size(), window->size() * window->devicePixelRatio());
        // Not blank: the panels, text and charts give many colours.
        QSet<QRgb> colours;
        for (int y = 0; y < image.height(); y += 4) {
            for (int x = 0; x < image.width(); x += 4)
                colours.insert(image.pixel(x, y));
        }
        QVERIFY2(colours.size() > 20, qPrintable(QString::number(colours.size())));
        QVERIFY2(WarningTrap::warnings().isEmpty(),
                 qPrintable(WarningTrap::warnings().join(QLatin1Char('\n'))));
    }
    QVERIFY(window->close());
    QTRY_VERIFY(!window->isVisible());
    // Shown again, the same window.
    QCOMPARE(QtAio::Inspector::show(), window);
    QVERIFY(window->isVisible());
    window->close();
}

void tst_Inspector::viewEmbedsThroughTheQmlModule()
{
    WarningTrap trap;
    QQmlEngine engine;
    engine.addImportPath(QStringLiteral(QTAIO_QML_IMPORT_PATH));
    QQmlComponent component(&engine);
    component.setData(R"(
        import QtQuick
        import QtAio.Inspector
        Item {
            width: 800; height: 500
            InspectorView {
                objectName: "view"
                anchors.fill: parent
                model.interval: 40
                model.historyLength: 50
            }
        }
    )",
                      QUrl(QStringLiteral("embedded.qml")));
    std::unique_ptr<QObject> root(component.create());
    QVERIFY2(root, qPrintable(component.errorString()));
    auto *model = root->findChild<InspectorModel *>();
    QVERIFY(model);
    QCOMPARE(model->interval(), 40);
    QCOMPARE(model->historyLength(), 50);
    QtAio::Latch latch(2);
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 1, 10000);
    QVERIFY2(WarningTrap::warnings().isEmpty(),
             qPrintable(WarningTrap::warnings().join(QLatin1Char('\n'))));
}

void tst_Inspector::environmentVariableOpensTheWindow()
{
    QProcess app;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("QTAIO_INSPECTOR"), QStringLiteral("1"));
    environment.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    app.setProcessEnvironment(environment);
    app.setProcessChannelMode(QProcess::MergedChannels);
    app.start(QStringLiteral(QTAIO_AUTOOPEN_APP), {});
    QVERIFY2(app.waitForFinished(90000), "the application did not exit");
    const QString output = QString::fromLocal8Bit(app.readAll());
    QVERIFY2(app.exitStatus() == QProcess::NormalExit && app.exitCode() == 0, qPrintable(output));
    QVERIFY2(output.contains(QLatin1String("inspector window shown")), qPrintable(output));
    QVERIFY2(!output.contains(QLatin1String("qtaio.inspector")), qPrintable(output));
}

QTEST_MAIN(tst_Inspector)

#include "tst_inspector.moc"
