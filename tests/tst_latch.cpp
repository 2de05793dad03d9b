// SPDX-License-Identifier: MIT
#include "qtaiotest.h"

#include <qtaio/errors.h>
#include <qtaio/latch.h>

#include <QtCore/QThreadPool>
#include <QtTest/QSignalSpy>

#include <qcoro/qcorotask.h>

#include <atomic>
#include <limits>
#include <memory>
#include <optional>
#include <stop_token>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using QtAio::Latch;

class tst_Latch : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void negativeCountIsRejected();
    void negativeCountDownIsRejected();
    void countFloorsAtZero();
    void zeroLatchIsBornReleased();
    void waitCompletesAtOnceWhenReleased_data();
    void waitCompletesAtOnceWhenReleased();
    void waitTimesOutWithFalse();
    void everyWaiterIsReleased();
    void countChangedReportsEveryHomeThreadChange();
    void signalsFromOtherThreadsAreCoalescedInHomeThread();
    void slotThatCountsDownAgainSeesEveryValueInOrder();
    void countDownIsNotReentrant();
    void resumesOnTheAwaitingThread();
    void stopTokenCancelsWait();
    void completionWinsOverStop();
    void waitBlockingFromThreadPool();
    void waitBlockingTimesOut();
    void destroyingWithWaitersCancelsThem();
    void awaitingWithoutEventLoopThrows();
    void worksWithQCoroWaitFor();
    void stressManyThreads();
    void destroyedRightAfterReleaseWhileOthersCountDown_data();
    void destroyedRightAfterReleaseWhileOthersCountDown();
    void fastPathStopsShortOfZero_data();
    void fastPathStopsShortOfZero();
    void listenerConnectedAfterFastPathSeesLaterValues();
    void concurrentCountDownsReleaseOnce_data();
    void concurrentCountDownsReleaseOnce();
    void crossingCountDownMayBeTheFastOne_data();
    void crossingCountDownMayBeTheFastOne();
    void countNeverReadsZeroBeforeReleased();
    void overshootingCountDownsReleaseOnce_data();
    void overshootingCountDownsReleaseOnce();
    void largeStepsTakeTheSlowPath();
};

void tst_Latch::negativeCountIsRejected()
{
    QTAIO_VERIFY_THROWS_SYNC(std::invalid_argument, Latch latch(-1), "got -1");
}

void tst_Latch::negativeCountDownIsRejected()
{
    Latch latch(2);
    QTAIO_VERIFY_THROWS_SYNC(std::invalid_argument, latch.countDown(-3),
                             "Latch::countDown: n must not be negative, got -3");
    QCOMPARE(latch.count(), 2);
    latch.countDown(0); // a no-op
    QCOMPARE(latch.count(), 2);
    QSignalSpy countSpy(&latch, &Latch::countChanged);
    QVERIFY(countSpy.isValid());
    QTAIO_VERIFY_THROWS_SYNC(std::invalid_argument, latch.countDown(-1), "got -1");
    latch.countDown(0);
    QCOMPARE(latch.count(), 2);
    QCOMPARE(countSpy.count(), 0);
}

void tst_Latch::countFloorsAtZero()
{
    Latch latch(3);
    QSignalSpy countSpy(&latch, &Latch::countChanged);
    QSignalSpy releasedSpy(&latch, &Latch::releasedChanged);
    QVERIFY(countSpy.isValid());
    QVERIFY(releasedSpy.isValid());
    latch.countDown(5);
    QCOMPARE(latch.count(), 0);
    QVERIFY(latch.isReleased());
    latch.countDown(2);
    QCOMPARE(latch.count(), 0);
    QCOMPARE(countSpy.count(), 1);
    QCOMPARE(countSpy.at(0).at(0).toInt(), 0);
    QCOMPARE(releasedSpy.count(), 1);
}

void tst_Latch::zeroLatchIsBornReleased()
{
    Latch latch(0);
    QSignalSpy releasedSpy(&latch, &Latch::releasedChanged);
    QVERIFY(releasedSpy.isValid());
    QVERIFY(latch.tryWait());
    latch.countDown();
    QCoreApplication::processEvents();
    QCOMPARE(releasedSpy.count(), 0);
}

void tst_Latch::waitCompletesAtOnceWhenReleased_data()
{
    QTest::addColumn<int>("form");
    QTest::newRow("no timeout") << 0;
    QTest::newRow("zero timeout") << 1;
    QTest::newRow("expired deadline") << 2;
    QTest::newRow("stop already requested") << 3;
}

void tst_Latch::waitCompletesAtOnceWhenReleased()
{
    QFETCH(int, form);
    Latch latch(1);
    latch.countDown();
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        std::stop_source stop;
        stop.request_stop();
        bool result = false;
        switch (form) {
        case 0:
            result = co_await latch.wait();
            break;
        case 1:
            result = co_await latch.wait(0ms);
            break;
        case 2:
            result = co_await latch.wait(QDeadlineTimer(0));
            break;
        default:
            result = co_await latch.wait(stop.get_token());
        }
        QTAIO_VERIFY(result);
    }));
}

void tst_Latch::waitTimesOutWithFalse()
{
    Latch latch(1);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        const bool result = co_await latch.wait(20ms);
        QTAIO_VERIFY(!result);
        QTAIO_COMPARE(latch.waiting(), 0);
        QTAIO_COMPARE(latch.count(), 1);
    }));
}

void tst_Latch::everyWaiterIsReleased()
{
    Latch latch(2);
    int released = 0;
    auto waiter = [&]() -> QCoro::Task<> {
        if (co_await latch.wait())
            ++released;
    };
    std::vector<QCoro::Task<>> tasks;
    for (int i = 0; i < 5; ++i)
        tasks.push_back(waiter());
    QCOMPARE(latch.waiting(), 5);
    latch.countDown();
    latch.countDown();
    QCOMPARE(released, 0); // wake-ups are posted, not run inline
    QTRY_COMPARE(released, 5);
    QCOMPARE(latch.waiting(), 0);
}

void tst_Latch::countChangedReportsEveryHomeThreadChange()
{
    Latch latch(5);
    QSignalSpy countSpy(&latch, &Latch::countChanged);
    QSignalSpy releasedSpy(&latch, &Latch::releasedChanged);
    QVERIFY(countSpy.isValid());
    for (int i = 0; i < 5; ++i)
        latch.countDown();
    QCOMPARE(countSpy.count(), 5);
    for (int i = 0; i < 5; ++i)
        QCOMPARE(countSpy.at(i).at(0).toInt(), 4 - i);
    QCOMPARE(releasedSpy.count(), 1);
}

// A slot that changes the latch again: its change is reported after the running report, in
// order, and nothing stale is emitted after it.
void tst_Latch::slotThatCountsDownAgainSeesEveryValueInOrder()
{
    Latch latch(4);
    std::vector<int> counts;
    std::vector<bool> released;
    connect(&latch, &Latch::countChanged, this, [&](int count) {
        counts.push_back(count);
        if (count > 0 && count % 2 == 1)
            latch.countDown(); // from inside the report
    });
    connect(&latch, &Latch::releasedChanged, this, [&](bool r) { released.push_back(r); });
    latch.countDown();
    QCOMPARE(counts, (std::vector<int>{3, 2}));
    latch.countDown(); // 1, and the slot's count-down to 0
    QCOMPARE(counts, (std::vector<int>{3, 2, 1, 0}));
    QCOMPARE(released, std::vector<bool>{true});
    QCOMPARE(latch.count(), 0);
}

void tst_Latch::signalsFromOtherThreadsAreCoalescedInHomeThread()
{
    constexpr int threads = 4;
    constexpr int perThread = 5000;
    Latch latch(threads * perThread);
    std::vector<int> emitted;
    bool allInHomeThread = true;
    int releasedCount = 0;
    connect(&latch, &Latch::countChanged, this, [&](int count) {
        emitted.push_back(count);
        allInHomeThread &= QThread::currentThread() == thread();
    });
    connect(&latch, &Latch::releasedChanged, this, [&] {
        ++releasedCount;
        allInHomeThread &= QThread::currentThread() == thread();
    });
    std::vector<std::jthread> workers;
    for (int t = 0; t < threads; ++t)
        workers.emplace_back([&] {
            for (int i = 0; i < perThread; ++i)
                latch.countDown();
        });
    workers.clear();
    QTRY_COMPARE(releasedCount, 1);
    QCoreApplication::processEvents();
    QVERIFY(allInHomeThread);
    QVERIFY(!emitted.empty());
    QVERIFY(emitted.size() < std::size_t(threads * perThread)); // coalesced
    QCOMPARE(emitted.back(), 0);
    for (std::size_t i = 1; i < emitted.size(); ++i)
        QVERIFY(emitted[i] < emitted[i - 1]);
    QCOMPARE(releasedCount, 1);
}

void tst_Latch::countDownIsNotReentrant()
{
    Latch latch(1);
    bool resumed = false;
    // The closure must outlive the suspended coroutine: a lambda coroutine keeps its captures
    // in the closure, not in the coroutine frame.
    auto body = [&]() -> QCoro::Task<> {
        co_await latch.wait();
        resumed = true;
    };
    auto task = body();
    latch.countDown();
    QVERIFY(!resumed);
    QTRY_VERIFY(resumed);
}

void tst_Latch::resumesOnTheAwaitingThread()
{
    Latch latch(1);
    QtAioTest::EventLoopThread worker;
    std::atomic<QThread *> suspendedOn = nullptr;
    std::atomic<QThread *> resumedOn = nullptr;
    auto body = [&]() -> QCoro::Task<> {
        suspendedOn = QThread::currentThread();
        co_await latch.wait();
        resumedOn = QThread::currentThread();
    };
    worker.invoke([&] { body(); });
    QTRY_COMPARE(latch.waiting(), 1);
    latch.countDown(); // from the main thread
    QTRY_VERIFY(resumedOn.load() != nullptr);
    QCOMPARE(resumedOn.load(), worker.thread());
    QCOMPARE(suspendedOn.load(), worker.thread());
}

void tst_Latch::stopTokenCancelsWait()
{
    Latch latch(1);
    std::stop_source stop;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTimer::singleShot(0, [&] { stop.request_stop(); });
        QTAIO_VERIFY_THROWS(QtAio::CancelledError, co_await latch.wait(stop.get_token()),
                            "Latch::wait");
        QTAIO_COMPARE(latch.waiting(), 0);
    }));
}

void tst_Latch::completionWinsOverStop()
{
    Latch latch(1);
    std::stop_source stop;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTimer::singleShot(0, [&] {
            latch.countDown();   // completes the waiter ...
            stop.request_stop(); // ... before its resumption runs
        });
        const bool result = co_await latch.wait(stop.get_token());
        QTAIO_VERIFY(result);
    }));
}

void tst_Latch::waitBlockingFromThreadPool()
{
    Latch latch(1);
    std::atomic<int> result = -1;
    QThreadPool pool;
    pool.start([&] { result = latch.waitBlocking(60s) ? 1 : 0; });
    QTRY_COMPARE(latch.waiting(), 1);
    latch.countDown();
    QVERIFY(pool.waitForDone(60000));
    QCOMPARE(result.load(), 1);
}

void tst_Latch::waitBlockingTimesOut()
{
    Latch latch(1);
    std::atomic<int> result = -1;
    QThreadPool pool;
    pool.start([&] { result = latch.waitBlocking(10ms) ? 1 : 0; });
    QVERIFY(pool.waitForDone(60000));
    QCOMPARE(result.load(), 0);
    QCOMPARE(latch.waiting(), 0);
    QTAIO_VERIFY_THROWS_SYNC(
        QtAio::CancelledError,
        [&] {
            std::stop_source stop;
            stop.request_stop();
            latch.waitBlocking(stop.get_token());
        }(),
        "cancelled");
}

void tst_Latch::destroyingWithWaitersCancelsThem()
{
    auto *latch = new Latch(1);
    std::atomic<bool> blockingCancelled = false;
    std::jthread blocking([&] {
        try {
            latch->waitBlocking();
        } catch (const QtAio::CancelledError &) {
            blockingCancelled = true;
        }
    });
    QTRY_COMPARE(latch->waiting(), 1);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTimer::singleShot(0, [&] { delete latch; });
        QTAIO_VERIFY_THROWS(QtAio::CancelledError, co_await latch->wait(), "destroyed");
    }));
    blocking.join();
    QVERIFY(blockingCancelled);
}

void tst_Latch::awaitingWithoutEventLoopThrows()
{
    Latch latch(1);
    std::string message;
    std::jthread plain([&] {
        [&]() -> QCoro::Task<> {
            try {
                co_await latch.wait();
            } catch (const std::logic_error &e) {
                message = e.what();
            }
        }();
    });
    plain.join();
    QVERIFY2(message.find("without a Qt event loop") != std::string::npos, message.c_str());
    QCOMPARE(latch.waiting(), 0);
}

void tst_Latch::worksWithQCoroWaitFor()
{
    Latch latch(2);
    std::jthread counter([&] {
        latch.countDown();
        latch.countDown();
    });
    QVERIFY(QCoro::waitFor(latch.wait()));
}

void tst_Latch::stressManyThreads()
{
    constexpr int threads = 8;
    constexpr int perThread = 12500; // 100k count-downs
    Latch latch(threads * perThread);
    std::atomic<int> released = 0;
    QtAioTest::EventLoopThread a, b;
    auto waiter = [&]() -> QCoro::Task<> {
        if (co_await latch.wait())
            ++released;
    };
    for (auto *t : {&a, &b})
        t->invoke([&] {
            for (int i = 0; i < 10; ++i)
                waiter();
        });
    std::vector<QCoro::Task<>> local;
    for (int i = 0; i < 10; ++i)
        local.push_back(waiter());
    std::vector<std::jthread> workers;
    for (int t = 0; t < threads; ++t)
        workers.emplace_back([&] {
            for (int i = 0; i < perThread; ++i)
                latch.countDown();
        });
    workers.clear();
    QCOMPARE(latch.count(), 0);
    QTRY_COMPARE(released.load(), 30);
    QCOMPARE(latch.waiting(), 0);
}

QTEST_GUILESS_MAIN(tst_Latch)
void tst_Latch::destroyedRightAfterReleaseWhileOthersCountDown_data()
{
    QTest::addColumn<bool>("observed");
    QTest::addColumn<bool>("polled");
    QTest::newRow("nothing connected") << false << false;
    QTest::newRow("countChanged connected") << true << false;
    QTest::newRow("nothing connected, found released by polling") << false << true;
    QTest::newRow("countChanged connected, found released by polling") << true << true;
}

void tst_Latch::destroyedRightAfterReleaseWhileOthersCountDown()
{
    // The waiter destroys the latch as soon as it resumes, while the thread whose countDown()
    // did not release it may still be returning from that call: no countDown() touches the
    // latch after its decrement unless it holds the lock the releasing one must take first
    // (ASan and TSan check the rounds). In the "polling" rows the latch is destroyed as soon as
    // tryWait() finds it released, possibly before the final countDown() has taken the lock.
    QFETCH(bool, observed);
    QFETCH(bool, polled);
    for (int round = 0; round < 1000; ++round) {
        auto latch = std::make_unique<Latch>(2);
        if (observed)
            connect(latch.get(), &Latch::countChanged, this, [](int) {});
        Latch *shared = latch.get();
        std::atomic<bool> go = false;
        auto countDown = [&go, shared] {
            while (!go.load())
                std::this_thread::yield();
            shared->countDown();
        };
        std::thread first(countDown);
        std::thread second(countDown);
        if (polled) {
            go = true;
            while (!latch->tryWait())
                std::this_thread::yield();
            latch.reset();
            first.join();
            second.join();
            continue;
        }
        QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
            auto waiting = latch->wait();
            go = true;
            QTAIO_VERIFY(co_await waiting);
            latch.reset();
        }));
        first.join();
        second.join();
    }
}

namespace {
//! One coroutine that waits on a latch, from its construction on.
struct LatchWaiter {
    explicit LatchWaiter(Latch &latch) : task(wait(latch)) {}
    QCoro::Task<> wait(Latch &latch)
    {
        result = co_await latch.wait();
        ++resumed;
    }
    int resumed = 0;
    bool result = false;
    QCoro::Task<> task;
};
} // namespace

// The inline fast path (latch.h) never brings the count to zero: the count-down that does
// takes the out-of-line path, which releases the waiters and reports the release once.
void tst_Latch::fastPathStopsShortOfZero_data()
{
    QTest::addColumn<int>("count");
    QTest::addColumn<int>("step");
    QTest::addColumn<bool>("listenBeforeLast");
    for (const bool listen : {false, true}) {
        const char *suffix = listen ? ", connected before the last" : ", nothing connected";
        QTest::addRow("by 1%s", suffix) << 4 << 1 << listen;
        QTest::addRow("by 2 to exactly 0%s", suffix) << 6 << 2 << listen;
        QTest::addRow("by 3, floored%s", suffix) << 7 << 3 << listen;
        QTest::addRow("at once%s", suffix) << 5 << 5 << listen;
    }
}

void tst_Latch::fastPathStopsShortOfZero()
{
    QFETCH(int, count);
    QFETCH(int, step);
    QFETCH(bool, listenBeforeLast);
    Latch latch(count);
    LatchWaiter waiter(latch);
    QCOMPARE(latch.waiting(), 1);
    int expected = count;
    while (expected > step) { // stays above zero
        latch.countDown(step);
        expected -= step;
        QCOMPARE(latch.count(), expected);
        QVERIFY(!latch.isReleased());
        QVERIFY(!latch.tryWait());
    }
    std::optional<QSignalSpy> countSpy;
    std::optional<QSignalSpy> releasedSpy;
    if (listenBeforeLast) {
        countSpy.emplace(&latch, &Latch::countChanged);
        releasedSpy.emplace(&latch, &Latch::releasedChanged);
    }
    latch.countDown(step); // reaches zero, or floors at it
    QCOMPARE(latch.count(), 0);
    QVERIFY(latch.isReleased());
    QCOMPARE(waiter.resumed, 0); // wake-ups are posted, not run inline
    QTRY_COMPARE(waiter.resumed, 1);
    QVERIFY(waiter.result);
    QCOMPARE(latch.waiting(), 0);
    latch.countDown(step); // released: nothing changes
    QCOMPARE(latch.count(), 0);
    if (listenBeforeLast) {
        QCoreApplication::processEvents();
        QCOMPARE(countSpy->count(), 1);
        QCOMPARE(countSpy->at(0).at(0).toInt(), 0);
        QCOMPARE(releasedSpy->count(), 1);
        QCOMPARE(releasedSpy->at(0).at(0).toBool(), true);
    }
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        const bool again = co_await latch.wait();
        QTAIO_VERIFY(again);
    }));
}

// Count-downs made while nothing is connected take the fast path and report nothing; a listener
// connected afterwards sees every later value, and the fast path resumes once it disconnects.
void tst_Latch::listenerConnectedAfterFastPathSeesLaterValues()
{
    Latch latch(100);
    latch.countDown();
    latch.countDown(3); // 96
    std::vector<int> counts;
    int released = 0;
    const auto record = [&](int count) { counts.push_back(count); };
    auto connection = connect(&latch, &Latch::countChanged, this, record);
    latch.countDown();  // 95
    latch.countDown(2); // 93
    latch.countDown(0);
    QCOMPARE(counts, (std::vector<int>{95, 93}));
    QVERIFY(disconnect(connection));
    latch.countDown(); // 92, unreported
    QCOMPARE(latch.count(), 92);
    QCOMPARE(counts, (std::vector<int>{95, 93}));
    connection = connect(&latch, &Latch::countChanged, this, record);
    connect(&latch, &Latch::releasedChanged, this, [&](bool) { ++released; });
    latch.countDown(); // 91
    QCOMPARE(counts, (std::vector<int>{95, 93, 91}));
    // From another thread: coalesced, and the last value emitted is the current count.
    std::jthread([&] {
        for (int i = 0; i < 50; ++i)
            latch.countDown();
    }).join();
    QCOMPARE(latch.count(), 41);
    QTRY_COMPARE(counts.back(), 41);
    for (std::size_t i = 1; i < counts.size(); ++i)
        QVERIFY(counts[i] < counts[i - 1]);
    latch.countDown(41);
    QCOMPARE(counts.back(), 0);
    QCOMPARE(released, 1);
    latch.countDown();
    QCoreApplication::processEvents();
    QCOMPARE(counts.back(), 0);
    QCOMPARE(released, 1);
}

void tst_Latch::concurrentCountDownsReleaseOnce_data()
{
    QTest::addColumn<int>("step");
    QTest::addColumn<bool>("listenMidway");
    QTest::newRow("by 1, nothing connected") << 1 << false;
    QTest::newRow("by 3, floored, nothing connected") << 3 << false;
    QTest::newRow("by 1, connected midway") << 1 << true;
    QTest::newRow("by 3, floored, connected midway") << 3 << true;
}

// Many threads count down at once, on the fast path until the count nears zero (and, in the
// "midway" rows, on the locked path once a listener connects): the waiters are released exactly
// once, with the count at 0.
void tst_Latch::concurrentCountDownsReleaseOnce()
{
    QFETCH(int, step);
    QFETCH(bool, listenMidway);
    constexpr int threads = 8;
    constexpr int perThread = 5000;
    // By 3, the count-downs add up to 2 more than the count: the last one floors at 0.
    Latch latch(threads * perThread * step - (step - 1));
    LatchWaiter waiter(latch);
    std::atomic<int> blockingResult = -1;
    std::jthread blocking([&] { blockingResult = latch.waitBlocking(60s) ? 1 : 0; });

    std::vector<int> counts;
    int released = 0;
    std::atomic<int> halfDone = 0;
    std::atomic<bool> listening = false;
    std::vector<std::jthread> workers;
    for (int t = 0; t < threads; ++t)
        workers.emplace_back([&] {
            for (int i = 0; i < perThread / 2; ++i)
                latch.countDown(step);
            ++halfDone;
            while (listenMidway && !listening.load())
                std::this_thread::yield();
            for (int i = perThread / 2; i < perThread; ++i)
                latch.countDown(step);
        });
    if (listenMidway) {
        while (halfDone.load() < threads)
            std::this_thread::yield();
        connect(&latch, &Latch::countChanged, this, [&](int count) { counts.push_back(count); });
        connect(&latch, &Latch::releasedChanged, this, [&](bool) { ++released; });
        listening = true;
    }
    workers.clear();
    blocking.join();
    QCOMPARE(latch.count(), 0);
    QVERIFY(latch.isReleased());
    QCOMPARE(blockingResult.load(), 1);
    QTRY_COMPARE(waiter.resumed, 1);
    QVERIFY(waiter.result);
    QCOMPARE(latch.waiting(), 0);
    if (listenMidway) {
        QTRY_COMPARE(released, 1);
        QCoreApplication::processEvents();
        QCOMPARE(released, 1);
        QVERIFY(!counts.empty());
        QCOMPARE(counts.back(), 0);
        for (std::size_t i = 1; i < counts.size(); ++i)
            QVERIFY(counts[i] < counts[i - 1]);
    }
}

void tst_Latch::crossingCountDownMayBeTheFastOne_data()
{
    QTest::addColumn<int>("threads");
    QTest::addColumn<int>("perThread");
    QTest::addColumn<int>("step");
    QTest::addColumn<bool>("polled");
    QTest::newRow("8 threads by 1, awaited") << 8 << 3 << 1 << false;
    QTest::newRow("8 threads by 3, awaited") << 8 << 3 << 3 << false;
    QTest::newRow("8 threads by 1, polled") << 8 << 3 << 1 << true;
    QTest::newRow("8 threads by 3, polled") << 8 << 3 << 3 << true;
    // Two threads in a long burst: both are still counting down when the count nears zero.
    QTest::newRow("2 threads by 1 x300, awaited") << 2 << 300 << 1 << false;
    QTest::newRow("2 threads by 1 x300, polled") << 2 << 300 << 1 << true;
}

// Many threads count down exactly the count at once, so that the decrement that crosses zero is
// often made on the fast path by a thread that read a count above its step. The waiter destroys
// the latch as soon as its wait completes (or tryWait() finds it released): the crossing
// count-down still releases the latch (the flag is its own to set), and no count-down touches
// the latch afterwards (ASan and TSan check the rounds). Which count-down crosses is up to the
// scheduler: on a loaded two-core machine the fast path crossed in about 1 round in 1000.
void tst_Latch::crossingCountDownMayBeTheFastOne()
{
    QFETCH(int, threads);
    QFETCH(int, perThread);
    QFETCH(int, step);
    QFETCH(bool, polled);
    for (int round = 0; round < 300; ++round) {
        auto latch = std::make_unique<Latch>(threads * perThread * step);
        Latch *shared = latch.get();
        std::atomic<bool> go = false;
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t) {
            workers.emplace_back([&go, shared, perThread, step] {
                while (!go.load())
                    std::this_thread::yield();
                for (int i = 0; i < perThread; ++i)
                    shared->countDown(step);
            });
        }
        if (polled) {
            go = true;
            while (!latch->tryWait())
                std::this_thread::yield();
            QCOMPARE(latch->count(), 0);
            latch.reset();
        } else {
            QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
                auto waiting = latch->wait();
                go = true;
                QTAIO_VERIFY(co_await waiting);
                QTAIO_COMPARE(latch->count(), 0);
                latch.reset();
            }));
        }
        for (auto &worker : workers)
            worker.join();
    }
}

// The raw count may read zero (or below) before the count-down that took it there has released
// the latch; count() never does: it reads 0 only once the latch is released, and only falls.
void tst_Latch::countNeverReadsZeroBeforeReleased()
{
    constexpr int threads = 4;
    for (int round = 0; round < 200; ++round) {
        Latch latch(threads * 50);
        std::atomic<bool> go = false;
        std::atomic<bool> done = false;
        std::atomic<int> zeroBeforeRelease = 0;
        std::atomic<int> rose = 0;
        std::jthread observer([&] {
            int last = latch.count();
            while (!done.load()) {
                const int count = latch.count();
                const bool released = latch.isReleased();
                if (count == 0 && !released)
                    ++zeroBeforeRelease;
                if (count > last || count < 0)
                    ++rose;
                last = count;
                if (released && count == 0)
                    break;
            }
        });
        std::vector<std::jthread> workers;
        for (int t = 0; t < threads; ++t) {
            workers.emplace_back([&] {
                while (!go.load())
                    std::this_thread::yield();
                for (int i = 0; i < 60; ++i) // 10 more each than their share: overshoots
                    latch.countDown();
            });
        }
        go = true;
        workers.clear();
        done = true;
        observer.join();
        QCOMPARE(zeroBeforeRelease.load(), 0);
        QCOMPARE(rose.load(), 0);
        QCOMPARE(latch.count(), 0);
        QVERIFY(latch.isReleased());
        QVERIFY(latch.tryWait());
    }
}

void tst_Latch::overshootingCountDownsReleaseOnce_data()
{
    QTest::addColumn<int>("step");
    QTest::addColumn<bool>("listen");
    QTest::newRow("by 1, nothing connected") << 1 << false;
    QTest::newRow("by 7, nothing connected") << 7 << false;
    QTest::newRow("by 1, connected") << 1 << true;
    QTest::newRow("by 7, connected") << 7 << true;
}

// Threads count down twice the count at once: the raw count goes below zero on the fast path,
// yet count() ends at 0, the waiters are released once and releasedChanged is emitted once,
// after a last countChanged(0), with no count below 0 ever reported.
void tst_Latch::overshootingCountDownsReleaseOnce()
{
    QFETCH(int, step);
    QFETCH(bool, listen);
    constexpr int threads = 6;
    constexpr int perThread = 2000;
    for (int round = 0; round < 5; ++round) {
        Latch latch(threads * perThread * step / 2);
        LatchWaiter waiter(latch);
        std::vector<int> counts;
        int released = 0;
        if (listen) {
            connect(&latch, &Latch::countChanged, this,
                    [&](int count) { counts.push_back(count); });
            connect(&latch, &Latch::releasedChanged, this, [&](bool value) {
                QVERIFY(value);
                ++released;
            });
        }
        std::atomic<bool> go = false;
        std::vector<std::jthread> workers;
        for (int t = 0; t < threads; ++t) {
            workers.emplace_back([&] {
                while (!go.load())
                    std::this_thread::yield();
                for (int i = 0; i < perThread; ++i)
                    latch.countDown(step);
            });
        }
        go = true;
        workers.clear();
        QCOMPARE(latch.count(), 0);
        QVERIFY(latch.isReleased());
        QTRY_COMPARE(waiter.resumed, 1);
        QVERIFY(waiter.result);
        latch.countDown(step);
        QCOMPARE(latch.count(), 0);
        if (listen) {
            QTRY_COMPARE(released, 1);
            QCoreApplication::processEvents();
            QCOMPARE(released, 1);
            QVERIFY(!counts.empty());
            QCOMPARE(counts.back(), 0);
            for (std::size_t i = 1; i < counts.size(); ++i)
                QVERIFY(counts[i] < counts[i - 1]);
            QVERIFY(counts.front() >= 0);
        }
        QCOMPARE(waiter.resumed, 1);
    }
}

// A step above 65535 never takes the fast path (so that overshooting cannot wrap the count):
// the slow path floors it at zero.
void tst_Latch::largeStepsTakeTheSlowPath()
{
    Latch latch(1'000'000);
    LatchWaiter waiter(latch);
    latch.countDown(70'000);
    QCOMPARE(latch.count(), 930'000);
    latch.countDown(65'535); // the largest fast step
    QCOMPARE(latch.count(), 864'465);
    latch.countDown(std::numeric_limits<int>::max());
    QCOMPARE(latch.count(), 0);
    QVERIFY(latch.isReleased());
    QTRY_COMPARE(waiter.resumed, 1);
    latch.countDown(std::numeric_limits<int>::max());
    QCOMPARE(latch.count(), 0);
}

#include "tst_latch.moc"
