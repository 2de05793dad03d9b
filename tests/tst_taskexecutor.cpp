// SPDX-License-Identifier: MIT
#include "qtaiotest.h"

#include <qtaio/errors.h>
#include <qtaio/latch.h>
#include <qtaio/semaphore.h>
#include <qtaio/taskexecutor.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QThreadPool>
#include <QtTest/QSignalSpy>

#include <qcoro/qcorotask.h>
#include <qcoro/qcorotimer.h>

#include <QtCore/QRegularExpression>

#include <atomic>
#include <functional>
#include <numeric>
#include <optional>
#include <memory>
#include <stdexcept>
#include <set>
#include <stop_token>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using QtAio::GatherOptions;
using QtAio::TaskExecutor;
using QtAio::TaskHandle;

namespace {

//! Counts how many tasks run at once and the peak.
struct Concurrency {
    int now = 0;
    int peak = 0;
    void enter() { peak = std::max(peak, ++now); }
    void leave() { --now; }
};

//! Concurrency of pool threads: how many calls run at once, at most.
struct SharedConcurrency {
    std::atomic<int> now = 0;
    std::atomic<int> peak = 0;
    void enter()
    {
        const int inside = ++now;
        int seen = peak.load();
        while (seen < inside && !peak.compare_exchange_weak(seen, inside)) {
        }
    }
    void leave() { --now; }
};

std::vector<int> iotaVector(int n)
{
    std::vector<int> values(std::size_t(n), 0);
    std::iota(values.begin(), values.end(), 0);
    return values;
}

//! The cause nested in an ExecutionError, as its what().
std::string nestedCause(const QtAio::ExecutionError &error)
{
    try {
        std::rethrow_if_nested(error);
    } catch (const std::exception &cause) {
        return cause.what();
    }
    return {};
}

} // namespace

class tst_TaskExecutor : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void runYieldsTheResult();
    void runFailureIsNestedInExecutionError();
    void runTimeoutStopsTheWorkAndKeepsItTracked();
    void runTimeoutOfAStartedTaskReportsItsLaterFailure();
    void startedTaskWaitingForASlotStaysTrackedWhenItsWaitEnds_data();
    void startedTaskWaitingForASlotStaysTrackedWhenItsWaitEnds();
    void gatherKeepsInputOrderUnderACallLimit_data();
    void gatherKeepsInputOrderUnderACallLimit();
    void executorLimitCapsEverything();
    void gatherFailsFastWithoutOrphans();
    void gatherStartsNothingAfterAFailureAtTheLimit_data();
    void gatherStartsNothingAfterAFailureAtTheLimit();
    void nestedWorkOnOneExecutorRunsInTheTasksSlot();
    void nestedGatherUnderALimitOfOne();
    void nestedRunInThreadStillSeesItsStop();
    void gatherOfStartedTasksOfAnyTypes();
    void spawnedTaskHandles();
    void moveOnlyResults();
    void gatherSettledReportsEveryOutcome();
    void gatherOfVoidTasks();
    void mapZipsRangesAndRunsPlainFunctionsOnThePool();
    void mapOverGeneratedInputStaysBounded();
    void gatherOfNothingIsEmpty();
    void executorInAWorkerThread();
    void mapSettled();
    void plainMapRunsInBlocksInInputOrder();
    void plainMapFailsFastNamingTheItem();
    void plainMapRespectsTheLimits_data();
    void plainMapRespectsTheLimits();
    void stoppingAPlainMapMidway_data();
    void stoppingAPlainMapMidway();
    void asCompletedAndInOrderStreams();
    void asCompletedYieldsTheInputIndex();
    void internalGateIsFifoAndCompletionWins();
    void inOrderLimitAndWindowAreSeparate_data();
    void inOrderLimitAndWindowAreSeparate();
    void streamsFailFastAndStopWhenAbandoned();
    void runInThreadResumesOnTheCallerAndNestsErrors();
    void aBlockedPoolCallDoesNotHoldBackTheNext();
    void aLongBurstLetsOtherPoolWorkRun();
    void aLaunchingCallLetsOtherPoolWorkRun();
    void clearingThePoolDoesNotStrandCalls();
    void waitingTasksStartInOrderAndCanBeCancelled();
    void spawnReportsFailures();
    void cancelAllAndShutdown();
    void cancelAllStopsACallFromStartingMore();
    void cancelAllAwaitedInsideATaskLeavesOutTheTasksAwaitingIt_data();
    void cancelAllAwaitedInsideATaskLeavesOutTheTasksAwaitingIt();
    void destroyingWithWorkInFlightNeitherCrashesNorBlocks();
    void negativeLimitIsRejected();
    void countersAndSignals();
    void itemsThatEndAtOnceAreTasksEachWithCountersAndSignals();
    void anItemThatFailsAtOnceStopsTheGatherWithItsIndex();
    void loweringTheLimitMidGatherHoldsBackNewStarts();
    void aFinishedItemsSlotGoesToARunWaitingAheadOfTheNextItem();
    void anItemThatEndedAtOnceLetsASpawnWaitingForItsSlotGoFirst();
    void destroyingTheExecutorMidGatherStopsAndReleasesIt();
    void resultsKeepInputOrderWhateverTheInput();
    void anInputLongerThanItsSizeFailsTheCall();
    void inlineItemsStartNestedWorkInTheirSlot();
    void gatheredRunInThreadCallsFinishTheirItems();
    void aThrowingGatheredCallFailsItsItem();
    void cancellingGatheredCalls();
    void shutdownWithGatheredCallsStillQueued();
    void destroyingTheExecutorWithGatheredCallsQueued();
    void gatheredRunInThreadCallsOnAWorkerThread();
};

void tst_TaskExecutor::runYieldsTheResult()
{
    TaskExecutor executor;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto factory = []() -> QCoro::Task<int> { co_return 42; };
        QTAIO_COMPARE(co_await executor.run(factory), 42);
        auto later = []() -> QCoro::Task<QString> {
            co_await QCoro::sleepFor(1ms);
            co_return QStringLiteral("later");
        };
        QTAIO_COMPARE(co_await executor.run(later, 60s), QStringLiteral("later"));
        QTAIO_COMPARE(executor.completed(), 2);
    }));
}

void tst_TaskExecutor::runFailureIsNestedInExecutionError()
{
    TaskExecutor executor;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto failing = []() -> QCoro::Task<int> {
            throw std::runtime_error("disk full");
            co_return 0;
        };
        try {
            co_await executor.run(failing);
            QTAIO_FAIL("no exception");
        } catch (const QtAio::ExecutionError &e) {
            QTAIO_COMPARE(nestedCause(e), std::string("disk full"));
            QTAIO_VERIFY(std::string(e.what()).find("disk full") != std::string::npos);
        }
        QTAIO_COMPARE(executor.failed(), 1);
    }));
}

void tst_TaskExecutor::runTimeoutStopsTheWorkAndKeepsItTracked()
{
    TaskExecutor executor;
    QtAio::Latch stopSeen(1);
    QtAio::Latch release(1);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto slow = [&](std::stop_token stop) -> QCoro::Task<int> {
            std::stop_callback onStop(stop, [&] { stopSeen.countDown(); });
            co_await release.wait(); // ignores its stop until released
            co_return 1;
        };
        QTAIO_VERIFY_THROWS(QtAio::TimeoutError, co_await executor.run(slow, 10ms), "timed out");
        QTAIO_VERIFY(co_await stopSeen.wait(60s)); // the work was asked to stop
        QTAIO_COMPARE(executor.running(), 1);      // and is still tracked
        release.countDown();
        co_await executor.cancelAll(); // returns once the work has ended
        QTAIO_COMPARE(executor.running(), 0);
    }));
}

void tst_TaskExecutor::runTimeoutOfAStartedTaskReportsItsLaterFailure()
{
    TaskExecutor executor;
    QSignalSpy failed(&executor, &TaskExecutor::taskFailed);
    QVERIFY(failed.isValid());
    QtAio::Latch gate(1);
    auto work = [&]() -> QCoro::Task<int> {
        co_await gate.wait();
        throw std::runtime_error("late failure");
    };
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto started = work(); // already running: QCoro tasks are eager
        QTAIO_VERIFY_THROWS(QtAio::TimeoutError, co_await executor.run(std::move(started), 10ms),
                            "timed out");
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("late failure")));
        gate.countDown();
        co_await executor.cancelAll();
    }));
    QCOMPARE(failed.count(), 1);
    QCOMPARE(failed.at(0).at(1).toString(), QStringLiteral("late failure"));
}

void tst_TaskExecutor::startedTaskWaitingForASlotStaysTrackedWhenItsWaitEnds_data()
{
    QTest::addColumn<bool>("byTimeout");
    QTest::newRow("the run's timeout") << true;
    QTest::newRow("cancelAll()") << false;
}

void tst_TaskExecutor::startedTaskWaitingForASlotStaysTrackedWhenItsWaitEnds()
{
    // A started task cannot be stopped: when the stop that ends its wait for a slot comes
    // (a timeout, cancelAll()), it stays tracked, and its later failure reaches someone.
    QFETCH(bool, byTimeout);
    TaskExecutor executor;
    executor.setLimit(1);
    QSignalSpy failed(&executor, &TaskExecutor::taskFailed);
    QVERIFY(failed.isValid());
    QtAio::Latch holdSlot(1);
    QtAio::Latch gate(1);
    auto work = [&]() -> QCoro::Task<int> {
        co_await gate.wait();
        throw std::runtime_error("late failure");
    };
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto holder = executor.spawn([&]() -> QCoro::Task<> { co_await holdSlot.wait(); });
        QTAIO_COMPARE(executor.running(), 1); // the only slot is taken
        auto started = work();                // already running: QCoro tasks are eager
        if (byTimeout) {
            QTAIO_VERIFY_THROWS(QtAio::TimeoutError,
                                co_await executor.run(std::move(started), 10ms), "timed out");
            QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("late failure")));
            gate.countDown();
            holdSlot.countDown();
            co_await executor.cancelAll(); // returns once the started task has ended
        } else {
            auto running = executor.run(std::move(started));
            QTAIO_COMPARE(executor.waiting(), 1);
            auto cancelling = executor.cancelAll(); // ends the run's wait for a slot
            QTAIO_VERIFY(!cancelling.isReady());    // the started task is still awaited
            gate.countDown();
            holdSlot.countDown();
            co_await cancelling;
            // The run's awaiter receives the failure itself (no warning).
            QTAIO_VERIFY_THROWS(QtAio::ExecutionError, co_await running, "late failure");
        }
        QTAIO_COMPARE(executor.running() + executor.waiting(), 0);
    }));
    QCOMPARE(failed.count(), 1);
    QCOMPARE(failed.at(0).at(1).toString(), QStringLiteral("late failure"));
}

void tst_TaskExecutor::gatherKeepsInputOrderUnderACallLimit_data()
{
    QTest::addColumn<int>("limit");
    QTest::addColumn<int>("expectedPeak");
    QTest::newRow("limit 1") << 1 << 1;
    QTest::newRow("limit 3") << 3 << 3;
    QTest::newRow("no limit (0)") << 0 << 10;
    QTest::newRow("no limit (negative)") << -1 << 10;
}

void tst_TaskExecutor::gatherKeepsInputOrderUnderACallLimit()
{
    QFETCH(int, limit);
    QFETCH(int, expectedPeak);
    TaskExecutor executor;
    Concurrency c;
    std::vector<std::function<QCoro::Task<int>()>> factories;
    for (int i = 0; i < 10; ++i) {
        factories.push_back([&c, i]() -> QCoro::Task<int> {
            c.enter();
            co_await QCoro::sleepFor(std::chrono::milliseconds(10 - i)); // finish out of order
            c.leave();
            co_return i *i;
        });
    }
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        const GatherOptions options{limit};
        const QList<int> results = co_await executor.gather(std::move(factories), options);
        QTAIO_COMPARE(results, (QList<int>{0, 1, 4, 9, 16, 25, 36, 49, 64, 81}));
    }));
    QCOMPARE(c.peak, expectedPeak);
}

void tst_TaskExecutor::executorLimitCapsEverything()
{
    TaskExecutor executor;
    executor.setLimit(2);
    Concurrency c;
    auto gate = std::make_unique<QtAio::Latch>(1);
    auto item = [&]() -> QCoro::Task<int> {
        c.enter();
        co_await gate->wait();
        c.leave();
        co_return 1;
    };
    std::vector<std::function<QCoro::Task<int>()>> a(4, item), b(4, item);
    int total = 0;
    auto runBoth = [&]() -> QCoro::Task<> {
        const GatherOptions three{3};
        auto first = executor.gather(a, three);
        auto second = executor.gather(b);
        total += (co_await std::move(first)).size();
        total += (co_await std::move(second)).size();
    };
    auto task = runBoth();
    QTRY_COMPARE(executor.running(), 2);
    // Waiting for the executor's slot: 1 of the first call (its own limit holds back its
    // fourth item) and all 4 of the second.
    QCOMPARE(executor.waiting(), 5);
    gate->countDown();
    QTRY_COMPARE(total, 8);
    QCOMPARE(c.peak, 2);

    // Raising the limit starts waiting work at once.
    gate = std::make_unique<QtAio::Latch>(1);
    std::vector<std::function<QCoro::Task<int>()>> more(4, item);
    total = 0;
    auto third = [&]() -> QCoro::Task<> { total += (co_await executor.gather(more)).size(); };
    auto task3 = third();
    QTRY_COMPARE(executor.running(), 2);
    executor.setLimit(0);
    QTRY_COMPARE(executor.running(), 4);
    gate->countDown();
    QTRY_COMPARE(total, 4);
}

void tst_TaskExecutor::gatherFailsFastWithoutOrphans()
{
    TaskExecutor executor;
    int started = 0;
    int stopped = 0;
    std::vector<std::function<QCoro::Task<int>(std::stop_token)>> factories;
    for (int i = 0; i < 20; ++i) {
        factories.push_back([&, i](std::stop_token stop) -> QCoro::Task<int> {
            ++started;
            if (i == 2)
                throw std::invalid_argument("bad input 2");
            QtAio::Latch never(1);
            try {
                co_await never.wait(stop); // runs until stopped
            } catch (const QtAio::CancelledError &) {
                ++stopped;
                throw;
            }
            co_return i;
        });
    }
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        try {
            const GatherOptions options{4};
            (void)co_await executor.gather(std::move(factories), options);
            QTAIO_FAIL("no exception");
        } catch (const QtAio::ExecutionError &e) {
            QTAIO_COMPARE(e.index(), std::optional<std::size_t>(2));
            QTAIO_COMPARE(nestedCause(e), std::string("bad input 2"));
        }
        QTAIO_COMPARE(executor.running(), 0); // no orphans
        QTAIO_COMPARE(executor.waiting(), 0);
    }));
    // Item 2 fails as it starts (QCoro tasks are eager): items 0 and 1 are running and are
    // stopped and awaited; nothing after item 2 is started.
    QCOMPARE(started, 3);
    QCOMPARE(stopped, 2);
}

void tst_TaskExecutor::gatherStartsNothingAfterAFailureAtTheLimit_data()
{
    QTest::addColumn<bool>("failOnPool");
    QTest::newRow("fails on the event loop") << false;
    QTest::newRow("fails in a pool thread") << true;
}

void tst_TaskExecutor::gatherStartsNothingAfterAFailureAtTheLimit()
{
    // The call's limit is full (items 0 and 1) when item 1 fails: the permit item 1 gives back
    // must not start item 2, whichever thread the failure comes from.
    QFETCH(bool, failOnPool);
    TaskExecutor executor;
    std::vector<int> started;
    std::vector<std::function<QCoro::Task<int>(std::stop_token)>> factories;
    for (int i = 0; i < 6; ++i) {
        factories.push_back([&, i](std::stop_token stop) -> QCoro::Task<int> {
            started.push_back(i);
            if (i == 1) {
                co_await QCoro::sleepFor(20ms); // fails once both slots are taken
                if (failOnPool) {
                    co_await executor.runInThread([] { throw std::runtime_error("item 1"); });
                }
                throw std::runtime_error("item 1");
            }
            QtAio::Latch never(1);
            co_await never.wait(stop); // item 0 runs until stopped
            co_return i;
        });
    }
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        const GatherOptions options{2};
        QTAIO_VERIFY_THROWS(QtAio::ExecutionError,
                            (void)co_await executor.gather(std::move(factories), options),
                            "item 1");
    }));
    QCOMPARE(started, (std::vector<int>{0, 1}));
    QCOMPARE(executor.running(), 0);
}

void tst_TaskExecutor::nestedWorkOnOneExecutorRunsInTheTasksSlot()
{
    // The first program a new user writes: gathered items each run blocking work on the same
    // executor under its limit. The nested runInThread runs in its item's slot: no deadlock,
    // and never more than the limit running.
    TaskExecutor executor;
    executor.setLimit(3);
    int peakRunning = 0;
    connect(&executor, &TaskExecutor::runningChanged, this,
            [&](int running) { peakRunning = std::max(peakRunning, running); });
    std::atomic<int> inPool{0};
    std::atomic<int> peakInPool{0};
    std::vector<std::function<QCoro::Task<int>()>> factories;
    for (int i = 0; i < 8; ++i) {
        factories.push_back([&, i]() -> QCoro::Task<int> {
            // After QtAio awaits as well as before: a QtAio await keeps the task's context.
            QtAio::Latch later(1);
            (void)co_await later.wait(1ms);
            const int doubled = co_await executor.runInThread([&, i] {
                const int now = ++inPool;
                int peak = peakInPool.load();
                while (now > peak && !peakInPool.compare_exchange_weak(peak, now)) {
                }
                --inPool;
                return 2 * i;
            });
            const int plusOne = co_await executor.runInThread([](int v) { return v + 1; }, doubled);
            co_return plusOne;
        });
    }
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        const QList<int> results = co_await executor.gather(std::move(factories));
        QTAIO_COMPARE(results, (QList<int>{1, 3, 5, 7, 9, 11, 13, 15}));
        // From outside any task, runInThread takes a slot of its own as before.
        QTAIO_COMPARE(co_await executor.runInThread([] { return 7; }), 7);
    }));
    QVERIFY(peakRunning <= 3);
    QVERIFY(peakInPool.load() <= 3);
    QCOMPARE(executor.running(), 0);
    QCOMPARE(executor.failed(), 0);
}

void tst_TaskExecutor::nestedRunInThreadStillSeesItsStop()
{
    // A nested runInThread() that takes no stop token goes without a stop state of its own;
    // one that takes a token still gets a stop that cancelAll() requests.
    TaskExecutor executor;
    QtAio::Latch started(1);
    std::atomic<bool> sawStop = false;
    std::vector<std::function<QCoro::Task<int>()>> factories;
    factories.push_back([&]() -> QCoro::Task<int> {
        const int plain = co_await executor.runInThread([] { return 1; });
        const int stopped = co_await executor.runInThread([&](std::stop_token stop) {
            QtAio::Latch stopRequested(1);
            const std::stop_callback onStop(stop, [&] { stopRequested.countDown(); });
            started.countDown();
            stopRequested.waitBlocking();
            sawStop = true;
            return 2;
        });
        co_return plain + stopped;
    });
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto gathering = executor.gather(std::move(factories));
        co_await started.wait();
        co_await executor.cancelAll();
        const QList<int> results = co_await gathering; // the call ended by itself: its result
        QTAIO_COMPARE(results, (QList<int>{3}));
    }));
    QVERIFY(sawStop.load());
    QCOMPARE(executor.running(), 0);
}

void tst_TaskExecutor::nestedGatherUnderALimitOfOne()
{
    TaskExecutor executor;
    executor.setLimit(1);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto outer = [&]() -> QCoro::Task<int> {
            std::vector<std::function<QCoro::Task<int>()>> inner;
            for (int i = 1; i <= 4; ++i)
                inner.push_back([i]() -> QCoro::Task<int> { co_return i; });
            const QList<int> values = co_await executor.gather(std::move(inner));
            co_return std::accumulate(values.begin(), values.end(), 0);
        };
        QTAIO_COMPARE(co_await executor.run(outer, 60s), 10);
        QTAIO_COMPARE(executor.running(), 0);
        QTAIO_COMPARE(executor.waiting(), 0);
    }));
}

void tst_TaskExecutor::gatherOfStartedTasksOfAnyTypes()
{
    // mtaio's gather(*coroutines): started tasks of different types, no limit.
    QtAio::Latch gate(1);
    auto number = [&]() -> QCoro::Task<int> {
        co_await gate.wait();
        co_return 7;
    };
    auto text = []() -> QCoro::Task<QString> { co_return QStringLiteral("seven"); };
    int sideEffect = 0;
    auto nothing = [&]() -> QCoro::Task<> {
        co_await gate.wait();
        ++sideEffect;
    };
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTimer::singleShot(0, [&] { gate.countDown(); });
        auto [n, t, v] = co_await TaskExecutor::gather(number(), text(), nothing());
        QTAIO_COMPARE(n, 7);
        QTAIO_COMPARE(t, QStringLiteral("seven"));
        QTAIO_VERIFY((std::is_same_v<decltype(v), std::monostate>));
        QTAIO_COMPARE(sideEffect, 1);

        // A failure is thrown once every task has ended, with the failing task's index.
        QtAio::Latch slow(1);
        bool slowEnded = false;
        auto late = [&]() -> QCoro::Task<int> {
            co_await slow.wait();
            slowEnded = true;
            co_return 1;
        };
        auto failing = []() -> QCoro::Task<int> {
            throw std::runtime_error("second task failed");
            co_return 0;
        };
        QTimer::singleShot(10, [&] { slow.countDown(); });
        try {
            (void)co_await TaskExecutor::gather(late(), failing());
            QTAIO_FAIL("no exception");
        } catch (const QtAio::ExecutionError &e) {
            QTAIO_COMPARE(e.index(), std::optional<std::size_t>(1));
            QTAIO_COMPARE(nestedCause(e), std::string("second task failed"));
        }
        QTAIO_VERIFY(slowEnded); // no orphan: the slow one was awaited to its end
    }));
}

void tst_TaskExecutor::spawnedTaskHandles()
{
    TaskExecutor executor;
    QtAio::Latch gate(1);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        // Await a spawned task for its result.
        auto handle = executor.spawn([&]() -> QCoro::Task<int> {
            co_await gate.wait();
            co_return 42;
        });
        QTAIO_VERIFY(handle.id() != 0);
        QTAIO_VERIFY(!handle.isDone());
        QTimer::singleShot(0, [&] { gate.countDown(); });
        QTAIO_COMPARE(co_await handle, 42);
        QTAIO_VERIFY(handle.isDone());

        // Cancel one task alone: its siblings run on.
        QtAio::Latch never(1);
        auto stopped = executor.spawn(
            [&](std::stop_token stop) -> QCoro::Task<> { co_await never.wait(stop); });
        auto sibling = executor.spawn([&](std::stop_token stop) -> QCoro::Task<int> {
            co_await never.wait(20ms, stop);
            co_return 7;
        });
        stopped.cancel();
        QTAIO_VERIFY_THROWS(QtAio::CancelledError, co_await stopped, "cancelled");
        QTAIO_COMPARE(co_await sibling, 7);

        // A failure taken from the handle is nobody else's to report: no warning.
        auto failing = executor.spawn([]() -> QCoro::Task<QString> {
            throw std::runtime_error("spawned failure");
            co_return QString();
        });
        QTAIO_VERIFY_THROWS(QtAio::ExecutionError, (void)co_await failing, "spawned failure");
    }));
    QCOMPARE(executor.cancelled(), 1);
    QCOMPARE(executor.failed(), 1);

    // A failure that nobody takes is reported when its handle goes, even if the task ended
    // first (the handle was kept but never awaited).
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("nobody awaits it: never taken")));
    {
        auto kept = executor.spawn([]() -> QCoro::Task<> {
            throw std::runtime_error("never taken");
            co_return;
        });
        QTRY_VERIFY(kept.isDone());
    }
    // A handle moved from, and a handle to no task.
    TaskHandle<int> empty;
    QCOMPARE(empty.id(), quint64(0));
    QVERIFY(!empty.isDone());
    empty.cancel();
}

void tst_TaskExecutor::moveOnlyResults()
{
    // gather() and map() of move-only results yield a std::vector (a QList needs copies).
    TaskExecutor executor;
    std::vector<std::function<QCoro::Task<std::unique_ptr<int>>()>> factories;
    for (int i = 0; i < 3; ++i)
        factories.push_back(
            [i]() -> QCoro::Task<std::unique_ptr<int>> { co_return std::make_unique<int>(i); });
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        std::vector<std::unique_ptr<int>> values = co_await executor.gather(std::move(factories));
        QTAIO_COMPARE(values.size(), std::size_t(3));
        QTAIO_COMPARE(*values[2], 2);
        const std::vector<int> inputs{4, 5};
        auto boxed = [](int v) { return std::make_unique<int>(v * 10); }; // on the pool
        std::vector<std::unique_ptr<int>> mapped = co_await executor.map(boxed, inputs);
        QTAIO_COMPARE(*mapped[1], 50);
        auto settled = co_await executor.mapSettled(boxed, GatherOptions{}, inputs);
        QTAIO_VERIFY(!settled[0].hasError());
        QTAIO_COMPARE(*settled[0].value(), 40);
        // Copyable results stay a QList.
        const QList<int> copies = co_await executor.map([](int v) { return v; }, inputs);
        QTAIO_COMPARE(copies, (QList<int>{4, 5}));
    }));
}

void tst_TaskExecutor::gatherSettledReportsEveryOutcome()
{
    TaskExecutor executor;
    std::vector<std::function<QCoro::Task<int>()>> factories;
    for (int i = 0; i < 5; ++i) {
        factories.push_back([i]() -> QCoro::Task<int> {
            if (i % 2)
                throw std::runtime_error("odd " + std::to_string(i));
            co_return i;
        });
    }
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        const auto outcomes = co_await executor.gatherSettled(std::move(factories));
        QTAIO_COMPARE(outcomes.size(), 5);
        QTAIO_COMPARE(outcomes[0].value(), 0);
        QTAIO_VERIFY(outcomes[1].hasError());
        QTAIO_VERIFY_THROWS(std::runtime_error, (void)outcomes[3].value(), "odd 3");
        QTAIO_COMPARE(outcomes[4].value(), 4);
    }));
}

void tst_TaskExecutor::gatherOfVoidTasks()
{
    TaskExecutor executor;
    int ran = 0;
    std::vector<std::function<QCoro::Task<>()>> factories(3, [&ran]() -> QCoro::Task<> {
        ++ran;
        co_return;
    });
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        co_await executor.gather(std::move(factories));
        QTAIO_COMPARE(ran, 3);
    }));
}

void tst_TaskExecutor::mapZipsRangesAndRunsPlainFunctionsOnThePool()
{
    TaskExecutor executor;
    const std::vector<int> xs{1, 2, 3, 4};
    const std::vector<QString> names{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")};
    QThread *mainThread = QThread::currentThread();
    std::atomic<bool> allOnPool = true;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto plain = [&](int x, const QString &name) {
            allOnPool = allOnPool && QThread::currentThread() != mainThread;
            return name.repeated(x);
        };
        const QStringList zipped = co_await executor.map(plain, xs, names);
        QTAIO_COMPARE(zipped, (QStringList{QStringLiteral("a"), QStringLiteral("bb"),
                                           QStringLiteral("ccc")}));
        QTAIO_VERIFY(allOnPool.load());
        auto coroutine = [mainThread](int x) -> QCoro::Task<int> {
            if (QThread::currentThread() != mainThread)
                throw std::logic_error("not on the event loop");
            co_return x * 10;
        };
        const GatherOptions two{2};
        const QList<int> tens = co_await executor.map(coroutine, two, xs);
        QTAIO_COMPARE(tens, (QList<int>{10, 20, 30, 40}));
    }));
}

namespace {
//! A generated input range that counts how many items have been drawn from it.
class CountingInput {
public:
    //! \a throwAt: the input whose reading throws, if any.
    CountingInput(int size, int *drawn, int throwAt = -1)
        : m_size(size), m_drawn(drawn), m_throwAt(throwAt)
    {
    }
    class iterator {
    public:
        using value_type = int;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        iterator(int at, int *drawn, int throwAt) : m_at(at), m_drawn(drawn), m_throwAt(throwAt) {}
        int operator*() const
        {
            if (m_at == m_throwAt)
                throw std::runtime_error("unreadable " + std::to_string(m_at));
            ++*m_drawn;
            return m_at;
        }
        iterator &operator++()
        {
            ++m_at;
            return *this;
        }
        void operator++(int) { ++m_at; }
        bool operator==(const iterator &other) const { return m_at == other.m_at; }

    private:
        int m_at = 0;
        int *m_drawn = nullptr;
        int m_throwAt = -1;
    };
    iterator begin() const { return {0, m_drawn, m_throwAt}; }
    iterator end() const { return {m_size, m_drawn, m_throwAt}; }

private:
    int m_size;
    int *m_drawn;
    int m_throwAt;
};
} // namespace

void tst_TaskExecutor::mapOverGeneratedInputStaysBounded()
{
    constexpr int inputs = 1000000;
    constexpr int limit = 100;
    TaskExecutor executor;
    Concurrency c;
    int drawn = 0;
    int finished = 0;
    int worstAhead = 0; // inputs drawn but not yet finished, at its worst
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto work = [&](int x) -> QCoro::Task<long> {
            c.enter();
            worstAhead = std::max(worstAhead, drawn - finished);
            if (x % 1000 == 0)
                co_await QCoro::sleepFor(0ms); // some items really suspend
            c.leave();
            ++finished;
            co_return long(x);
        };
        const GatherOptions options{limit};
        const QList<long> results =
            co_await executor.map(work, options, CountingInput(inputs, &drawn));
        QTAIO_COMPARE(results.size(), qsizetype(inputs));
        QTAIO_COMPARE(results.last(), long(inputs - 1));
    }));
    QCOMPARE(drawn, inputs);
    QVERIFY(c.peak <= limit);
    QVERIFY2(worstAhead <= limit, qPrintable(QString::number(worstAhead)));
}

void tst_TaskExecutor::gatherOfNothingIsEmpty()
{
    TaskExecutor executor;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        std::vector<std::function<QCoro::Task<int>()>> none;
        const QList<int> results = co_await executor.gather(std::move(none));
        QTAIO_VERIFY(results.isEmpty());
        std::vector<std::function<QCoro::Task<>()>> noVoid;
        co_await executor.gather(std::move(noVoid));
    }));
}

void tst_TaskExecutor::executorInAWorkerThread()
{
    QtAioTest::EventLoopThread worker;
    std::unique_ptr<TaskExecutor> executor;
    std::atomic<int> sum = -1;
    std::atomic<bool> allOnWorker = true;
    QThread *workerThread = worker.thread();
    auto body = [&]() -> QCoro::Task<> {
        std::vector<std::function<QCoro::Task<int>()>> factories;
        for (int i = 1; i <= 4; ++i) {
            factories.push_back([i, &allOnWorker, workerThread]() -> QCoro::Task<int> {
                co_await QCoro::sleepFor(1ms);
                allOnWorker = allOnWorker && QThread::currentThread() == workerThread;
                co_return i;
            });
        }
        const GatherOptions two{2};
        const QList<int> values = co_await executor->gather(std::move(factories), two);
        const int inThread = co_await executor->runInThread([](int x) { return x * 10; }, 1);
        allOnWorker = allOnWorker && QThread::currentThread() == workerThread;
        sum = std::accumulate(values.begin(), values.end(), inThread);
    };
    worker.invoke([&] {
        executor = std::make_unique<TaskExecutor>();
        executor->setLimit(3);
        body();
    });
    QTRY_COMPARE(sum.load(), 20);
    QVERIFY(allOnWorker.load());
    worker.invoke([&] { executor.reset(); });
}

void tst_TaskExecutor::mapSettled()
{
    TaskExecutor executor;
    const std::vector<int> xs{1, 0, 2};
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto divide = [](int x) {
            if (x == 0)
                throw std::domain_error("division by zero");
            return 10 / x;
        };
        const auto outcomes = co_await executor.mapSettled(divide, GatherOptions{}, xs);
        QTAIO_COMPARE(outcomes[0].value(), 10);
        QTAIO_VERIFY(outcomes[1].hasError());
        QTAIO_COMPARE(outcomes[2].value(), 5);
    }));
}

void tst_TaskExecutor::plainMapRunsInBlocksInInputOrder()
{
    // Many more items than one block holds: the results come back in input order, and the
    // executor counts every item, however the items were grouped.
    constexpr int n = 50000;
    TaskExecutor executor;
    const std::vector<int> inputs = iotaVector(n);
    std::atomic<long long> voidSum = 0;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        const QList<int> tripled = co_await executor.map([](int x) { return 3 * x; }, inputs);
        QTAIO_COMPARE(tripled.size(), qsizetype(n));
        for (int i = 0; i < n; ++i)
            QTAIO_COMPARE(tripled[i], 3 * i);
        QTAIO_COMPARE(executor.completed(), qint64(n));
        auto everyThousandth = [](int x) {
            if (x % 1000 == 999)
                throw std::runtime_error("bad " + std::to_string(x));
            return x;
        };
        const auto outcomes =
            co_await executor.mapSettled(everyThousandth, GatherOptions{}, inputs);
        QTAIO_COMPARE(outcomes.size(), qsizetype(n));
        for (int i = 0; i < n; ++i) {
            QTAIO_COMPARE(outcomes[i].hasError(), i % 1000 == 999);
            if (!outcomes[i].hasError())
                QTAIO_COMPARE(outcomes[i].value(), i);
        }
        QTAIO_VERIFY_THROWS(std::runtime_error, (void)outcomes[1999].value(), "bad 1999");
        QTAIO_COMPARE(executor.failed(), qint64(n / 1000));
        QTAIO_COMPARE(executor.completed(), qint64(2 * n - n / 1000));
        co_await executor.map([&](int x) { voidSum += x; }, inputs);
        const auto voids = co_await executor.mapSettled([](int) {}, GatherOptions{}, inputs);
        QTAIO_COMPARE(voids.size(), qsizetype(n));
        QTAIO_VERIFY(!voids.last().hasError());
    }));
    QCOMPARE(voidSum.load(), static_cast<long long>(n) * (n - 1) / 2);
    QCOMPARE(executor.running(), 0);
}

void tst_TaskExecutor::plainMapFailsFastNamingTheItem()
{
    constexpr int n = 200000;
    constexpr int failing = 7777;
    TaskExecutor executor;
    const std::vector<int> inputs = iotaVector(n);
    std::atomic<int> inside = 0;
    std::atomic<int> ran = 0;
    auto work = [&](int x) {
        ++inside;
        ++ran;
        --inside;
        if (x == failing)
            throw std::runtime_error("bad " + std::to_string(x));
        return x;
    };
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        try {
            (void)co_await executor.map(work, inputs);
            QTAIO_FAIL("no exception");
        } catch (const QtAio::ExecutionError &e) {
            QTAIO_VERIFY(e.index().has_value());
            QTAIO_COMPARE(*e.index(), std::size_t(failing));
            QTAIO_COMPARE(nestedCause(e), std::string("bad 7777"));
        }
        // No orphans: every item that started has ended, and no block is left running.
        QTAIO_COMPARE(inside.load(), 0);
        QTAIO_COMPARE(executor.running(), 0);
    }));
    // An input that cannot be read fails the call the same way, naming its index.
    int drawn = 0;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        try {
            (void)co_await executor.map([](int x) { return x; },
                                        CountingInput(n, &drawn, failing + 1));
            QTAIO_FAIL("no exception");
        } catch (const QtAio::ExecutionError &e) {
            QTAIO_COMPARE(*e.index(), std::size_t(failing + 1));
            QTAIO_COMPARE(nestedCause(e), std::string("unreadable 7778"));
        }
    }));
    QCOMPARE(drawn, failing + 1);
    QCOMPARE(executor.failed(), qint64(1));
    // Nothing new started after the failure: the blocks in flight are few and short.
    QVERIFY2(ran.load() < n, qPrintable(QString::number(ran.load())));
    QCOMPARE(executor.completed() + executor.failed() + executor.cancelled() <= n, true);
}

void tst_TaskExecutor::plainMapRespectsTheLimits_data()
{
    QTest::addColumn<int>("callLimit");
    QTest::addColumn<int>("executorLimit");
    QTest::addColumn<int>("cap");
    QTest::newRow("call limit 1") << 1 << 0 << 1;
    QTest::newRow("executor limit 1") << 0 << 1 << 1;
    QTest::newRow("call limit 2, executor limit 3") << 2 << 3 << 2;
    QTest::newRow("call limit 3, executor limit 2") << 3 << 2 << 2;
}

void tst_TaskExecutor::plainMapRespectsTheLimits()
{
    // A block runs its items one after another and counts as one running task.
    QFETCH(int, callLimit);
    QFETCH(int, executorLimit);
    QFETCH(int, cap);
    constexpr int n = 20000;
    QThreadPool pool;
    pool.setMaxThreadCount(4);
    TaskExecutor executor(&pool);
    executor.setLimit(executorLimit);
    SharedConcurrency c;
    std::atomic<int> worstRunning = 0;
    auto work = [&](int x) {
        c.enter();
        worstRunning = std::max(worstRunning.load(), executor.running());
        c.leave();
        return x + 1;
    };
    const std::vector<int> inputs = iotaVector(n);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        const GatherOptions options{callLimit};
        const QList<int> results = co_await executor.map(work, options, inputs);
        QTAIO_COMPARE(results.size(), qsizetype(n));
        QTAIO_COMPARE(results.last(), n);
    }));
    QVERIFY2(c.peak.load() <= cap, qPrintable(QString::number(c.peak.load())));
    QVERIFY2(worstRunning.load() <= cap, qPrintable(QString::number(worstRunning.load())));
    QCOMPARE(executor.completed(), qint64(n));
    QCOMPARE(executor.running(), 0);
    QCOMPARE(executor.waiting(), 0);
}

void tst_TaskExecutor::stoppingAPlainMapMidway_data()
{
    QTest::addColumn<bool>("destroy");
    QTest::newRow("cancelAll()") << false;
    QTest::newRow("the executor destroyed") << true;
}

void tst_TaskExecutor::stoppingAPlainMapMidway()
{
    // A running block stops after its current item; no new block starts; the map throws
    // CancelledError once every block ended.
    QFETCH(bool, destroy);
    constexpr int n = 100000;
    auto executor = std::make_unique<TaskExecutor>();
    const std::vector<int> inputs = iotaVector(n);
    QtAio::Latch reached(1);
    QtAio::Latch release(1);
    std::atomic<int> ran = 0;
    auto work = [&](int x) {
        if (x >= 1000) { // from here on each call waits until the test lets it go
            reached.countDown();
            release.waitBlocking();
        }
        ++ran;
        return x;
    };
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto mapping = executor->map(work, inputs);
        co_await reached.wait();
        if (destroy) {
            executor.reset(); // requests the stop; never blocks
            release.countDown();
        } else {
            auto cancelling = executor->cancelAll(); // requests the stop at once
            release.countDown();
            co_await cancelling;
            QTAIO_COMPARE(executor->running(), 0);
        }
        QTAIO_VERIFY_THROWS(QtAio::CancelledError, co_await mapping, "cancelled");
    }));
    QVERIFY2(ran.load() < n, qPrintable(QString::number(ran.load())));
    if (!destroy)
        QCOMPARE(executor->completed(), qint64(ran.load()));
}

void tst_TaskExecutor::asCompletedAndInOrderStreams()
{
    TaskExecutor executor;
    auto makeFactories = [] {
        std::vector<std::function<QCoro::Task<int>()>> factories;
        for (int i = 0; i < 6; ++i) {
            factories.push_back([i]() -> QCoro::Task<int> {
                co_await QCoro::sleepFor(std::chrono::milliseconds(12 - 2 * i));
                co_return i;
            });
        }
        return factories;
    };
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QList<int> completed;
        auto stream = executor.asCompleted(makeFactories());
        QCORO_FOREACH(const QtAio::Completed<int> &c, stream)
        {
            QTAIO_COMPARE(c.index, qsizetype(c.value)); // factory i yields i
            completed.push_back(c.value);
        }
        QTAIO_COMPARE(completed.size(), 6);
        std::sort(completed.begin(), completed.end());
        QTAIO_COMPARE(completed, (QList<int>{0, 1, 2, 3, 4, 5}));

        QList<int> ordered;
        const GatherOptions window{2};
        auto inOrder = executor.inOrder(makeFactories(), window);
        QCORO_FOREACH(int v, inOrder)
        {
            ordered.push_back(v);
        }
        QTAIO_COMPARE(ordered, (QList<int>{0, 1, 2, 3, 4, 5}));
    }));
}

void tst_TaskExecutor::asCompletedYieldsTheInputIndex()
{
    TaskExecutor executor;
    std::vector<std::function<QCoro::Task<QString>()>> named;
    std::vector<std::function<QCoro::Task<>()>> plain;
    QList<int> ran;
    for (int i = 0; i < 4; ++i) {
        // Later inputs finish first, so the completion order is not the input order.
        named.push_back([i]() -> QCoro::Task<QString> {
            co_await QCoro::sleepFor(std::chrono::milliseconds(5 * (4 - i)));
            co_return QString::number(i);
        });
        plain.push_back([i, &ran]() -> QCoro::Task<> {
            co_await QCoro::sleepFor(std::chrono::milliseconds(5 * (4 - i)));
            ran.push_back(i);
        });
    }
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QList<qsizetype> order;
        auto stream = executor.asCompleted(std::move(named));
        QCORO_FOREACH(const QtAio::Completed<QString> &c, stream)
        {
            QTAIO_COMPARE(c.value, QString::number(c.index));
            order.push_back(c.index);
        }
        QTAIO_COMPARE(order, (QList<qsizetype>{3, 2, 1, 0}));

        // Task<void> factories: just the index, in the order the tasks ended.
        QList<qsizetype> ended;
        auto voids = executor.asCompleted(std::move(plain));
        QCORO_FOREACH(const QtAio::Completed<void> &c, voids)
        {
            ended.push_back(c.index);
        }
        QTAIO_COMPARE(ended, (QList<qsizetype>{3, 2, 1, 0}));
        QTAIO_COMPARE(ran, (QList<int>{3, 2, 1, 0}));
    }));
}

void tst_TaskExecutor::internalGateIsFifoAndCompletionWins()
{
    // The gate behind a call's limit, inOrder()'s window and a stream's results.
    QtAio::detail::Gate gate(1);
    QList<int> order;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto first = gate.acquire();
        co_await first; // the one free permit, at once
        auto waiter = [&](int id, std::stop_token stop) -> QCoro::Task<> {
            try {
                auto acquire = gate.acquire(std::move(stop));
                co_await acquire;
                order.push_back(id);
            } catch (const QtAio::CancelledError &) {
                order.push_back(-id);
            }
        };
        std::stop_source leaves;
        auto w1 = waiter(1, {});
        auto w2 = waiter(2, leaves.get_token());
        auto w3 = waiter(3, {});
        leaves.request_stop();         // the second leaves the line
        gate.release(2);               // the first and the third, in order
        QTAIO_VERIFY(order.isEmpty()); // nothing resumes inline
        co_await w1;
        co_await w2;
        co_await w3;
        QTAIO_COMPARE(order, (QList<int>{-2, 1, 3}));

        // Completion wins: a permit handed over before the stop is kept.
        std::stop_source late;
        auto w4 = waiter(4, late.get_token());
        gate.release();
        late.request_stop();
        co_await w4;
        QTAIO_COMPARE(order.last(), 4);
    }));
}

void tst_TaskExecutor::inOrderLimitAndWindowAreSeparate_data()
{
    QTest::addColumn<int>("limit");
    QTest::addColumn<int>("window");
    QTest::addColumn<int>("expectedPeak");
    // limit <= 0 means no per-call cap, for inOrder() as for gather(); the window bounds the
    // read-ahead on its own.
    QTest::newRow("no limit, no window") << 0 << 0 << 8;
    QTest::newRow("no limit, window 2") << 0 << 2 << 2;
    QTest::newRow("negative limit, window 3") << -1 << 3 << 3;
    QTest::newRow("limit 2, no window") << 2 << 0 << 2;
    QTest::newRow("limit 3, default window") << 3 << GatherOptions{}.window << 3;
    QTest::newRow("no limit, default window") << 0 << GatherOptions{}.window << 8;
}

void tst_TaskExecutor::inOrderLimitAndWindowAreSeparate()
{
    QFETCH(int, limit);
    QFETCH(int, window);
    QFETCH(int, expectedPeak);
    QCOMPARE(GatherOptions{}.window, 16);
    TaskExecutor executor;
    Concurrency c;
    std::vector<std::function<QCoro::Task<int>()>> factories;
    for (int i = 0; i < 8; ++i) {
        factories.push_back([&c, i]() -> QCoro::Task<int> {
            c.enter();
            co_await QCoro::sleepFor(std::chrono::milliseconds(2 + (i % 3)));
            c.leave();
            co_return i;
        });
    }
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QList<int> ordered;
        const GatherOptions options{.limit = limit, .window = window};
        auto stream = executor.inOrder(std::move(factories), options);
        QCORO_FOREACH(int v, stream)
        {
            ordered.push_back(v);
        }
        QTAIO_COMPARE(ordered, (QList<int>{0, 1, 2, 3, 4, 5, 6, 7}));
    }));
    QCOMPARE(c.peak, expectedPeak);
}

void tst_TaskExecutor::streamsFailFastAndStopWhenAbandoned()
{
    TaskExecutor executor;
    int stopped = 0;
    auto makeFactories = [&stopped](int failAt) {
        std::vector<std::function<QCoro::Task<int>(std::stop_token)>> factories;
        for (int i = 0; i < 5; ++i) {
            factories.push_back([&stopped, i, failAt](std::stop_token stop) -> QCoro::Task<int> {
                if (i == failAt)
                    throw std::runtime_error("item failed");
                if (i == 0)
                    co_return 0; // completes at once
                QtAio::Latch never(1);
                try {
                    co_await never.wait(stop);
                } catch (const QtAio::CancelledError &) {
                    ++stopped;
                    throw;
                }
                co_return i;
            });
        }
        return factories;
    };
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QList<int> seen;
        try {
            auto stream = executor.asCompleted(makeFactories(3));
            QCORO_FOREACH(const QtAio::Completed<int> &c, stream)
            {
                seen.push_back(c.value);
            }
            QTAIO_FAIL("no exception");
        } catch (const QtAio::ExecutionError &e) {
            QTAIO_VERIFY(e.index() == std::optional<std::size_t>(3));
        }
        QTAIO_COMPARE(seen, QList<int>{0});
        QTAIO_COMPARE(stopped, 2); // items 1 and 2 were running; 4 never started
        QTAIO_COMPARE(executor.running(), 0);

        // Abandoning a stream stops what it still runs.
        stopped = 0;
        {
            auto stream = executor.asCompleted(makeFactories(-1));
            auto it = co_await stream.begin();
            QTAIO_COMPARE((*it).index, qsizetype(0));
            QTAIO_COMPARE((*it).value, 0);
        }
        co_await executor.cancelAll(); // nothing is left once the stopped items ended
        QTAIO_COMPARE(stopped, 4);
    }));
}

void tst_TaskExecutor::runInThreadResumesOnTheCallerAndNestsErrors()
{
    QThreadPool pool;
    TaskExecutor executor(&pool);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QThread *caller = QThread::currentThread();
        std::atomic<QThread *> ranOn = nullptr;
        auto add = [&](int a, int b) {
            ranOn = QThread::currentThread();
            return a + b;
        };
        QTAIO_COMPARE(co_await executor.runInThread(add, 2, 3), 5);
        QTAIO_VERIFY(ranOn.load() != caller);
        QTAIO_VERIFY(QThread::currentThread() == caller);

        auto length = [](std::unique_ptr<std::string> s) { return s->size(); };
        auto moveOnly = std::make_unique<std::string>("four");
        QTAIO_COMPARE(co_await executor.runInThread(length, std::move(moveOnly)), std::size_t(4));

        auto bound = std::bind([](int a, int b) { return a * b; }, 6, std::placeholders::_1);
        QTAIO_COMPARE(co_await executor.runInThread(bound, 7), 42);

        auto failing = [] { throw std::runtime_error("thread failed"); };
        try {
            co_await executor.runInThread(failing);
            QTAIO_FAIL("no exception");
        } catch (const QtAio::ExecutionError &e) {
            QTAIO_COMPARE(nestedCause(e), std::string("thread failed"));
        }
    }));
    QVERIFY(pool.waitForDone(60000));
}

void tst_TaskExecutor::aBlockedPoolCallDoesNotHoldBackTheNext()
{
    // Pool calls share one FIFO per executor: a call that blocks must not keep a later one
    // waiting while the pool has another thread.
    QThreadPool pool;
    pool.setMaxThreadCount(2);
    TaskExecutor executor(&pool);
    QtAio::Latch gate(1);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto blocked = executor.runInThread([&] { return gate.waitBlocking(60s); });
        QTAIO_COMPARE(co_await executor.runInThread([] { return 7; }), 7);
        gate.countDown();
        QTAIO_VERIFY(co_await blocked);
    }));
    QVERIFY(pool.waitForDone(60000));
}

void tst_TaskExecutor::aLongBurstLetsOtherPoolWorkRun()
{
    // A burst of calls longer than a drainer's turn (10 ms) on a one-thread pool: the pool's
    // other work, queued after the burst started, runs before the burst ends.
    QThreadPool pool;
    pool.setMaxThreadCount(1);
    TaskExecutor executor(&pool);
    constexpr int calls = 60;
    std::atomic<int> done = 0;
    std::atomic<int> doneWhenOtherWorkRan = -1;
    auto busyMillisecond = [&] {
        QElapsedTimer spin; // the call's own work, not a wait for anything
        spin.start();
        while (!spin.hasExpired(1)) {
        }
        ++done;
    };
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        std::vector<std::function<QCoro::Task<>()>> burst;
        for (int i = 0; i < calls; ++i)
            burst.emplace_back([&] { return executor.runInThread(busyMillisecond); });
        auto running = executor.gather(std::move(burst));
        pool.start([&] { doneWhenOtherWorkRan = done.load(); });
        co_await std::move(running);
    }));
    QVERIFY(pool.waitForDone(60000));
    QCOMPARE(done.load(), calls);
    QVERIFY(doneWhenOtherWorkRan >= 0);
    QVERIFY2(
        doneWhenOtherWorkRan < calls,
        qPrintable(
            QStringLiteral("other work ran only after %1 calls").arg(doneWhenOtherWorkRan.load())));
}

void tst_TaskExecutor::aLaunchingCallLetsOtherPoolWorkRun()
{
    // While a gather launches its items, a drainer that ran the calls submitted so far waits
    // briefly for the next one instead of leaving. On a one-thread pool, a factory that blocks
    // until other work of that pool has run must not wait for the drainer forever: the wait ends
    // by its budget, and the pool runs the other work.
    QThreadPool pool;
    pool.setMaxThreadCount(1);
    TaskExecutor executor(&pool);
    constexpr int items = 200;
    constexpr int blockingItem = 100;
    std::atomic<int> ran = 0;
    bool otherWorkRanFirst = false;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        std::vector<std::function<QCoro::Task<int>()>> calls;
        for (int i = 0; i < items; ++i) {
            calls.emplace_back([&, i] {
                if (i == blockingItem) {
                    // Blocks this (the launching) thread until the pool has run other work.
                    QtAio::Latch otherWorkRan(1);
                    pool.start([&otherWorkRan] { otherWorkRan.countDown(); });
                    otherWorkRanFirst = otherWorkRan.waitBlocking(60s);
                }
                return executor.runInThread(
                    [&ran](int value) {
                        ++ran;
                        return value;
                    },
                    i);
            });
        }
        const QList<int> results = co_await executor.gather(std::move(calls));
        QTAIO_COMPARE(results.size(), qsizetype(items));
        for (int i = 0; i < items; ++i)
            QTAIO_COMPARE(results[i], i);
    }));
    QVERIFY(otherWorkRanFirst);
    QCOMPARE(ran.load(), items);
    QVERIFY(pool.waitForDone(60000));
}

void tst_TaskExecutor::clearingThePoolDoesNotStrandCalls()
{
    // QThreadPool::clear() deletes the runnables still queued, among them the one that would
    // have run the executor's calls: the executor notices and queues another.
    QThreadPool pool;
    pool.setMaxThreadCount(1);
    TaskExecutor executor(&pool);
    QtAio::Latch gate(1);
    pool.start([&] { gate.waitBlocking(60s); }); // holds the only thread (unless cleared)
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto call = executor.runInThread([] { return 5; }); // queued behind the blocker
        pool.clear();
        gate.countDown();
        QTAIO_COMPARE(co_await call, 5);
    }));
    QVERIFY(pool.waitForDone(60000));
}

void tst_TaskExecutor::waitingTasksStartInOrderAndCanBeCancelled()
{
    // Tasks over the limit wait for a slot in FIFO order; a higher limit starts them at once;
    // cancelAll() ends the waiting ones without running them.
    TaskExecutor executor;
    executor.setLimit(1);
    QtAio::Latch gateA(1);
    QtAio::Latch gateB(1);
    std::vector<char> ran;
    auto blockedOn = [&ran](char name, QtAio::Latch &gate) {
        return [&ran, &gate, name](std::stop_token stop) -> QCoro::Task<> {
            ran.push_back(name);
            co_await gate.wait(std::move(stop));
        };
    };
    executor.spawn(blockedOn('A', gateA));
    executor.spawn(blockedOn('B', gateB));
    executor.spawn([&ran]() -> QCoro::Task<> {
        ran.push_back('C');
        co_return;
    });
    QCOMPARE(executor.running(), 1);
    QCOMPARE(executor.waiting(), 2);
    QCOMPARE(ran, std::vector<char>{'A'});

    executor.setLimit(2); // B, first in line, starts; C still waits
    QCOMPARE(executor.running(), 2);
    QCOMPARE(executor.waiting(), 1);
    QTRY_COMPARE(ran, (std::vector<char>{'A', 'B'}));

    gateA.countDown(); // A ends: its slot goes to C
    QTRY_COMPARE(ran, (std::vector<char>{'A', 'B', 'C'}));
    QTRY_COMPARE(executor.running(), 1); // B
    QCOMPARE(executor.waiting(), 0);

    executor.setLimit(1);
    executor.spawn([&ran]() -> QCoro::Task<> {
        ran.push_back('D');
        co_return;
    });
    QCOMPARE(executor.waiting(), 1); // waits for B's slot
    const int cancelledBefore = executor.cancelled();
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> { co_await executor.cancelAll(); }));
    QCOMPARE(executor.running(), 0);
    QCOMPARE(executor.waiting(), 0);
    QCOMPARE(executor.cancelled(), cancelledBefore + 2); // B stopped, D never started
    QCOMPARE(ran, (std::vector<char>{'A', 'B', 'C'}));
}

void tst_TaskExecutor::spawnReportsFailures()
{
    TaskExecutor executor;
    QSignalSpy failed(&executor, &TaskExecutor::taskFailed);
    QSignalSpy finished(&executor, &TaskExecutor::taskCompleted);
    QSignalSpy idle(&executor, &TaskExecutor::idle);
    QVERIFY(failed.isValid() && finished.isValid() && idle.isValid());
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("failed and nobody awaits it: boom")));
    const auto bad = executor.spawn([]() -> QCoro::Task<> {
        co_await QCoro::sleepFor(1ms);
        throw std::runtime_error("boom");
    });
    const auto good = executor.spawn([]() -> QCoro::Task<int> { co_return 1; });
    QTRY_COMPARE(failed.count(), 1);
    QCOMPARE(failed.at(0).at(0).value<quint64>(), bad.id());
    QCOMPARE(failed.at(0).at(1).toString(), QStringLiteral("boom"));
    QCOMPARE(finished.count(), 1);
    QCOMPARE(finished.at(0).at(0).value<quint64>(), good.id());
    QTRY_VERIFY(idle.count() >= 1);
}

void tst_TaskExecutor::cancelAllAndShutdown()
{
    QThreadPool pool;
    auto executor = std::make_unique<TaskExecutor>(&pool);
    QSignalSpy cancelled(executor.get(), &TaskExecutor::taskCancelled);
    QVERIFY(cancelled.isValid());
    for (int i = 0; i < 3; ++i) {
        executor->spawn([](std::stop_token stop) -> QCoro::Task<> {
            QtAio::Latch never(1);
            co_await never.wait(stop);
        });
    }
    QCOMPARE(executor->running(), 3);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        co_await executor->cancelAll();
        QTAIO_COMPARE(executor->running(), 0);
        QTAIO_COMPARE(executor->cancelled(), 3);
        co_await executor->shutdown();
        QTAIO_VERIFY(executor->isShutDown());
        auto work = []() -> QCoro::Task<int> { co_return 1; };
        QTAIO_VERIFY_THROWS(QtAio::ExecutionError, co_await executor->run(work), "shut down");
        QTAIO_VERIFY_THROWS(QtAio::ExecutionError, co_await executor->runInThread([] { return 1; }),
                            "shut down");
        std::vector<std::function<QCoro::Task<int>()>> one{work};
        QTAIO_VERIFY_THROWS(QtAio::ExecutionError, co_await executor->gather(std::move(one)),
                            "shut down");
    }));
    QVERIFY_THROWS_EXCEPTION(QtAio::ExecutionError,
                             executor->spawn([]() -> QCoro::Task<> { co_return; }));
    QCOMPARE(executor->waiting(), 0);
    QCOMPARE(executor->running(), 0);
    QCOMPARE(cancelled.count(), 3);
    // The pool passed in is the caller's: still usable.
    std::atomic<bool> ran = false;
    pool.start([&] { ran = true; });
    QVERIFY(pool.waitForDone(60000));
    QVERIFY(ran);
}

void tst_TaskExecutor::cancelAllStopsACallFromStartingMore()
{
    TaskExecutor executor;
    int started = 0;
    std::vector<std::function<QCoro::Task<int>(std::stop_token)>> factories;
    for (int i = 0; i < 10; ++i) {
        factories.push_back([&started](std::stop_token stop) -> QCoro::Task<int> {
            ++started;
            QtAio::Latch never(1);
            co_await never.wait(stop);
            co_return 0;
        });
    }
    std::string message;
    bool ended = false;
    auto body = [&]() -> QCoro::Task<> {
        try {
            const GatherOptions two{2};
            (void)co_await executor.gather(std::move(factories), two);
        } catch (const QtAio::CancelledError &e) {
            message = e.what();
        }
        ended = true;
    };
    auto task = body();
    QCOMPARE(started, 2);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> { co_await executor.cancelAll(); }));
    QTRY_VERIFY(ended);
    QCOMPARE(started, 2); // nothing new started once cancelAll() stopped the call
    QVERIFY2(message.find("cancelled") != std::string::npos, message.c_str());
    QCOMPARE(executor.running(), 0);
}

void tst_TaskExecutor::cancelAllAwaitedInsideATaskLeavesOutTheTasksAwaitingIt_data()
{
    QTest::addColumn<QString>("where");
    QTest::addColumn<bool>("shutdown");
    QTest::newRow("spawned task") << QStringLiteral("spawn") << false;
    QTest::newRow("spawned task, shutdown()") << QStringLiteral("spawn") << true;
    QTest::newRow("run() inside a spawned task") << QStringLiteral("run") << false;
    QTest::newRow("gather() item inside a spawned task") << QStringLiteral("gather") << false;
    QTest::newRow("after a QtAio await") << QStringLiteral("afterAwait") << false;
}

void tst_TaskExecutor::cancelAllAwaitedInsideATaskLeavesOutTheTasksAwaitingIt()
{
    // Awaited inside a task, cancelAll() cannot wait for that task, nor for the tasks that
    // await it: it waits for every other one (stopped), then returns there.
    QFETCH(QString, where);
    QFETCH(bool, shutdown);
    TaskExecutor executor;
    int othersEnded = 0;
    const auto stubbornUntilStopped = [&](std::stop_token stop) -> QCoro::Task<int> {
        QtAio::Latch never(1);
        try {
            co_await never.wait(stop);
        } catch (const QtAio::CancelledError &) {
            ++othersEnded;
            throw;
        }
        co_return 0;
    };
    for (int i = 0; i < 2; ++i)
        executor.spawn(stubbornUntilStopped);
    int othersEndedWhenItReturned = -1;
    qint64 cancelledWhenItReturned = -1;
    bool stopSeen = false;
    const auto cancelEverything = [&](std::stop_token stop) -> QCoro::Task<int> {
        if (where == QLatin1String("afterAwait")) {
            QtAio::Latch open(1);
            QTimer::singleShot(0, [&open] { open.countDown(); });
            co_await open.wait(); // suspends: the context comes back with the resumption
        }
        if (shutdown)
            co_await executor.shutdown();
        else
            co_await executor.cancelAll();
        othersEndedWhenItReturned = othersEnded;
        cancelledWhenItReturned = executor.cancelled(); // the others' ends were reported
        stopSeen = stop.stop_requested();               // its own stop is requested too
        co_return 1;
    };
    TaskHandle<int> handle;
    if (where == QLatin1String("run")) {
        handle = executor.spawn(
            [&]() -> QCoro::Task<int> { co_return 10 + co_await executor.run(cancelEverything); });
    } else if (where == QLatin1String("gather")) {
        handle = executor.spawn([&]() -> QCoro::Task<int> {
            // The stubborn item first: launched before the other stops the call.
            std::vector<std::function<QCoro::Task<int>(std::stop_token)>> items{
                stubbornUntilStopped, cancelEverything};
            try {
                (void)co_await executor.gather(std::move(items));
            } catch (const QtAio::CancelledError &) {
                co_return 20; // the sibling item was stopped
            }
            co_return -1;
        });
    } else {
        handle = executor.spawn(cancelEverything);
    }
    int result = 0;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> { result = co_await handle; }));
    const int othersStopped = where == QLatin1String("gather") ? 3 : 2;
    QCOMPARE(othersEndedWhenItReturned, othersStopped);
    QCOMPARE(cancelledWhenItReturned, qint64(othersStopped));
    QVERIFY(stopSeen);
    int expected = 1;
    if (where == QLatin1String("run"))
        expected = 11;
    else if (where == QLatin1String("gather"))
        expected = 20;
    QCOMPARE(result, expected);
    QCOMPARE(executor.running(), 0);
    QCOMPARE(executor.waiting(), 0);
    QCOMPARE(executor.isShutDown(), shutdown);
}

void tst_TaskExecutor::destroyingWithWorkInFlightNeitherCrashesNorBlocks()
{
    QThreadPool pool;
    QtAio::Latch releaseThreadJob(1);
    std::atomic<bool> threadJobDone = false;
    std::atomic<bool> stubbornDone = false;
    QtAio::Latch releaseStubborn(1);
    {
        TaskExecutor executor(&pool);
        auto stubborn = std::make_shared<int>(7); // held by the factory until the work ends
        executor.spawn([stubborn, &releaseStubborn, &stubbornDone]() -> QCoro::Task<> {
            co_await releaseStubborn.wait(); // ignores any stop
            stubbornDone = *stubborn == 7;
        });
        executor.spawn([&]() -> QCoro::Task<> {
            co_await executor.runInThread([&] {
                releaseThreadJob.waitBlocking();
                threadJobDone = true;
            });
        });
        QTRY_COMPARE(releaseThreadJob.waiting(), 1);
    } // destroyed with both in flight: must not block here
    releaseThreadJob.countDown();
    releaseStubborn.countDown();
    QTRY_VERIFY(threadJobDone.load());
    QTRY_VERIFY(stubbornDone.load());
    QVERIFY(pool.waitForDone(60000));
}

void tst_TaskExecutor::negativeLimitIsRejected()
{
    TaskExecutor executor;
    QTAIO_VERIFY_THROWS_SYNC(std::invalid_argument, executor.setLimit(-3), "got -3");
    QCOMPARE(executor.limit(), 0);
}

void tst_TaskExecutor::countersAndSignals()
{
    TaskExecutor executor;
    QSignalSpy limit(&executor, &TaskExecutor::limitChanged);
    QSignalSpy running(&executor, &TaskExecutor::runningChanged);
    QSignalSpy completed(&executor, &TaskExecutor::completedChanged);
    QSignalSpy started(&executor, &TaskExecutor::taskStarted);
    QSignalSpy waiting(&executor, &TaskExecutor::waitingChanged);
    QVERIFY(limit.isValid() && running.isValid() && completed.isValid() && started.isValid() &&
            waiting.isValid());
    executor.setLimit(1);
    executor.setLimit(1);
    QCOMPARE(limit.count(), 1);
    QtAio::Latch gate(1);
    auto work = [&]() -> QCoro::Task<> { co_await gate.wait(); };
    executor.spawn(work);
    executor.spawn(work);
    QCOMPARE(executor.running(), 1);
    QCOMPARE(executor.waiting(), 1);
    QCOMPARE(started.count(), 1);
    QCOMPARE(running.last().at(0).toInt(), 1);
    QCOMPARE(waiting.last().at(0).toInt(), 1); // the second waits for the slot
    gate.countDown();
    QTRY_COMPARE(executor.completed(), 2);
    QCOMPARE(waiting.last().at(0).toInt(), 0);
    QCOMPARE(started.count(), 2);
    QCOMPARE(completed.last().at(0).toInt(), 2);
    QCOMPARE(running.last().at(0).toInt(), 0);
}

void tst_TaskExecutor::itemsThatEndAtOnceAreTasksEachWithCountersAndSignals()
{
    // Factories whose work completes before it returns run inline, without a coroutine of the
    // executor's: each is still one task, with its own id, counters and signals, in order.
    TaskExecutor executor;
    QSignalSpy started(&executor, &TaskExecutor::taskStarted);
    QSignalSpy completed(&executor, &TaskExecutor::taskCompleted);
    QVERIFY(started.isValid() && completed.isValid());
    std::vector<TaskExecutor::TaskId> order; // started id, then completed id, per task
    connect(&executor, &TaskExecutor::taskStarted, this,
            [&](TaskExecutor::TaskId id) { order.push_back(id); });
    connect(&executor, &TaskExecutor::taskCompleted, this,
            [&](TaskExecutor::TaskId id) { order.push_back(id); });
    constexpr int n = 300;
    std::vector<int> runningInside;
    std::vector<std::function<QCoro::Task<int>()>> factories;
    for (int i = 0; i < n; ++i) {
        factories.push_back([&, i]() -> QCoro::Task<int> {
            runningInside.push_back(executor.running());
            co_return i;
        });
    }
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        const GatherOptions options{100};
        const QList<int> results = co_await executor.gather(std::move(factories), options);
        QTAIO_COMPARE(results.size(), n);
        for (int i = 0; i < n; ++i)
            QTAIO_COMPARE(results.at(i), i);
    }));
    QCOMPARE(runningInside, std::vector<int>(n, 1)); // one at a time, each counted as running
    QCOMPARE(started.count(), n);
    QCOMPARE(completed.count(), n);
    QCOMPARE(executor.completed(), qint64(n));
    QCOMPARE(executor.running(), 0);
    QCOMPARE(executor.waiting(), 0);
    QCOMPARE(order.size(), std::size_t(2 * n));
    std::set<TaskExecutor::TaskId> ids;
    for (int i = 0; i < n; ++i) {
        QCOMPARE(order.at(2 * i), order.at(2 * i + 1)); // each ends before the next starts
        ids.insert(order.at(2 * i));
    }
    QCOMPARE(ids.size(), std::size_t(n));
}

void tst_TaskExecutor::anItemThatFailsAtOnceStopsTheGatherWithItsIndex()
{
    TaskExecutor executor;
    std::vector<int> started;
    std::vector<std::function<QCoro::Task<int>()>> factories;
    for (int i = 0; i < 10; ++i) {
        factories.push_back([&, i]() -> QCoro::Task<int> {
            started.push_back(i);
            if (i == 3)
                throw std::runtime_error("item 3"); // before any suspension
            co_return i;
        });
    }
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        const GatherOptions options{100};
        bool thrown = false;
        try {
            (void)co_await executor.gather(std::move(factories), options);
        } catch (const QtAio::ExecutionError &error) {
            thrown = true;
            QTAIO_COMPARE(error.index(), std::optional<std::size_t>(3));
            QTAIO_COMPARE(nestedCause(error), std::string("item 3"));
        }
        QTAIO_VERIFY(thrown);
    }));
    QCOMPARE(started, (std::vector<int>{0, 1, 2, 3})); // nothing new after the failure
    QCOMPARE(executor.completed(), qint64(3));
    QCOMPARE(executor.failed(), qint64(1));
    QCOMPARE(executor.running(), 0);
}

void tst_TaskExecutor::loweringTheLimitMidGatherHoldsBackNewStarts()
{
    // Four items run when the executor's limit drops to 1: the items after them (which end at
    // once) start only once fewer than one task runs, so each sees itself alone.
    TaskExecutor executor;
    std::vector<std::unique_ptr<QtAio::Latch>> release;
    for (int i = 0; i < 4; ++i)
        release.push_back(std::make_unique<QtAio::Latch>(1));
    std::vector<int> runningAtStart(10, -1);
    std::vector<std::function<QCoro::Task<int>()>> factories;
    for (int i = 0; i < 10; ++i) {
        factories.push_back([&, i]() -> QCoro::Task<int> {
            runningAtStart[std::size_t(i)] = executor.running();
            if (i < 4)
                co_await release[std::size_t(i)]->wait();
            co_return i;
        });
    }
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        const GatherOptions options{4};
        auto call = executor.gather(std::move(factories), options);
        QTAIO_COMPARE(executor.running(), 4);
        executor.setLimit(1);
        for (auto &latch : release)
            latch->countDown();
        const QList<int> results = co_await call;
        QTAIO_COMPARE(results, (QList<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    }));
    for (int i = 4; i < 10; ++i)
        QCOMPARE(runningAtStart[std::size_t(i)], 1);
    QCOMPARE(executor.completed(), qint64(10));
    QCOMPARE(executor.running(), 0);
    QCOMPARE(executor.waiting(), 0);
}

void tst_TaskExecutor::aFinishedItemsSlotGoesToARunWaitingAheadOfTheNextItem()
{
    // Executor limit 1, call limit 1: item 0 holds the slot while run() starts to wait for
    // one. When item 0 ends, the slot goes to run() (FIFO), and item 1 waits behind it.
    TaskExecutor executor;
    executor.setLimit(1);
    QtAio::Latch releaseFirst(1);
    std::vector<QString> order;
    std::vector<std::function<QCoro::Task<int>()>> factories;
    for (int i = 0; i < 3; ++i) {
        factories.push_back([&, i]() -> QCoro::Task<int> {
            order.push_back(QString::number(i));
            if (i == 0)
                co_await releaseFirst.wait();
            co_return i;
        });
    }
    auto other = [&]() -> QCoro::Task<int> {
        order.push_back(QStringLiteral("run"));
        co_return -1;
    };
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        const GatherOptions options{1};
        auto call = executor.gather(std::move(factories), options);
        auto waitingRun = executor.run(other);
        QTAIO_COMPARE(executor.waiting(), 1);
        releaseFirst.countDown();
        const QList<int> results = co_await call;
        QTAIO_COMPARE(results, (QList<int>{0, 1, 2}));
        QTAIO_COMPARE(co_await waitingRun, -1);
    }));
    QCOMPARE(order, (std::vector<QString>{QStringLiteral("0"), QStringLiteral("run"),
                                          QStringLiteral("1"), QStringLiteral("2")}));
}

void tst_TaskExecutor::anItemThatEndedAtOnceLetsASpawnWaitingForItsSlotGoFirst()
{
    // Executor limit 1: item 0, running inline, spawns a task, which waits for the slot. Item 0
    // ends at once; the slot goes to the spawned task before item 1 starts (FIFO), even though
    // the next item would otherwise take the slot straight over.
    TaskExecutor executor;
    executor.setLimit(1);
    std::vector<QString> order;
    std::optional<TaskHandle<void>> spawned;
    std::vector<std::function<QCoro::Task<int>()>> factories;
    for (int i = 0; i < 3; ++i) {
        factories.push_back([&, i]() -> QCoro::Task<int> {
            order.push_back(QString::number(i));
            if (i == 0) {
                spawned = executor.spawn([&]() -> QCoro::Task<> {
                    order.push_back(QStringLiteral("spawned"));
                    co_return;
                });
            }
            co_return i;
        });
    }
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        const QList<int> results = co_await executor.gather(std::move(factories));
        QTAIO_COMPARE(results, (QList<int>{0, 1, 2}));
        co_await *spawned;
    }));
    QCOMPARE(order, (std::vector<QString>{QStringLiteral("0"), QStringLiteral("spawned"),
                                          QStringLiteral("1"), QStringLiteral("2")}));
    QCOMPARE(executor.completed(), qint64(4));
}

void tst_TaskExecutor::destroyingTheExecutorMidGatherStopsAndReleasesIt()
{
    // Item 0 runs until stopped; the items after it (which would end at once) wait for the
    // call's limit. Destroying the executor stops item 0 and starts nothing new; the gather
    // ends with the cancellation, and every factory is released.
    auto executor = std::make_unique<TaskExecutor>();
    auto alive = std::make_shared<int>(0);
    std::vector<int> started;
    std::vector<std::function<QCoro::Task<int>(std::stop_token)>> factories;
    for (int i = 0; i < 5; ++i) {
        factories.push_back([&started, alive, i](std::stop_token stop) -> QCoro::Task<int> {
            started.push_back(i);
            if (i == 0) {
                QtAio::Latch never(1);
                co_await never.wait(stop);
            }
            co_return i;
        });
    }
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        const GatherOptions options{1};
        auto call = executor->gather(std::move(factories), options);
        QTAIO_COMPARE(executor->running(), 1);
        executor.reset();
        QTAIO_VERIFY_THROWS(QtAio::CancelledError, (void)co_await call, "");
    }));
    QCOMPARE(started, (std::vector<int>{0}));
    QTRY_COMPARE(alive.use_count(), 1L); // the factories went with the call
}

namespace {
//! The given items as a range whose size is unknown: its end is a sentinel of its own.
template<typename T>
class UnsizedInput {
public:
    explicit UnsizedInput(std::vector<T> items) : m_items(std::move(items)) {}
    using Iterator = typename std::vector<T>::iterator;
    struct End {
        Iterator at;
        friend bool operator==(const Iterator &it, const End &end) { return it == end.at; }
    };
    Iterator begin() { return m_items.begin(); }
    End end() { return {m_items.end()}; }

private:
    std::vector<T> m_items;
};
static_assert(std::ranges::input_range<UnsizedInput<int>> &&
              !std::ranges::sized_range<UnsizedInput<int>>);

//! The given items as a range that claims to hold \a claimed of them.
template<typename T>
class MisSizedInput {
public:
    MisSizedInput(std::vector<T> items, std::size_t claimed)
        : m_items(std::move(items)), m_claimed(claimed)
    {
    }
    auto begin() { return m_items.begin(); }
    auto end() { return m_items.end(); }
    [[nodiscard]] std::size_t size() const { return m_claimed; }

private:
    std::vector<T> m_items;
    std::size_t m_claimed;
};

//! A result that cannot be default constructed.
struct NoDefault {
    explicit NoDefault(int v) : value(v) {}
    int value;
};
int valueOf(int v)
{
    return v;
}
int valueOf(const NoDefault &v)
{
    return v.value;
}

//! Gathers \a n items of type \a R (settled or not) from the input \a wrap makes of their
//! factories. The odd items end at once; the even ones later, in reverse order. Yields each
//! result's value, in the order of the list.
template<typename R, bool Settled, typename Wrap>
QCoro::Task<std::vector<int>> gatherOutOfOrder(TaskExecutor &executor, int n, Wrap wrap)
{
    std::vector<std::unique_ptr<QtAio::Latch>> latches;
    std::vector<std::function<QCoro::Task<R>()>> factories;
    for (int i = 0; i < n; ++i) {
        latches.push_back(std::make_unique<QtAio::Latch>(1));
        QtAio::Latch *latch = latches.back().get();
        factories.push_back([latch, i]() -> QCoro::Task<R> {
            if (i % 2 == 0)
                co_await latch->wait();
            co_return R(i);
        });
    }
    auto input = wrap(std::move(factories));
    std::vector<int> values;
    if constexpr (Settled) {
        auto call = executor.gatherSettled(std::move(input));
        for (int i = n - 1; i >= 0; --i)
            latches[std::size_t(i)]->countDown();
        const auto outcomes = co_await call;
        for (const auto &outcome : outcomes)
            values.push_back(valueOf(outcome.value()));
    } else {
        auto call = executor.gather(std::move(input));
        for (int i = n - 1; i >= 0; --i)
            latches[std::size_t(i)]->countDown();
        const auto results = co_await call;
        for (const auto &result : results)
            values.push_back(valueOf(result));
    }
    co_return values;
}
} // namespace

void tst_TaskExecutor::resultsKeepInputOrderWhateverTheInput()
{
    // Results land in input order however the items end (inline, or later in reverse order)
    // and whatever the input: sized (the list is sized first and each item writes its own
    // slot), unsized (the list grows as the items end), or results that cannot be default
    // constructed (kept aside until the end).
    TaskExecutor executor;
    constexpr int n = 7;
    std::vector<int> expected(n);
    std::iota(expected.begin(), expected.end(), 0);
    auto sized = [](auto factories) { return factories; };
    auto unsized = [](auto factories) {
        return UnsizedInput<typename decltype(factories)::value_type>(std::move(factories));
    };
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        std::vector<int> values = co_await gatherOutOfOrder<int, false>(executor, n, sized);
        QTAIO_COMPARE(values, expected);
        values = co_await gatherOutOfOrder<int, true>(executor, n, sized);
        QTAIO_COMPARE(values, expected);
        values = co_await gatherOutOfOrder<int, false>(executor, n, unsized);
        QTAIO_COMPARE(values, expected);
        values = co_await gatherOutOfOrder<int, true>(executor, n, unsized);
        QTAIO_COMPARE(values, expected);
        values = co_await gatherOutOfOrder<NoDefault, false>(executor, n, sized);
        QTAIO_COMPARE(values, expected);
        values = co_await gatherOutOfOrder<NoDefault, true>(executor, n, sized);
        QTAIO_COMPARE(values, expected);
        values = co_await gatherOutOfOrder<NoDefault, false>(executor, n, unsized);
        QTAIO_COMPARE(values, expected);
        values = co_await gatherOutOfOrder<NoDefault, true>(executor, n, unsized);
        QTAIO_COMPARE(values, expected);
        // Settled failures of an unsized input take their slots too.
        std::vector<std::function<QCoro::Task<int>()>> failing;
        for (int i = 0; i < 3; ++i) {
            failing.push_back([i]() -> QCoro::Task<int> {
                if (i == 1)
                    throw std::runtime_error("one");
                co_return i;
            });
        }
        auto failingInput = unsized(std::move(failing));
        auto settling = executor.gatherSettled(std::move(failingInput));
        const auto outcomes = co_await settling;
        QTAIO_COMPARE(outcomes.size(), 3);
        QTAIO_COMPARE(outcomes[0].value(), 0);
        QTAIO_VERIFY(outcomes[1].hasError());
        QTAIO_COMPARE(outcomes[2].value(), 2);
        // A map() of zipped sized ranges makes as many calls as the shortest one holds.
        auto tenTimes = [](int a, int b) -> QCoro::Task<int> { co_return a * 10 + b; };
        const std::vector<int> longer{1, 2, 3};
        const QList<int> shorter{4, 5};
        auto zipping = executor.map(tenTimes, GatherOptions{}, longer, shorter);
        const QList<int> zipped = co_await zipping;
        QTAIO_COMPARE(zipped, (QList<int>{14, 25}));
    }));
    QCOMPARE(executor.running(), 0);
    QCOMPARE(executor.failed(), qint64(1));
}

void tst_TaskExecutor::anInputLongerThanItsSizeFailsTheCall()
{
    // A sized input that yields more than its size said: the item past it fails the call
    // (its list was sized before the first item), settled or not.
    TaskExecutor executor;
    auto factories = [] {
        std::vector<std::function<QCoro::Task<int>()>> made;
        for (int i = 0; i < 3; ++i)
            made.push_back([i]() -> QCoro::Task<int> { co_return i; });
        return made;
    };
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        bool thrown = false;
        auto gathering = executor.gather(MisSizedInput(factories(), 2));
        try {
            (void)co_await gathering;
        } catch (const QtAio::ExecutionError &error) {
            thrown = true;
            QTAIO_COMPARE(error.index(), std::optional<std::size_t>(2));
            QTAIO_COMPARE(nestedCause(error),
                          std::string("TaskExecutor: the input yielded more than its size"));
        }
        QTAIO_VERIFY(thrown);
        thrown = false;
        auto settling = executor.gatherSettled(MisSizedInput(factories(), 2));
        try {
            (void)co_await settling;
        } catch (const QtAio::ExecutionError &error) {
            thrown = true;
            QTAIO_COMPARE(error.index(), std::optional<std::size_t>(2));
        }
        QTAIO_VERIFY(thrown);
    }));
    QCOMPARE(executor.running(), 0);
}

void tst_TaskExecutor::inlineItemsStartNestedWorkInTheirSlot()
{
    // Items whose work ends at once run inline, each factory called with the executor as the
    // thread's task context: work it starts on the same executor runs in the item's slot (under
    // a limit of 1 it does not wait for one), and the caller's context is back once the gather
    // has launched its items, also after a factory that threw.
    TaskExecutor executor;
    executor.setLimit(1);
    std::vector<bool> nestedReady;
    std::vector<int> runningInside;
    std::vector<std::function<QCoro::Task<int>()>> factories;
    for (int i = 0; i < 4; ++i) {
        factories.push_back([&, i]() -> QCoro::Task<int> {
            auto nested = executor.run([i]() -> QCoro::Task<int> { co_return i * 10; });
            nestedReady.push_back(nested.isReady());
            runningInside.push_back(executor.running());
            const int value = co_await nested;
            co_return value;
        });
    }
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto call = executor.gather(std::move(factories));
        QTAIO_COMPARE(QtAio::detail::currentTaskContext(), nullptr);
        const QList<int> results = co_await call;
        QTAIO_COMPARE(results, (QList<int>{0, 10, 20, 30}));
        std::vector<std::function<QCoro::Task<int>()>> throwing;
        throwing.push_back([]() -> QCoro::Task<int> { co_return 1; });
        throwing.push_back([]() -> QCoro::Task<int> { throw std::runtime_error("no task"); });
        auto failing = executor.gather(std::move(throwing));
        QTAIO_COMPARE(QtAio::detail::currentTaskContext(), nullptr);
        QTAIO_VERIFY_THROWS(QtAio::ExecutionError, (void)co_await failing, "");
    }));
    QCOMPARE(nestedReady, std::vector<bool>(4, true));
    QCOMPARE(runningInside, std::vector<int>(4, 1));
    QCOMPARE(executor.completed(), qint64(9));
    QCOMPARE(executor.failed(), qint64(1));
    QCOMPARE(executor.running(), 0);
}

QTEST_GUILESS_MAIN(tst_TaskExecutor)
#include "tst_taskexecutor.moc"

namespace {
//! Factories that each return a runInThread() call of \a executor over \a func and their index.
template<typename Func>
std::vector<std::function<QCoro::Task<int>()>> callFactories(TaskExecutor &executor, int n,
                                                             Func func)
{
    std::vector<std::function<QCoro::Task<int>()>> factories;
    for (int i = 0; i < n; ++i)
        factories.push_back([&executor, func, i] { return executor.runInThread(func, i); });
    return factories;
}
} // namespace

void tst_TaskExecutor::gatheredRunInThreadCallsFinishTheirItems()
{
    // An item whose factory returns a runInThread() call is finished by that call: the results,
    // counters and signals are those of two tasks per item, the item and its call.
    TaskExecutor executor;
    QSignalSpy started(&executor, &TaskExecutor::taskStarted);
    QSignalSpy completed(&executor, &TaskExecutor::taskCompleted);
    QVERIFY(started.isValid() && completed.isValid());
    constexpr int n = 40;
    auto factories = callFactories(executor, n, [](int v) { return 2 * v; });
    // Factories whose task is not the first call they make: a second call (the first one runs
    // on, nobody awaiting it), and a coroutine that awaits a call and adds to its result.
    factories.push_back([&executor] {
        auto dropped = executor.runInThread([] { return 1000; });
        return executor.runInThread([] { return 7; });
    });
    factories.push_back([&executor]() -> QCoro::Task<int> {
        co_return 1 + co_await executor.runInThread([] { return 10; });
    });
    std::atomic<int> voidCalls = 0;
    std::vector<std::function<QCoro::Task<>()>> voidFactories;
    for (int i = 0; i < 5; ++i)
        voidFactories.push_back([&] { return executor.runInThread([&] { ++voidCalls; }); });
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        const QList<int> values = co_await executor.gather(std::move(factories));
        QTAIO_COMPARE(values.size(), qsizetype(n + 2));
        for (int i = 0; i < n; ++i)
            QTAIO_COMPARE(values[i], 2 * i);
        QTAIO_COMPARE(values[n], 7);
        QTAIO_COMPARE(values[n + 1], 11);
        co_await executor.gather(std::move(voidFactories));
        QTAIO_COMPARE(voidCalls.load(), 5);
        // Streams take the same path: results with their input index.
        auto stream = executor.asCompleted(callFactories(executor, 4, [](int v) { return v; }));
        int sum = 0;
        QCORO_FOREACH(const QtAio::Completed<int> &done, stream)
        {
            QTAIO_COMPARE(done.value, int(done.index));
            sum += done.value;
        }
        QTAIO_COMPARE(sum, 6);
        co_await executor.cancelAll(); // the dropped call has ended too
    }));
    const qint64 tasks = 2 * n + 3 + 2 + 2 * 5 + 2 * 4;
    QCOMPARE(executor.completed(), tasks);
    QCOMPARE(executor.failed(), 0);
    QCOMPARE(qint64(started.count()), tasks);
    QCOMPARE(qint64(completed.count()), tasks);
    QCOMPARE(executor.running(), 0);
}

void tst_TaskExecutor::aThrowingGatheredCallFailsItsItem()
{
    // The item fails with what awaiting its call would have thrown: ExecutionError of
    // runInThread() with the cause nested, itself nested in the gather's error for its index.
    TaskExecutor executor;
    auto failAtThree = [](int v) {
        if (v == 3)
            throw std::runtime_error("call 3 failed");
        return v;
    };
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        try {
            (void)co_await executor.gather(callFactories(executor, 6, failAtThree));
            QTAIO_FAIL("no exception");
        } catch (const QtAio::ExecutionError &e) {
            QTAIO_VERIFY(e.index() == std::optional<std::size_t>(3));
            try {
                std::rethrow_if_nested(e);
                QTAIO_FAIL("no cause");
            } catch (const QtAio::ExecutionError &call) {
                QTAIO_VERIFY(std::string(call.what()).find("runInThread") != std::string::npos);
                QTAIO_COMPARE(nestedCause(call), std::string("call 3 failed"));
            }
        }
        const auto outcomes =
            co_await executor.gatherSettled(callFactories(executor, 6, failAtThree));
        QTAIO_COMPARE(outcomes.size(), qsizetype(6));
        for (int i = 0; i < 6; ++i) {
            QTAIO_COMPARE(outcomes[i].hasError(), i == 3);
            if (i != 3)
                QTAIO_COMPARE(outcomes[i].value(), i);
        }
        try {
            std::rethrow_exception(outcomes[3].error());
        } catch (const QtAio::ExecutionError &call) {
            QTAIO_COMPARE(nestedCause(call), std::string("call 3 failed"));
        }
        co_await executor.cancelAll();
    }));
    QCOMPARE(executor.failed(), 4); // the failing call and its item, in each gather
    QCOMPARE(executor.running(), 0);
}

void tst_TaskExecutor::cancellingGatheredCalls()
{
    QThreadPool pool;
    pool.setMaxThreadCount(2);
    TaskExecutor executor(&pool);
    // One call of the batch ends cancelled: it and its item count as cancelled, the others
    // complete.
    auto cancelTwo = [](int v) {
        if (v == 2)
            throw QtAio::CancelledError("call 2 cancelled");
        return v;
    };
    // Calls that take a stop token run until cancelAll() requests it; two are still queued
    // behind them then, and see it as they start.
    constexpr int n = 4;
    QtAio::Latch twoRunning(2);
    std::atomic<int> sawStop = 0;
    std::vector<std::function<QCoro::Task<int>()>> stoppable;
    for (int i = 0; i < n; ++i) {
        stoppable.push_back([&, i] {
            return executor.runInThread(
                [&](std::stop_token stop, int v) {
                    QtAio::Latch stopRequested(1);
                    const std::stop_callback onStop(stop, [&] { stopRequested.countDown(); });
                    if (v < 2)
                        twoRunning.countDown();
                    stopRequested.waitBlocking();
                    ++sawStop;
                    return v;
                },
                i);
        });
    }
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        const auto outcomes =
            co_await executor.gatherSettled(callFactories(executor, 4, cancelTwo));
        QTAIO_COMPARE(outcomes.size(), qsizetype(4));
        QTAIO_VERIFY(outcomes[2].hasError());
        QTAIO_VERIFY_THROWS(QtAio::CancelledError, std::rethrow_exception(outcomes[2].error()),
                            "call 2 cancelled");
        QTAIO_COMPARE(outcomes[3].value(), 3);
        QTAIO_COMPARE(executor.cancelled(), 2);

        auto gathering = executor.gather(std::move(stoppable));
        co_await twoRunning.wait();
        co_await executor.cancelAll();
        const QList<int> values = co_await gathering; // every item had started: their results
        QTAIO_COMPARE(values, (QList<int>{0, 1, 2, 3}));
    }));
    QCOMPARE(sawStop.load(), n);
    QCOMPARE(executor.running(), 0);
    QVERIFY(pool.waitForDone(60000));
}

void tst_TaskExecutor::shutdownWithGatheredCallsStillQueued()
{
    // One pool thread, held by the first call: the others wait in the executor's queue when
    // shutdown() comes. They run once the first is released; shutdown() returns after them.
    QThreadPool pool;
    pool.setMaxThreadCount(1);
    TaskExecutor executor(&pool);
    QtAio::Latch firstRunning(1);
    QtAio::Latch release(1);
    auto call = [&](int v) {
        if (v == 0) {
            firstRunning.countDown();
            release.waitBlocking();
        }
        return 10 * v;
    };
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto gathering = executor.gather(callFactories(executor, 6, call));
        co_await firstRunning.wait();
        auto down = executor.shutdown();
        QTAIO_VERIFY(executor.isShutDown());
        QTAIO_VERIFY_THROWS(QtAio::ExecutionError, co_await executor.runInThread(call, 1),
                            "shut down");
        release.countDown();
        co_await down;
        QTAIO_COMPARE(executor.running(), 0);
        const QList<int> values = co_await gathering;
        QTAIO_COMPARE(values, (QList<int>{0, 10, 20, 30, 40, 50}));
    }));
    QCOMPARE(executor.completed(), 2 * 6); // each item and its call
    QVERIFY(pool.waitForDone(60000));
}

void tst_TaskExecutor::destroyingTheExecutorWithGatheredCallsQueued()
{
    // The executor goes while its calls wait in its queue behind a blocked one: nothing blocks
    // or crashes, the calls run once the pool is free, and the gather yields their results.
    QThreadPool pool;
    pool.setMaxThreadCount(1);
    auto executor = std::make_unique<TaskExecutor>(&pool);
    QtAio::Latch firstRunning(1);
    QtAio::Latch release(1);
    std::atomic<int> ran = 0;
    auto call = [&](int v) {
        if (v == 0) {
            firstRunning.countDown();
            release.waitBlocking();
        }
        ++ran;
        return v;
    };
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto gathering = executor->gather(callFactories(*executor, 5, call));
        co_await firstRunning.wait();
        executor.reset();
        release.countDown();
        const QList<int> values = co_await gathering;
        QTAIO_COMPARE(values, (QList<int>{0, 1, 2, 3, 4}));
    }));
    QCOMPARE(ran.load(), 5);
    QVERIFY(pool.waitForDone(60000));
}

void tst_TaskExecutor::gatheredRunInThreadCallsOnAWorkerThread()
{
    // A gather of runInThread() calls made on a worker thread's event loop: each call finishes
    // its item there, and the gather resumes there.
    QtAioTest::EventLoopThread worker;
    std::unique_ptr<TaskExecutor> executor;
    std::atomic<int> sum = -1;
    std::atomic<bool> onWorker = false;
    std::atomic<bool> callsOffWorker = true;
    QThread *workerThread = worker.thread();
    auto body = [&]() -> QCoro::Task<> {
        auto twice = [&](int v) {
            callsOffWorker = callsOffWorker && QThread::currentThread() != workerThread;
            return 2 * v;
        };
        const QList<int> values = co_await executor->gather(callFactories(*executor, 8, twice));
        onWorker = QThread::currentThread() == workerThread;
        sum = std::accumulate(values.begin(), values.end(), 0);
    };
    worker.invoke([&] {
        executor = std::make_unique<TaskExecutor>();
        body();
    });
    QTRY_COMPARE(sum.load(), 56);
    QVERIFY(onWorker.load());
    QVERIFY(callsOffWorker.load());
    worker.invoke([&] { executor.reset(); });
}
