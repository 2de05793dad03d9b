// SPDX-License-Identifier: MIT
#include "qtaiotest.h"
#include "queuemodel.h"

#include <qtaio/asyncqueue.h>
#include <qtaio/errors.h>
#include <qtaio/latch.h>

#include <QtCore/QThreadPool>
#include <QtTest/QSignalSpy>

#include <qcoro/qcorotask.h>

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using QtAio::AsyncQueue;
using QtAio::CloseMode;

namespace {

//! Puts 0 .. n-1 with putBlocking() from a thread of its own, and waits for it: afterwards a
//! getter that takes them and finds the queue empty spins before it suspends.
void putStreamFromThread(AsyncQueue<int> &q, int n)
{
    std::thread([&q, n] {
        for (int i = 0; i < n; ++i)
            q.putBlocking(i);
    }).join();
}

//! A thread that runs an action once the consumer has taken the stream (takeStream()).
class AfterStream {
public:
    template<typename Action>
    explicit AfterStream(Action action)
        : m_thread([this, action] {
              taken.wait(false);
              action();
          })
    {
    }
    //! Runs the action now if the consumer did not get that far (a failed test still ends).
    ~AfterStream()
    {
        taken = true;
        taken.notify_one();
    }
    AfterStream(const AfterStream &) = delete;
    AfterStream &operator=(const AfterStream &) = delete;

    std::atomic<bool> taken = false;

private:
    std::jthread m_thread;
};

//! Takes 0 .. n-1 in order (a stream put by putStreamFromThread()), then starts \a after.
QCoro::Task<bool> takeStream(AsyncQueue<int> &q, int n, AfterStream &after)
{
    for (int i = 0; i < n; ++i) {
        if (co_await q.get() != i)
            co_return false;
    }
    after.taken = true;
    after.taken.notify_one();
    co_return true;
}

QCoro::Task<> consume(AsyncQueue<int> &q, std::vector<int> &out, int n)
{
    for (int i = 0; i < n; ++i)
        out.push_back(co_await q.get());
}

QCoro::Task<> produce(AsyncQueue<int> &q, std::vector<int> values, bool &done)
{
    for (int v : values)
        co_await q.put(v);
    done = true;
}

} // namespace

class tst_AsyncQueue : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void fifoOrder();
    void maxSizeBlocksPutterAfterTwoItems();
    void nonPositiveMaxSizeIsUnbounded_data();
    void nonPositiveMaxSizeIsUnbounded();
    void blockingGetCompletesWhenPutterActs();
    void tryGetOnEmptyAndTryPutOnFull();
    void tryPutLeavesItemUntouchedWhenFull();
    void waitersAreServedFifoAndItemsKeepPutterOrder();
    void gettersAndPuttersBothWaiting();
    void boundedPutterIsNotDuplicated();   // mtaio bug 1
    void cancelledGetterKeepsHandedItem(); // mtaio bug 2
    void cancelledGetRaceWithSeveralWaiters();
    void cancelledPutLeavesMoveOnlyItemForRetry();
    void putAndGetTimeouts();
    void taskDoneUnderflowIsRejected();
    void joinOnEmptyQueueReturnsAtOnce();
    void joinWithTwoWorkers();
    void drainClose();
    void immediateClose();
    void growingMaxSizeAdmitsPutters();
    void blockingFormsShareTheFifo();
    void signalsOnHomeThread();
    void signalsFromOtherThreadsAreCoalescedWithExactTotals();
    void workerThreadFeedsGuiCoroutine();
    void sameThreadHandOffsLetOtherEventsRun();
    void requestsAwaitedAsNamedObjects();
    void nextEndsAConsumerLoopWithoutAnException();
    void nestedEventLoopInResumedCoroutine();
    void destroyingWithWaitersCancelsThem();
    void modelBasedRandomized();
    void stressProducersAndConsumersOnSeveralThreads();
    // A coroutine getter that finds the queue empty after a stream of blocking puts spins
    // briefly before it suspends: each way such a get can end.
    void getterAfterBlockingStreamEndsOnClose();
    void getterAfterBlockingStreamHonoursStop();
    void getterAfterBlockingStreamTakesLateItem();
    void blockingProducersKeepOrderAndEveryItemOnce();
    void blockingPutOnFullQueueEndsOnCloseGrowthOrStop();
    void blockingPutDoesNotPassAWaitingPutter();
};

void tst_AsyncQueue::fifoOrder()
{
    AsyncQueue<int> q;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        for (int i = 0; i < 5; ++i)
            co_await q.put(i);
        for (int i = 0; i < 5; ++i)
            QTAIO_COMPARE(co_await q.get(), i);
    }));
}

void tst_AsyncQueue::maxSizeBlocksPutterAfterTwoItems()
{
    AsyncQueue<int> q(2);
    bool done = false;
    auto producer = produce(q, {1, 2, 3}, done);
    QCOMPARE(q.size(), 2);
    QVERIFY(q.isFull());
    QCOMPARE(q.waitingPutters(), 1);
    QVERIFY(!done);
    QCOMPARE(q.tryGet(), std::optional<int>(1));
    QCOMPARE(q.size(), 2); // the waiting put was admitted by the get
    QTRY_VERIFY(done);
    QCOMPARE(q.tryGet(), std::optional<int>(2));
    QCOMPARE(q.tryGet(), std::optional<int>(3));
}

void tst_AsyncQueue::nonPositiveMaxSizeIsUnbounded_data()
{
    QTest::addColumn<int>("maxSize");
    QTest::newRow("zero") << 0;
    QTest::newRow("negative") << -5;
}

void tst_AsyncQueue::nonPositiveMaxSizeIsUnbounded()
{
    QFETCH(int, maxSize);
    AsyncQueue<int> q(maxSize);
    QCOMPARE(q.maxSize(), 0);
    for (int i = 0; i < 1000; ++i)
        QVERIFY(q.tryPut(i));
    QVERIFY(!q.isFull());
}

void tst_AsyncQueue::blockingGetCompletesWhenPutterActs()
{
    AsyncQueue<int> q;
    std::vector<int> got;
    auto consumer = consume(q, got, 1);
    QCOMPARE(q.waitingGetters(), 1);
    QVERIFY(q.tryPut(42));
    QCOMPARE(q.size(), 0); // handed straight to the getter
    QVERIFY(got.empty());  // which resumes from the event loop, not inside tryPut()
    QTRY_COMPARE(got, std::vector<int>{42});
}

void tst_AsyncQueue::tryGetOnEmptyAndTryPutOnFull()
{
    AsyncQueue<int> q(1);
    QCOMPARE(q.tryGet(), std::nullopt);
    QVERIFY(q.tryPut(1));
    QVERIFY(!q.tryPut(2));
    QCOMPARE(q.size(), 1);
}

void tst_AsyncQueue::tryPutLeavesItemUntouchedWhenFull()
{
    AsyncQueue<std::unique_ptr<int>> q(1);
    QVERIFY(q.tryPut(std::make_unique<int>(1)));
    auto item = std::make_unique<int>(2);
    QVERIFY(!q.tryPut(std::move(item)));
    QVERIFY(item);
    QCOMPARE(*item, 2);
}

void tst_AsyncQueue::waitersAreServedFifoAndItemsKeepPutterOrder()
{
    AsyncQueue<int> q(1);
    QVERIFY(q.tryPut(0));
    bool d1 = false, d2 = false, d3 = false;
    auto p1 = produce(q, {1}, d1);
    auto p2 = produce(q, {2}, d2);
    auto p3 = produce(q, {3}, d3);
    QCOMPARE(q.waitingPutters(), 3);
    std::vector<int> got;
    for (int i = 0; i < 4; ++i)
        got.push_back(q.getBlocking(1s)); // each get admits the next putter, in order
    QCOMPARE(got, (std::vector<int>{0, 1, 2, 3}));
    QTRY_VERIFY(d1 && d2 && d3);

    std::vector<int> a, b, c;
    auto g1 = consume(q, a, 1);
    auto g2 = consume(q, b, 1);
    auto g3 = consume(q, c, 1);
    QVERIFY(q.tryPut(10));
    QVERIFY(q.tryPut(11));
    QVERIFY(q.tryPut(12));
    QTRY_VERIFY(!c.empty());
    QCOMPARE(a, std::vector<int>{10});
    QCOMPARE(b, std::vector<int>{11});
    QCOMPARE(c, std::vector<int>{12});
}

void tst_AsyncQueue::gettersAndPuttersBothWaiting()
{
    AsyncQueue<int> q(1);
    std::vector<int> got;
    auto getter = consume(q, got, 3);
    bool done = false;
    auto producer = produce(q, {1, 2, 3, 4}, done);
    QTRY_VERIFY(done);
    QTRY_COMPARE(got, (std::vector<int>{1, 2, 3}));
    QCOMPARE(q.tryGet(), std::optional<int>(4));
    QCOMPARE(q.waitingGetters(), 0);
    QCOMPARE(q.waitingPutters(), 0);
}

void tst_AsyncQueue::boundedPutterIsNotDuplicated()
{
    // mtaio enqueues a blocked putter's item twice and can hang the putter.
    AsyncQueue<char> q(2);
    QVERIFY(q.tryPut('a'));
    QVERIFY(q.tryPut('b'));
    bool putterDone = false;
    auto putter = [&]() -> QCoro::Task<> {
        co_await q.put('c');
        putterDone = true;
    };
    auto task = putter();
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTAIO_COMPARE(co_await q.get(), 'a');
        QTAIO_COMPARE(co_await q.get(), 'b');
        QTAIO_COMPARE(co_await q.get(), 'c');
        QTAIO_COMPARE(q.size(), 0);
    }));
    QTRY_VERIFY(putterDone);
    QCOMPARE(q.tryGet(), std::nullopt);
    QCOMPARE(q.unfinishedTasks(), 3);
}

void tst_AsyncQueue::cancelledGetterKeepsHandedItem()
{
    // mtaio loses an item handed to a getter that is cancelled just after.
    AsyncQueue<int> q;
    std::stop_source stop;
    std::optional<int> got;
    bool cancelled = false;
    auto getter = [&]() -> QCoro::Task<> {
        try {
            got = co_await q.get(stop.get_token());
        } catch (const QtAio::CancelledError &) {
            cancelled = true;
        }
    };
    auto task = getter();
    QVERIFY(q.tryPut(7)); // handed over ...
    stop.request_stop();  // ... then cancelled before the getter resumed
    QTRY_VERIFY(got || cancelled);
    QVERIFY(!cancelled);
    QCOMPARE(got, std::optional<int>(7));
    QCOMPARE(q.size(), 0);
}

void tst_AsyncQueue::cancelledGetRaceWithSeveralWaiters()
{
    AsyncQueue<int> q;
    std::stop_source s1, s2, s3;
    struct Result {
        std::optional<int> value;
        bool cancelled = false;
    } r1, r2, r3;
    auto getter = [&q](std::stop_token stop, Result &r) -> QCoro::Task<> {
        try {
            r.value = co_await q.get(std::move(stop));
        } catch (const QtAio::CancelledError &) {
            r.cancelled = true;
        }
    };
    auto t1 = getter(s1.get_token(), r1);
    auto t2 = getter(s2.get_token(), r2);
    auto t3 = getter(s3.get_token(), r3);
    QCOMPARE(q.waitingGetters(), 3);
    s2.request_stop();    // the middle getter leaves the line
    QVERIFY(q.tryPut(1)); // goes to getter 1
    s1.request_stop();    // too late: getter 1 already has its item
    QVERIFY(q.tryPut(2)); // goes to getter 3
    QTRY_VERIFY(r3.value.has_value());
    QCOMPARE(r1.value, std::optional<int>(1));
    QVERIFY(!r1.cancelled);
    QVERIFY(r2.cancelled);
    QCOMPARE(r3.value, std::optional<int>(2));
    QCOMPARE(q.size(), 0);
    QCOMPARE(q.waitingGetters(), 0);
}

void tst_AsyncQueue::cancelledPutLeavesMoveOnlyItemForRetry()
{
    AsyncQueue<std::unique_ptr<int>> q(1);
    QVERIFY(q.tryPut(std::make_unique<int>(0)));
    std::stop_source stop;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto item = std::make_unique<int>(5);
        QTimer::singleShot(0, [&] { stop.request_stop(); });
        QTAIO_VERIFY_THROWS(QtAio::CancelledError,
                            co_await q.put(std::move(item), stop.get_token()), "cancelled");
        QTAIO_VERIFY(item != nullptr); // untouched
        QTAIO_VERIFY_THROWS(QtAio::TimeoutError, co_await q.put(std::move(item), 5ms), "timed out");
        QTAIO_VERIFY(item != nullptr);
        (void)q.tryGet();
        co_await q.put(std::move(item)); // the retry succeeds
        QTAIO_VERIFY(item == nullptr);
        auto back = co_await q.get();
        QTAIO_COMPARE(*back, 5);
    }));
}

void tst_AsyncQueue::putAndGetTimeouts()
{
    AsyncQueue<int> q(1);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTAIO_VERIFY_THROWS(QtAio::TimeoutError, co_await q.get(5ms), "AsyncQueue::get");
        QTAIO_VERIFY(q.tryPut(1));
        QTAIO_VERIFY_THROWS(QtAio::TimeoutError, co_await q.put(2, 5ms), "AsyncQueue::put");
        QTAIO_COMPARE(q.waitingPutters(), 0);
        QTAIO_COMPARE(co_await q.get(0ms), 1); // an item that is there is taken at once
    }));
}

void tst_AsyncQueue::taskDoneUnderflowIsRejected()
{
    AsyncQueue<int> q;
    QTAIO_VERIFY_THROWS_SYNC(std::logic_error, q.taskDone(), "more times than items were put");
    QVERIFY(q.tryPut(1));
    q.taskDone();
    QTAIO_VERIFY_THROWS_SYNC(std::logic_error, q.taskDone(), "taskDone");
}

void tst_AsyncQueue::joinOnEmptyQueueReturnsAtOnce()
{
    AsyncQueue<int> q;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        co_await q.join();
        co_await q.join();
    }));
}

void tst_AsyncQueue::joinWithTwoWorkers()
{
    AsyncQueue<int> q;
    int sum = 0;
    int processed = 0;
    auto worker = [&]() -> QCoro::Task<> {
        while (true) {
            int item = 0;
            try {
                item = co_await q.get();
            } catch (const QtAio::QueueClosedError &) {
                co_return;
            }
            sum += item;
            ++processed;
            q.taskDone();
        }
    };
    auto w1 = worker();
    auto w2 = worker();
    QSignalSpy allDone(&q, &AsyncQueue<int>::allTasksDone);
    QVERIFY(allDone.isValid());
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        for (int i = 0; i < 100; ++i)
            co_await q.put(i);
        co_await q.join();
        QTAIO_COMPARE(processed, 100);
        QTAIO_COMPARE(sum, 4950);
        QTAIO_COMPARE(q.unfinishedTasks(), 0);
        q.close();
    }));
    QVERIFY(allDone.count() >= 1);
}

void tst_AsyncQueue::drainClose()
{
    AsyncQueue<int> q(2);
    QVERIFY(q.tryPut(1));
    QVERIFY(q.tryPut(2));
    QSignalSpy closedSpy(&q, &AsyncQueue<int>::closedChanged);
    QVERIFY(closedSpy.isValid());
    bool putterFailed = false;
    auto putter = [&]() -> QCoro::Task<> {
        try {
            co_await q.put(3);
        } catch (const QtAio::QueueClosedError &) {
            putterFailed = true;
        }
    };
    auto task = putter();
    q.close(CloseMode::Drain);
    QCOMPARE(closedSpy.count(), 1);
    QCOMPARE(closedSpy.at(0).at(0).toBool(), true);
    QVERIFY(q.isClosed());
    QTRY_VERIFY(putterFailed);
    QTAIO_VERIFY_THROWS_SYNC(QtAio::QueueClosedError, (void)q.tryPut(4), "closed");
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTAIO_COMPARE(co_await q.get(), 1);
        QTAIO_COMPARE(q.tryGet(), std::optional<int>(2));
        QTAIO_VERIFY_THROWS(QtAio::QueueClosedError, co_await q.get(), "closed");
        QTAIO_VERIFY_THROWS(QtAio::QueueClosedError, (void)q.tryGet(), "drained");
        QTAIO_VERIFY_THROWS(QtAio::QueueClosedError, co_await q.put(5), "closed");
    }));
    QCOMPARE(q.unfinishedTasks(), 2); // items taken still need their taskDone()
}

void tst_AsyncQueue::immediateClose()
{
    AsyncQueue<int> q(3);
    for (int i = 0; i < 3; ++i)
        QVERIFY(q.tryPut(i));
    QCOMPARE(q.tryGet(), std::optional<int>(0)); // taken, not yet done
    QSignalSpy allDone(&q, &AsyncQueue<int>::allTasksDone);
    QVERIFY(allDone.isValid());
    bool joined = false;
    auto joiner = [&]() -> QCoro::Task<> {
        co_await q.join();
        joined = true;
    };
    auto task = joiner();
    std::vector<int> got;
    q.close(CloseMode::Immediate);
    QCOMPARE(q.size(), 0);
    QCOMPARE(q.unfinishedTasks(), 1); // the two queued items were discarded
    QCOMPARE(allDone.count(), 0);
    QCoreApplication::processEvents();
    QVERIFY(!joined);
    q.taskDone(); // for the item taken before the close
    QCOMPARE(allDone.count(), 1);
    QTRY_VERIFY(joined);
    QTAIO_VERIFY_THROWS_SYNC(QtAio::QueueClosedError, (void)q.tryGet(), "closed");

    // Immediate close with nothing taken releases join at once.
    AsyncQueue<int> q2;
    QVERIFY(q2.tryPut(1));
    QSignalSpy allDone2(&q2, &AsyncQueue<int>::allTasksDone);
    q2.close(CloseMode::Immediate);
    QCOMPARE(q2.unfinishedTasks(), 0);
    QCOMPARE(allDone2.count(), 1);
}

void tst_AsyncQueue::growingMaxSizeAdmitsPutters()
{
    AsyncQueue<int> q(1);
    QVERIFY(q.tryPut(0));
    bool done = false;
    auto producer = produce(q, {1, 2}, done);
    QCOMPARE(q.waitingPutters(), 1);
    q.setMaxSize(3);
    QCOMPARE(q.size(), 2); // admitted at once ...
    QTRY_VERIFY(done);     // ... the putter then puts its second item too
    QCOMPARE(q.size(), 3);
    q.setMaxSize(1); // shrinking drops nothing
    QCOMPARE(q.size(), 3);
    QVERIFY(q.isFull());
    QVERIFY(!q.tryPut(9));
}

void tst_AsyncQueue::blockingFormsShareTheFifo()
{
    AsyncQueue<int> q;
    QThreadPool pool;
    std::atomic<int> fromPool = -1;
    std::vector<int> got;
    auto first = consume(q, got, 1); // a coroutine getter, first in line
    pool.start([&] { fromPool = q.getBlocking(60s); });
    QTRY_COMPARE(q.waitingGetters(), 2);
    QVERIFY(q.tryPut(1));
    QVERIFY(q.tryPut(2));
    QVERIFY(pool.waitForDone(60000));
    QTRY_COMPARE(got, std::vector<int>{1});
    QCOMPARE(fromPool.load(), 2);

    std::jthread([&] {
        QtAio::AsyncQueue<int> &queue = q;
        try {
            queue.getBlocking(5ms);
        } catch (const QtAio::TimeoutError &) {
            fromPool = -2;
        }
    }).join();
    QCOMPARE(fromPool.load(), -2);
}

void tst_AsyncQueue::signalsOnHomeThread()
{
    AsyncQueue<int> q(2);
    QSignalSpy size(&q, &AsyncQueue<int>::sizeChanged);
    QSignalSpy put(&q, &AsyncQueue<int>::itemsPut);
    QSignalSpy taken(&q, &AsyncQueue<int>::itemsTaken);
    QSignalSpy full(&q, &AsyncQueue<int>::fullChanged);
    QSignalSpy empty(&q, &AsyncQueue<int>::emptyChanged);
    QSignalSpy unfinished(&q, &AsyncQueue<int>::unfinishedTasksChanged);
    QSignalSpy allDone(&q, &AsyncQueue<int>::allTasksDone);
    QSignalSpy highWater(&q, &AsyncQueue<int>::highWaterMarkChanged);
    QVERIFY(size.isValid() && put.isValid() && taken.isValid() && allDone.isValid());
    QVERIFY(q.tryPut(1));
    QVERIFY(q.tryPut(2));
    QCOMPARE(size.count(), 2);
    QCOMPARE(size.at(1).at(0).toInt(), 2);
    QCOMPARE(put.count(), 2);
    QCOMPARE(full.count(), 1);
    QCOMPARE(empty.count(), 1);
    QCOMPARE(highWater.count(), 2);

    // A get that admits a waiting putter leaves size unchanged and reports one of each.
    bool done = false;
    auto producer = produce(q, {3}, done);
    size.clear();
    put.clear();
    QCOMPARE(q.tryGet(), std::optional<int>(1));
    QCOMPARE(size.count(), 0);
    QCOMPARE(taken.count(), 1);
    QCOMPARE(taken.at(0).at(0).toInt(), 1);
    QCOMPARE(put.count(), 1);
    QCOMPARE(put.at(0).at(0).toInt(), 1);

    QTRY_VERIFY(done); // the producer's frame refers to this test's locals
    (void)q.tryGet();
    (void)q.tryGet();
    for (int i = 0; i < 3; ++i)
        q.taskDone();
    QCOMPARE(allDone.count(), 1);
    QCOMPARE(unfinished.last().at(0).toInt(), 0);
}

void tst_AsyncQueue::signalsFromOtherThreadsAreCoalescedWithExactTotals()
{
    AsyncQueue<int> q;
    int putTotal = 0, takenTotal = 0, putEmissions = 0, lastSize = -1;
    bool homeThread = true;
    connect(&q, &AsyncQueue<int>::itemsPut, this, [&](int n) {
        putTotal += n;
        ++putEmissions;
        homeThread &= QThread::currentThread() == thread();
    });
    connect(&q, &AsyncQueue<int>::itemsTaken, this, [&](int n) { takenTotal += n; });
    connect(&q, &AsyncQueue<int>::sizeChanged, this, [&](int s) {
        lastSize = s;
        homeThread &= QThread::currentThread() == thread();
    });
    constexpr int threads = 4, perThread = 2500;
    std::vector<std::jthread> producers;
    for (int t = 0; t < threads; ++t)
        producers.emplace_back([&] {
            for (int i = 0; i < perThread; ++i)
                q.putBlocking(i);
        });
    producers.clear();
    std::jthread([&] {
        for (int i = 0; i < 1000; ++i)
            q.getBlocking();
    }).join();
    QTRY_COMPARE(putTotal, threads * perThread);
    QTRY_COMPARE(takenTotal, 1000);
    QTRY_COMPARE(lastSize, threads * perThread - 1000);
    QVERIFY(homeThread);
    QVERIFY(putEmissions < threads * perThread);
}

void tst_AsyncQueue::nextEndsAConsumerLoopWithoutAnException()
{
    AsyncQueue<int> q;
    QVERIFY(q.tryPut(1));
    QVERIFY(q.tryPut(2));
    std::vector<int> seen;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTimer::singleShot(10, [&] {
            (void)q.tryPut(3);
            q.close(); // drain: the loop takes 3, then ends
        });
        while (auto item = co_await q.next())
            seen.push_back(*item);
        // A stop still throws.
        std::stop_source stop;
        stop.request_stop();
        AsyncQueue<int> other;
        QTAIO_VERIFY_THROWS(QtAio::CancelledError, (void)co_await other.next(stop.get_token()),
                            "cancelled");
    }));
    QCOMPARE(seen, (std::vector<int>{1, 2, 3}));
}

void tst_AsyncQueue::requestsAwaitedAsNamedObjects()
{
    // put() and get() return requests; co_await builds the wait from them, also when they are
    // named first (a put request then as an rvalue: the caller vouches that the item lives).
    // put(const T&) keeps its own copy of the item until it is admitted.
    AsyncQueue<std::string> q(1);
    std::string first = "first";
    std::string second = "second";
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto putFirst = q.put(std::move(first));
        auto putSecond = q.put(std::as_const(second));
        second = "changed after the request";
        co_await std::move(putFirst);
        auto putter = [&]() -> QCoro::Task<> { co_await std::move(putSecond); }; // waits for room
        auto putting = putter();
        auto getFirst = q.get();
        QTAIO_COMPARE(co_await getFirst, std::string("first"));
        co_await putting;
        auto getSecond = q.get(60s);
        QTAIO_COMPARE(co_await getSecond, std::string("second"));
    }));
    QCOMPARE(q.size(), 0);
}

void tst_AsyncQueue::sameThreadHandOffsLetOtherEventsRun()
{
    // Two coroutines hand items back and forth without end; one resume event runs many of
    // those hand-offs, but not so many that a timer or a posted call never gets its turn.
    AsyncQueue<int> q(1);
    std::stop_source stop;
    long long handedOff = 0;
    auto producer = [&]() -> QCoro::Task<> {
        try {
            for (int i = 0;; ++i)
                co_await q.put(i, stop.get_token());
        } catch (const QtAio::CancelledError &) {
        }
    };
    auto consumer = [&]() -> QCoro::Task<> {
        try {
            while (true) {
                (void)co_await q.get(stop.get_token());
                ++handedOff;
            }
        } catch (const QtAio::CancelledError &) {
        }
    };
    auto consuming = consumer();
    auto producing = producer();
    bool posted = false;
    bool timerFired = false;
    QMetaObject::invokeMethod(
        this, [&] { posted = true; }, Qt::QueuedConnection);
    QTimer::singleShot(20ms, this, [&] {
        timerFired = true;
        stop.request_stop();
    });
    QTRY_VERIFY_WITH_TIMEOUT(timerFired, 60000);
    QVERIFY(posted);
    QVERIFY(handedOff > 0);
    QTRY_VERIFY(consuming.isReady() && producing.isReady());
}

void tst_AsyncQueue::nestedEventLoopInResumedCoroutine()
{
    // A coroutine resumed by a resume event (first round or later ones) spins a nested event
    // loop that only ends once another coroutine of the same thread has resumed.
    AsyncQueue<int> q(1);
    constexpr int items = 8;
    int nestedLoopsEnded = 0;
    auto producer = [&]() -> QCoro::Task<> {
        for (int i = 0; i < items; ++i)
            co_await q.put(i);
    };
    auto consumer = [&]() -> QCoro::Task<> {
        for (int i = 0; i < items; ++i) {
            QTAIO_COMPARE(co_await q.get(), i);
            QtAio::Latch latch(1);
            QEventLoop loop;
            bool resumed = false;
            auto waiter = [&]() -> QCoro::Task<> {
                co_await latch.wait();
                resumed = true;
                loop.quit();
            };
            auto waiting = waiter();
            latch.countDown(); // schedules `waiting` on this very thread
            QTimer::singleShot(30s, &loop, &QEventLoop::quit); // fails instead of hanging
            loop.exec();
            QTAIO_VERIFY(resumed);
            ++nestedLoopsEnded;
        }
    };
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto producing = producer();
        co_await consumer();
        co_await producing;
    }));
    QCOMPARE(nestedLoopsEnded, items);
}

void tst_AsyncQueue::workerThreadFeedsGuiCoroutine()
{
    AsyncQueue<QString> lines(8);
    std::jthread worker([&] {
        for (int i = 0; i < 100; ++i)
            lines.putBlocking(QString::number(i));
        lines.close();
    });
    QStringList received;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        const QThread *gui = QThread::currentThread();
        while (true) {
            try {
                received << co_await lines.get();
            } catch (const QtAio::QueueClosedError &) {
                break;
            }
            QTAIO_VERIFY(QThread::currentThread() == gui);
        }
    }));
    QCOMPARE(received.size(), 100);
    QCOMPARE(received.last(), QStringLiteral("99"));
}

void tst_AsyncQueue::destroyingWithWaitersCancelsThem()
{
    auto *q = new AsyncQueue<int>(1);
    QVERIFY(q->tryPut(1));
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTimer::singleShot(0, [&] { delete q; });
        QTAIO_VERIFY_THROWS(QtAio::CancelledError, co_await q->put(2), "destroyed");
    }));
}

void tst_AsyncQueue::modelBasedRandomized()
{
    QVERIFY((QtAioTest::runModel<QtAioTest::SequenceModel<false>,
                                 QtAioTest::SequenceAdapter<AsyncQueue<int>>>(100000)));
}

void tst_AsyncQueue::stressProducersAndConsumersOnSeveralThreads()
{
    // 4 producer threads put 1M items in all, with random timeouts (retried: a timed-out put
    // leaves its item with the producer); consumer coroutines on two event-loop threads and
    // the main thread take with random timeouts and cancellations. Checksums prove that every
    // item is taken exactly once.
    constexpr int producers = 4;
    constexpr long perProducer = 250000;
    AsyncQueue<long> q(64);
    std::atomic<long> takenCount = 0;
    std::atomic<long long> takenSum = 0;
    std::atomic<long long> takenXor = 0;
    std::atomic<int> consumersDone = 0;
    std::atomic<int> producersFinished = 0;
    auto consumer = [&](unsigned seed) -> QCoro::Task<> {
        std::mt19937 random(seed);
        while (true) {
            try {
                long v = 0;
                const unsigned r = random() % 16;
                if (r == 0) {
                    std::stop_source stop;
                    stop.request_stop();
                    v = co_await q.get(stop.get_token());
                } else if (r < 4) {
                    v = co_await q.get(std::chrono::microseconds(random() % 300));
                } else {
                    v = co_await q.get();
                }
                ++takenCount;
                takenSum += v;
                takenXor ^= v * 2654435761LL;
            } catch (const QtAio::TimeoutError &) {
            } catch (const QtAio::CancelledError &) {
            } catch (const QtAio::QueueClosedError &) {
                ++consumersDone;
                co_return;
            }
        }
    };
    QtAioTest::EventLoopThread a, b;
    unsigned seed = 7;
    for (auto *t : {&a, &b})
        t->invoke([&] {
            for (int i = 0; i < 2; ++i)
                consumer(seed++);
        });
    auto local = consumer(seed++);
    std::vector<std::jthread> threads;
    for (int p = 0; p < producers; ++p)
        threads.emplace_back([&, p] {
            std::mt19937 random(100 + p);
            for (long i = 0; i < perProducer; ++i) {
                long v = p * perProducer + i;
                while (true) {
                    try {
                        if (random() % 8 == 0)
                            q.putBlocking(std::move(v), std::chrono::microseconds(random() % 200));
                        else
                            q.putBlocking(std::move(v));
                        break;
                    } catch (const QtAio::TimeoutError &) {
                    }
                }
            }
            ++producersFinished;
        });
    // The main thread's consumer runs while QTRY spins the event loop.
    QTRY_VERIFY_WITH_TIMEOUT(producersFinished.load() == producers, 600000);
    threads.clear();
    q.close();
    QTRY_COMPARE_WITH_TIMEOUT(consumersDone.load(), 5, 600000);
    const long n = producers * perProducer;
    long long xorExpected = 0;
    for (long v = 0; v < n; ++v)
        xorExpected ^= v * 2654435761LL;
    QCOMPARE(takenCount.load(), n);
    QCOMPARE(takenSum.load(), static_cast<long long>(n) * (n - 1) / 2);
    QCOMPARE(takenXor.load(), xorExpected);
}

void tst_AsyncQueue::getterAfterBlockingStreamEndsOnClose()
{
    AsyncQueue<int> q(8);
    putStreamFromThread(q, 6);
    AfterStream closer([&q] { q.close(); });
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTAIO_VERIFY(co_await takeStream(q, 6, closer));
        QTAIO_COMPARE(co_await q.next(), std::optional<int>()); // closed while empty
        QTAIO_VERIFY_THROWS(QtAio::QueueClosedError, co_await q.get(), "closed");
    }));
    QCOMPARE(q.waitingGetters(), 0);
}

void tst_AsyncQueue::getterAfterBlockingStreamHonoursStop()
{
    AsyncQueue<int> q(8);
    putStreamFromThread(q, 6);
    std::stop_source requested;
    requested.request_stop();
    std::stop_source stop;
    AfterStream stopper([&stop] { stop.request_stop(); });
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTAIO_VERIFY(co_await takeStream(q, 6, stopper));
        // Stopped from another thread while the get spins or waits.
        QTAIO_VERIFY_THROWS(QtAio::CancelledError, co_await q.get(stop.get_token()), "cancelled");
        // Stopped before the get, which finds the queue empty after a stream again.
        putStreamFromThread(q, 6);
        for (int i = 0; i < 6; ++i)
            QTAIO_COMPARE(co_await q.get(), i);
        QTAIO_VERIFY_THROWS(QtAio::CancelledError, co_await q.get(requested.get_token()),
                            "cancelled");
        // Nothing was lost or left waiting: the next item goes to the next get.
        QTAIO_VERIFY(q.tryPut(7));
        QTAIO_COMPARE(co_await q.get(), 7);
    }));
    QCOMPARE(q.waitingGetters(), 0);
    QCOMPARE(q.size(), 0);
}

void tst_AsyncQueue::getterAfterBlockingStreamTakesLateItem()
{
    AsyncQueue<int> q(8);
    putStreamFromThread(q, 6);
    AfterStream producer([&q] {
        q.putBlocking(42);
        q.putBlocking(43);
    });
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTAIO_VERIFY(co_await takeStream(q, 6, producer));
        QTAIO_COMPARE(co_await q.get(), 42); // however it arrives: in the spin, or at a wake-up
        QTAIO_COMPARE(co_await q.get(std::chrono::hours(1)), 43);
    }));
    QCOMPARE(q.size(), 0);
    QCOMPARE(q.unfinishedTasks(), 8);
}

void tst_AsyncQueue::blockingProducersKeepOrderAndEveryItemOnce()
{
    // Several putBlocking threads into a small bounded queue drained by one coroutine: the
    // consumer finds the queue empty and full by turns, spins and suspends. Each producer's
    // items arrive in its order, every item exactly once.
    constexpr int producers = 4;
    constexpr int perProducer = 10000;
    AsyncQueue<int> q(16);
    std::vector<std::jthread> threads;
    for (int p = 0; p < producers; ++p)
        threads.emplace_back([&q, p] {
            for (int i = 0; i < perProducer; ++i)
                q.putBlocking(p * perProducer + i);
        });
    std::vector<int> next(producers, 0);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        for (int n = 0; n < producers * perProducer; ++n) {
            const int v = co_await q.get();
            const int p = v / perProducer;
            QTAIO_VERIFY(p >= 0 && p < producers);
            QTAIO_COMPARE(v % perProducer, next[p]);
            ++next[p];
        }
    }));
    threads.clear();
    for (int p = 0; p < producers; ++p)
        QCOMPARE(next[p], perProducer);
    QCOMPARE(q.size(), 0);
    QCOMPARE(q.waitingPutters(), 0);
}

void tst_AsyncQueue::blockingPutOnFullQueueEndsOnCloseGrowthOrStop()
{
    // A putBlocking() that finds the queue full spins a moment for room, then blocks: closing
    // the queue, a larger maxSize or the put's stop ends it as it should, whether it comes
    // before the put looks, during its spin or once it waits.
    enum Outcome { Pending, Put, Closed, Cancelled };
    for (int round = 0; round < 300; ++round) {
        const int how = round % 3;
        AsyncQueue<int> q(4);
        for (int i = 0; i < 4; ++i)
            QVERIFY(q.tryPut(i));
        std::stop_source stop;
        std::atomic<int> outcome = Pending;
        std::atomic<bool> started = false;
        std::jthread putter([&] {
            started = true;
            try {
                q.putBlocking(4, stop.get_token());
                outcome = Put;
            } catch (const QtAio::QueueClosedError &) {
                outcome = Closed;
            } catch (const QtAio::CancelledError &) {
                outcome = Cancelled;
            }
        });
        while (!started)
            std::this_thread::yield();
        if (how == 0)
            q.close();
        else if (how == 1)
            q.setMaxSize(5);
        else
            stop.request_stop();
        putter.join();
        QCOMPARE(outcome.load(), how == 0 ? Closed : how == 1 ? Put : Cancelled);
        QCOMPARE(q.size(), how == 1 ? 5 : 4);
        QCOMPARE(q.waitingPutters(), 0);
    }
}

void tst_AsyncQueue::blockingPutDoesNotPassAWaitingPutter()
{
    // A putter that finds others waiting queues behind them at once: FIFO among putters.
    AsyncQueue<int> q(2);
    QVERIFY(q.tryPut(0));
    QVERIFY(q.tryPut(1));
    std::jthread first([&q] { q.putBlocking(10); });
    QTRY_COMPARE(q.waitingPutters(), 1);
    std::jthread second([&q] { q.putBlocking(20); });
    QTRY_COMPARE(q.waitingPutters(), 2);
    std::vector<int> got;
    for (int i = 0; i < 4; ++i) {
        std::optional<int> v = q.tryGet();
        QVERIFY(v);
        got.push_back(*v);
        QCOMPARE(q.size(), i < 2 ? 2 : 3 - i); // each of the first two gets admits a putter
    }
    QCOMPARE(got, (std::vector<int>{0, 1, 10, 20}));
    QCOMPARE(q.waitingPutters(), 0);
}

QTEST_GUILESS_MAIN(tst_AsyncQueue)
#include "tst_asyncqueue.moc"
