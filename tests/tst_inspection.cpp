// SPDX-License-Identifier: MIT
#include <qtaio/asyncqueue.h>
#include <qtaio/inspection.h>
#include <qtaio/latch.h>
#include <qtaio/priorityqueue.h>
#include <qtaio/semaphore.h>
#include <qtaio/taskexecutor.h>

#include <QtCore/QDeadlineTimer>
#include <QtCore/QThread>
#include <QtTest/QTest>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

using QtAio::Inspection;

namespace {
struct Seen {
    quint64 id;
    Inspection::Kind kind;
    QObject *object;
    QString name;
};

std::vector<Seen> listed()
{
    std::vector<Seen> seen;
    Inspection::forEach([&](const Inspection::Primitive &p) {
        seen.push_back({p.id, p.kind, p.object, p.object->objectName()});
    });
    return seen;
}
} // namespace

class tst_Inspection : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init() { Inspection::setEnabled(true); }
    void cleanup() { Inspection::setEnabled(false); }

    void offListsNothing();
    void listsEveryKindFromConstructionToDestruction();
    void idsAreNeverReused();
    void disablingForgetsTheList();
    void listsPrimitivesOfWorkerThreads();
    void sampleWhileOtherThreadsCreateAndDestroy();
};

void tst_Inspection::offListsNothing()
{
    Inspection::setEnabled(false);
    QVERIFY(!Inspection::isEnabled());
    const quint64 before = Inspection::generation();
    QtAio::AsyncQueue<int> queue;
    QtAio::Latch latch(1);
    QVERIFY(listed().empty());
    QCOMPARE(Inspection::generation(), before);
}

void tst_Inspection::listsEveryKindFromConstructionToDestruction()
{
    QVERIFY(Inspection::isEnabled());
    const quint64 before = Inspection::generation();
    auto queue = std::make_unique<QtAio::PriorityQueue<QString>>(4);
    queue->setObjectName(QStringLiteral("jobs"));
    auto latch = std::make_unique<QtAio::Latch>(2);
    auto semaphore = std::make_unique<QtAio::Semaphore>(3);
    auto executor = std::make_unique<QtAio::TaskExecutor>();
    QVERIFY(Inspection::generation() != before);

    auto seen = listed();
    QCOMPARE(seen.size(), 4u);
    QCOMPARE(seen[0].kind, Inspection::Kind::Queue);
    QCOMPARE(seen[0].object, queue.get());
    QCOMPARE(seen[0].name, QStringLiteral("jobs"));
    QCOMPARE(seen[1].kind, Inspection::Kind::Latch);
    QCOMPARE(seen[2].kind, Inspection::Kind::Semaphore);
    QCOMPARE(seen[3].kind, Inspection::Kind::Executor);
    QCOMPARE(seen[3].object, executor.get());
    for (std::size_t i = 1; i < seen.size(); ++i)
        QVERIFY(seen[i - 1].id < seen[i].id); // oldest first

    // The state is read through the properties, from the registry's visit.
    Inspection::forEach([&](const Inspection::Primitive &p) {
        if (p.kind == Inspection::Kind::Queue)
            QCOMPARE(p.object->property("maxSize").toInt(), 4);
    });

    const quint64 whileAllLive = Inspection::generation();
    latch.reset();
    QVERIFY(Inspection::generation() != whileAllLive);
    seen = listed();
    QCOMPARE(seen.size(), 3u);
    for (const auto &s : seen)
        QVERIFY(s.kind != Inspection::Kind::Latch);
    queue.reset();
    semaphore.reset();
    executor.reset();
    QVERIFY(listed().empty());
}

void tst_Inspection::idsAreNeverReused()
{
    quint64 firstId = 0;
    {
        QtAio::Latch latch(1);
        firstId = listed().at(0).id;
    }
    QtAio::Latch again(1);
    QVERIFY(listed().at(0).id > firstId);
}

void tst_Inspection::disablingForgetsTheList()
{
    QtAio::AsyncQueue<int> listedQueue;
    QCOMPARE(listed().size(), 1u);
    Inspection::setEnabled(false);
    QVERIFY(listed().empty());
    Inspection::setEnabled(true);
    QtAio::AsyncQueue<int> later;
    const auto seen = listed();
    QCOMPARE(seen.size(), 1u); // created before re-enabling: stays unlisted
    QCOMPARE(seen[0].object, &later);
}

void tst_Inspection::listsPrimitivesOfWorkerThreads()
{
    QThread worker;
    QObject onWorker;
    onWorker.moveToThread(&worker);
    worker.start();
    QtAio::Latch *latch = nullptr;
    QMetaObject::invokeMethod(
        &onWorker,
        [&] {
            latch = new QtAio::Latch(5);
            latch->setObjectName(QStringLiteral("worker latch"));
        },
        Qt::BlockingQueuedConnection);
    auto seen = listed();
    QCOMPARE(seen.size(), 1u);
    QCOMPARE(seen[0].name, QStringLiteral("worker latch"));
    QCOMPARE(seen[0].object->thread(), &worker);
    Inspection::forEach(
        [](const Inspection::Primitive &p) { QCOMPARE(p.object->property("count").toInt(), 5); });
    QMetaObject::invokeMethod(
        &onWorker, [&] { delete latch; }, Qt::BlockingQueuedConnection);
    QVERIFY(listed().empty());
    worker.quit();
    worker.wait();
}

// Run under the sanitizers: a visit reads the primitives while other threads create and
// destroy them; a destructor waits for the visit that shows its object.
void tst_Inspection::sampleWhileOtherThreadsCreateAndDestroy()
{
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
        threads.emplace_back([&stop] {
            while (!stop.load()) {
                QtAio::AsyncQueue<int> queue(8);
                QtAio::Latch latch(3);
                (void)queue.tryPut(1);
                latch.countDown();
            }
        });
    }
    qint64 samples = 0;
    const QDeadlineTimer watchdog(std::chrono::seconds(60));
    while (samples < 5000 && !watchdog.hasExpired()) {
        Inspection::forEach([&](const Inspection::Primitive &p) {
            const char *name = p.kind == Inspection::Kind::Queue ? "size" : "count";
            const int value = p.object->property(name).toInt();
            QVERIFY(value >= 0 && value <= 3);
            ++samples;
        });
    }
    stop = true;
    for (auto &t : threads)
        t.join();
    QVERIFY(listed().empty());
    QCOMPARE_GE(samples, 5000);
}

QTEST_GUILESS_MAIN(tst_Inspection)
#include "tst_inspection.moc"
