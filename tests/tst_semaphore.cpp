// SPDX-License-Identifier: MIT
#include "qtaiotest.h"

#include <qtaio/errors.h>
#include <qtaio/semaphore.h>

#include <QtCore/QThreadPool>
#include <QtTest/QSignalSpy>

#include <qcoro/qcorotask.h>

#include <atomic>
#include <mutex>
#include <random>
#include <stop_token>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using QtAio::Semaphore;

namespace {
// Takes a permit for code that gives it back with Semaphore::release().
bool tryAcquireDetached(Semaphore &s)
{
    auto permit = s.tryAcquire();
    if (!permit)
        return false;
    permit->detach();
    return true;
}
} // namespace

class tst_Semaphore : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void zeroCapacityIsAClosedGate();
    void negativeCapacityIsRejected();
    void releasingMoreThanHeldIsRejected();
    void waitersAreServedFifoAcrossCoroutinesAndThreads();
    void raisingCapacityAdmitsWaiters();
    void loweringCapacityRevokesNothing();
    void cancelledOrTimedOutWaiterLosesNoPermit_data();
    void cancelledOrTimedOutWaiterLosesNoPermit();
    void completionWinsOverStopAndDeadline_data();
    void completionWinsOverStopAndDeadline();
    void permitReleasesOnScopeExit();
    void acquireYieldsAPermit();
    void detachedPermitIsGivenBackByRelease();
    void tryAcquireAndAcquireBlockingYieldPermits();
    void permitReleasesWhenExceptionUnwinds();
    void acquireBlockingTimesOut();
    void resumesOnTheAwaitingThread();
    void destroyingWithWaitersCancelsThem();
    void signalsReportChangesInHomeThread();
    void stressManyThreads();
};

void tst_Semaphore::zeroCapacityIsAClosedGate()
{
    Semaphore gate(0);
    QCOMPARE(gate.available(), 0);
    QVERIFY(!gate.tryAcquire());
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTAIO_VERIFY_THROWS(QtAio::TimeoutError, (void)co_await gate.acquire(10ms), "timed out");
        QTAIO_COMPARE(gate.held(), 0);
        QTAIO_COMPARE(gate.waiting(), 0);
    }));
}

void tst_Semaphore::negativeCapacityIsRejected()
{
    QTAIO_VERIFY_THROWS_SYNC(std::invalid_argument, Semaphore s(-1), "got -1");
    Semaphore s(1);
    QTAIO_VERIFY_THROWS_SYNC(std::invalid_argument, s.setCapacity(-2), "got -2");
    QCOMPARE(s.capacity(), 1);
}

void tst_Semaphore::releasingMoreThanHeldIsRejected()
{
    Semaphore s(2);
    QTAIO_VERIFY_THROWS_SYNC(std::logic_error, s.release(), "only 0 are held");
    QVERIFY(tryAcquireDetached(s));
    QTAIO_VERIFY_THROWS_SYNC(std::logic_error, s.release(2), "releasing 2 permit(s)");
    QTAIO_VERIFY_THROWS_SYNC(std::invalid_argument, s.release(0), "got 0");
    s.release();
    QCOMPARE(s.available(), 2);
}

void tst_Semaphore::waitersAreServedFifoAcrossCoroutinesAndThreads()
{
    Semaphore s(1);
    QVERIFY(tryAcquireDetached(s));
    std::mutex orderMutex;
    std::vector<int> order;
    auto record = [&](int id) {
        std::scoped_lock lock(orderMutex);
        order.push_back(id);
    };
    auto coroutineWaiter = [&](int id) -> QCoro::Task<> {
        auto permit = co_await s.acquire();
        record(id);
    };
    QThreadPool pool;
    std::vector<QCoro::Task<>> tasks;
    tasks.push_back(coroutineWaiter(0));
    pool.start([&] {
        auto permit = s.acquireBlocking(60s);
        record(1);
    });
    QTRY_COMPARE(s.waiting(), 2);
    tasks.push_back(coroutineWaiter(2));
    pool.start([&] {
        auto permit = s.acquireBlocking(60s);
        record(3);
    });
    QTRY_COMPARE(s.waiting(), 4);
    tasks.push_back(coroutineWaiter(4));
    QCOMPARE(s.waiting(), 5);
    s.release();
    QTRY_COMPARE(order.size(), std::size_t(5));
    QVERIFY(pool.waitForDone(60000));
    QCOMPARE(order, (std::vector<int>{0, 1, 2, 3, 4}));
    QCOMPARE(s.available(), 1);
    QCOMPARE(s.held(), 0);
}

void tst_Semaphore::raisingCapacityAdmitsWaiters()
{
    Semaphore s(0);
    int acquired = 0;
    auto waiter = [&]() -> QCoro::Task<> {
        auto permit = co_await s.acquire();
        permit.detach(); // given back by the test
        ++acquired;
    };
    std::vector<QCoro::Task<>> tasks;
    for (int i = 0; i < 3; ++i)
        tasks.push_back(waiter());
    s.setCapacity(2);
    QCOMPARE(s.held(), 2); // handed over at once ...
    QCOMPARE(s.waiting(), 1);
    QTRY_COMPARE(acquired, 2); // ... resumed from the event loop
    s.release();
    QTRY_COMPARE(acquired, 3);
    QCOMPARE(s.held(), 2);
}

void tst_Semaphore::loweringCapacityRevokesNothing()
{
    Semaphore s(3);
    for (int i = 0; i < 3; ++i)
        QVERIFY(tryAcquireDetached(s));
    s.setCapacity(1);
    QCOMPARE(s.held(), 3);
    QCOMPARE(s.available(), 0);
    bool acquired = false;
    auto body = [&]() -> QCoro::Task<> {
        auto permit = co_await s.acquire();
        permit.detach(); // given back by the test
        acquired = true;
    };
    auto task = body();
    s.release();
    s.release();
    QCOMPARE(s.held(), 1);
    QCOMPARE(s.waiting(), 1); // still 1 held, the new capacity: keep waiting
    s.release();
    QCOMPARE(s.held(), 1); // handed to the waiter
    QTRY_VERIFY(acquired);
    s.release();
    QCOMPARE(s.available(), 1);
}

void tst_Semaphore::cancelledOrTimedOutWaiterLosesNoPermit_data()
{
    QTest::addColumn<bool>("byStop");
    QTest::newRow("stop token") << true;
    QTest::newRow("timeout") << false;
}

void tst_Semaphore::cancelledOrTimedOutWaiterLosesNoPermit()
{
    QFETCH(bool, byStop);
    Semaphore s(1);
    QVERIFY(tryAcquireDetached(s));
    std::stop_source stop;
    bool secondAcquired = false;
    // A second waiter behind the one that gives up must still be served. Its closure outlives
    // the test body, since it resumes after the body has returned.
    auto second = [&]() -> QCoro::Task<> {
        auto permit = co_await s.acquire();
        permit.detach(); // given back by the test
        secondAcquired = true;
    };
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        if (byStop) {
            QTimer::singleShot(0, [&] { stop.request_stop(); });
            auto acquire = s.acquire(stop.get_token());
            auto behind = second();
            QTAIO_VERIFY_THROWS(QtAio::CancelledError, (void)co_await acquire, "cancelled");
        } else {
            auto acquire = s.acquire(5ms);
            auto behind = second();
            QTAIO_VERIFY_THROWS(QtAio::TimeoutError, (void)co_await acquire, "timed out");
        }
        QTAIO_COMPARE(s.waiting(), 1);
        QTAIO_COMPARE(s.held(), 1);
        s.release();
    }));
    QTRY_VERIFY(secondAcquired);
    QCOMPARE(s.held(), 1);
    s.release();
    QCOMPARE(s.available(), 1);
    QCOMPARE(s.held(), 0);
}

void tst_Semaphore::completionWinsOverStopAndDeadline_data()
{
    QTest::addColumn<bool>("byStop");
    QTest::newRow("stop token") << true;
    QTest::newRow("deadline") << false;
}

void tst_Semaphore::completionWinsOverStopAndDeadline()
{
    QFETCH(bool, byStop);
    Semaphore s(1);
    QVERIFY(tryAcquireDetached(s));
    std::stop_source stop;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTimer::singleShot(0, [&] {
            s.release(); // hands the permit to the waiter ...
            if (byStop)
                stop.request_stop(); // ... before its stop is requested
            else
                QThread::msleep(30); // ... and before its deadline timer gets to run
        });
        QtAio::SemaphorePermit permit;
        if (byStop)
            permit = co_await s.acquire(stop.get_token());
        else
            permit = co_await s.acquire(QDeadlineTimer(20ms, Qt::PreciseTimer));
        QTAIO_COMPARE(s.held(), 1);
        permit.detach(); // given back by the test
    }));
    s.release();
    QCOMPARE(s.available(), 1);
}

void tst_Semaphore::permitReleasesOnScopeExit()
{
    Semaphore s(1);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        {
            auto permit = co_await s.acquire();
            QTAIO_VERIFY(permit.isHeld());
            QTAIO_COMPARE(s.available(), 0);
            auto moved = std::move(permit);
            QTAIO_VERIFY(!permit.isHeld());
            QTAIO_COMPARE(s.held(), 1);
        }
        QTAIO_COMPARE(s.available(), 1);
    }));
}

void tst_Semaphore::acquireYieldsAPermit()
{
    Semaphore s(2);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        Semaphore::AcquireOperation acquire = s.acquire(); // a stable, storable name
        QtAio::SemaphorePermit first = co_await acquire;
        auto second = co_await s.acquire(1s);
        QTAIO_VERIFY(first.isHeld() && second.isHeld());
        QTAIO_COMPARE(s.held(), 2);
        first.release(); // early
        QTAIO_VERIFY(!first);
        first.release(); // nothing held: nothing happens
        QTAIO_COMPARE(s.held(), 1);
        first = std::move(second);
        QTAIO_COMPARE(s.held(), 1);
        first = QtAio::SemaphorePermit(); // assigning releases the permit held before
        QTAIO_COMPARE(s.held(), 0);
    }));
}

void tst_Semaphore::detachedPermitIsGivenBackByRelease()
{
    Semaphore s(1);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        {
            auto permit = co_await s.acquire();
            permit.detach(); // released elsewhere
            QTAIO_VERIFY(!permit.isHeld());
        }
        QTAIO_COMPARE(s.held(), 1);
        s.release();
        QTAIO_COMPARE(s.held(), 0);
    }));
}

void tst_Semaphore::tryAcquireAndAcquireBlockingYieldPermits()
{
    Semaphore s(1);
    {
        auto permit = s.tryAcquire();
        QVERIFY(permit && permit->isHeld());
        QCOMPARE(s.held(), 1);
        QVERIFY(!s.tryAcquire()); // none free: std::nullopt
    }
    QCOMPARE(s.held(), 0);
    std::jthread([&] {
        auto permit = s.acquireBlocking(60s);
        QCOMPARE(s.held(), 1);
    }).join();
    QCOMPARE(s.held(), 0);
}

void tst_Semaphore::permitReleasesWhenExceptionUnwinds()
{
    Semaphore s(1);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto failing = [&]() -> QCoro::Task<> {
            auto permit = co_await s.acquire();
            throw std::runtime_error("work failed");
        };
        QTAIO_VERIFY_THROWS(std::runtime_error, co_await failing(), "work failed");
        QTAIO_COMPARE(s.available(), 1);
        QTAIO_COMPARE(s.held(), 0);
    }));
}

void tst_Semaphore::acquireBlockingTimesOut()
{
    Semaphore s(0);
    std::string message;
    std::jthread t([&] {
        try {
            auto permit = s.acquireBlocking(10ms);
        } catch (const QtAio::TimeoutError &e) {
            message = e.what();
        }
    });
    t.join();
    QVERIFY2(message.find("Semaphore::acquireBlocking: timed out") != std::string::npos,
             message.c_str());
    QCOMPARE(s.waiting(), 0);
}

void tst_Semaphore::resumesOnTheAwaitingThread()
{
    Semaphore s(0);
    QtAioTest::EventLoopThread worker;
    std::atomic<QThread *> resumedOn = nullptr;
    auto body = [&]() -> QCoro::Task<> {
        auto permit = co_await s.acquire();
        permit.detach(); // dies with the semaphore
        resumedOn = QThread::currentThread();
    };
    worker.invoke([&] { body(); });
    QCOMPARE(s.waiting(), 1);
    s.setCapacity(1);
    QTRY_VERIFY(resumedOn.load() != nullptr);
    QCOMPARE(resumedOn.load(), worker.thread());
}

void tst_Semaphore::destroyingWithWaitersCancelsThem()
{
    auto *s = new Semaphore(0);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTimer::singleShot(0, [&] { delete s; });
        QTAIO_VERIFY_THROWS(QtAio::CancelledError, (void)co_await s->acquire(), "destroyed");
    }));
}

void tst_Semaphore::signalsReportChangesInHomeThread()
{
    Semaphore s(2);
    QSignalSpy available(&s, &Semaphore::availableChanged);
    QSignalSpy held(&s, &Semaphore::heldChanged);
    QSignalSpy capacity(&s, &Semaphore::capacityChanged);
    QVERIFY(available.isValid() && held.isValid() && capacity.isValid());
    QVERIFY(tryAcquireDetached(s));
    QVERIFY(tryAcquireDetached(s));
    s.release(2);
    s.setCapacity(3);
    s.setCapacity(3); // unchanged: no emission
    QCOMPARE(available.count(), 4);
    QCOMPARE(available.at(0).at(0).toInt(), 1);
    QCOMPARE(available.at(1).at(0).toInt(), 0);
    QCOMPARE(available.at(2).at(0).toInt(), 2);
    QCOMPARE(available.at(3).at(0).toInt(), 3);
    QCOMPARE(held.count(), 3);
    QCOMPARE(capacity.count(), 1);

    // From another thread: coalesced, delivered in the home thread, ending at the final value.
    std::vector<int> seen;
    bool inHomeThread = true;
    connect(&s, &Semaphore::availableChanged, this, [&](int value) {
        seen.push_back(value);
        inHomeThread &= QThread::currentThread() == thread();
    });
    std::jthread([&] {
        for (int i = 0; i < 1000; ++i)
            s.acquireBlocking().release();
        s.acquireBlocking().detach(); // given back by the test
    }).join();
    QTRY_VERIFY(!seen.empty() && seen.back() == 2);
    QVERIFY(inHomeThread);
    QCOMPARE(s.available(), 2);
    s.release();
}

void tst_Semaphore::stressManyThreads()
{
    constexpr int capacity = 3;
    constexpr int threads = 8;
    constexpr int perThread = 12500; // 100k acquire/release pairs from plain threads
    Semaphore s(capacity);
    std::atomic<int> inside = 0;
    std::atomic<int> maxInside = 0;
    std::atomic<int> timeouts = 0;
    std::atomic<int> cancelled = 0;
    auto enter = [&] {
        const int now = ++inside;
        int seen = maxInside.load();
        while (now > seen && !maxInside.compare_exchange_weak(seen, now)) {
        }
    };
    std::atomic<int> coroutineRounds = 0;
    constexpr int coroutinesPerThread = 4;
    constexpr int roundsPerCoroutine = 500;
    auto coroutineClient = [&](unsigned seed) -> QCoro::Task<> {
        std::mt19937 random(seed);
        for (int i = 0; i < roundsPerCoroutine; ++i) {
            std::stop_source stop;
            if (random() % 8 == 0)
                stop.request_stop();
            QtAio::SemaphorePermit permit;
            try {
                if (random() % 2)
                    permit = co_await s.acquire(std::chrono::microseconds(random() % 200),
                                                stop.get_token());
                else
                    permit = co_await s.acquire(stop.get_token());
            } catch (const QtAio::TimeoutError &) {
                ++timeouts;
                continue;
            } catch (const QtAio::CancelledError &) {
                ++cancelled;
                continue;
            }
            enter();
            --inside;
            permit.release();
            ++coroutineRounds;
        }
    };
    QtAioTest::EventLoopThread a, b;
    unsigned seed = 1;
    for (auto *t : {&a, &b})
        t->invoke([&] {
            for (int i = 0; i < coroutinesPerThread; ++i)
                coroutineClient(seed++);
        });
    std::vector<std::jthread> workers;
    for (int t = 0; t < threads; ++t)
        workers.emplace_back([&] {
            for (int i = 0; i < perThread; ++i) {
                auto permit = s.acquireBlocking();
                enter();
                --inside;
            }
        });
    workers.clear();
    QTRY_COMPARE_WITH_TIMEOUT(coroutineRounds.load() + timeouts.load() + cancelled.load(),
                              2 * coroutinesPerThread * roundsPerCoroutine, 120000);
    QVERIFY(maxInside.load() <= capacity);
    QCOMPARE(s.held(), 0);
    QCOMPARE(s.available(), capacity);
    QCOMPARE(s.waiting(), 0);
}

QTEST_GUILESS_MAIN(tst_Semaphore)
#include "tst_semaphore.moc"
