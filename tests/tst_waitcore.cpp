// SPDX-License-Identifier: MIT
// The waiting core at its edges: threads whose event loop ended, durations too large for any
// clock or timer, nested event loops, and the sanitizer annotations of every TSan build.
#include "qtaiotest.h"

#include <qtaio/asyncqueue.h>
#include <qtaio/latch.h>
#include <qtaio/semaphore.h>
#include <qtaio/taskexecutor.h>
#include <qtaio/timeout.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QEventLoop>
#include <QtCore/QProcess>
#include <QtCore/QThread>

#include <qcoro/qcorotask.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

class tst_WaitCore : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void cleanup();
    void threadSanitizerBuildsAreAnnotated();

    void foreverTimeoutsNeverExpire_data();
    void foreverTimeoutsNeverExpire();
    void foreverTimeoutsInBlockingForms();
    void nanTimeoutIsRejected();
    void nonPositiveTimeoutsExpireAtOnce();

    void longTimeoutsDoNotFireEarly();
    void deadlinesBeyondOneTimerAreReArmed();

    void waiterOnAnEndedThreadGetsNoItem();
    void destroyingAQueueAfterItsWaitersThreadEnded();
    void latchAndSemaphoreWaitersOnAnEndedThread();
    void awaitAfterTheThreadEndedFailsAtOnce();
    void primitivesOutlivingTheApplication();

    void nestedEventLoopLetsTheRestOfABatchRun();
};

void tst_WaitCore::cleanup()
{
    QtAio::detail::setMaxTimerIntervalForTesting(0ms);
}

void tst_WaitCore::threadSanitizerBuildsAreAnnotated()
{
    // This test is compiled with the flags the library was built with: a TSan build of the
    // tests means a TSan build of QtAio, however the sanitizer was requested.
    bool tsan = false;
#if defined(__SANITIZE_THREAD__)
    tsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
    tsan = true;
#endif
#endif
    QCOMPARE(QtAio::detail::threadSanitizerAnnotations(), tsan);
}

// ---------------------------------------------------------------------------------------------
// Durations

namespace {
using Years = std::chrono::duration<long long, std::ratio<31556952>>;
using DoubleSeconds = std::chrono::duration<double>;
} // namespace

void tst_WaitCore::foreverTimeoutsNeverExpire_data()
{
    QTest::addColumn<int>("which");
    QTest::newRow("hours::max()") << 0;
    QTest::newRow("seconds::max()") << 1;
    QTest::newRow("1000 years") << 2;
    QTest::newRow("nanoseconds::max()") << 3;
    QTest::newRow("double infinity seconds") << 4;
    QTest::newRow("milliseconds::max()") << 5;
}

void tst_WaitCore::foreverTimeoutsNeverExpire()
{
    QFETCH(int, which);
    const auto deadline = [which] {
        switch (which) {
        case 0:
            return QtAio::detail::deadlineAfter(std::chrono::hours::max());
        case 1:
            return QtAio::detail::deadlineAfter(std::chrono::seconds::max());
        case 2:
            return QtAio::detail::deadlineAfter(Years(1000));
        case 3:
            return QtAio::detail::deadlineAfter(std::chrono::nanoseconds::max());
        case 4:
            return QtAio::detail::deadlineAfter(
                DoubleSeconds(std::numeric_limits<double>::infinity()));
        default:
            return QtAio::detail::deadlineAfter(std::chrono::milliseconds::max());
        }
    }();
    QVERIFY(!deadline.hasExpired());
    QVERIFY(deadline.remainingTimeAsDuration() > 24h * 365 * 100);

    QtAio::AsyncQueue<int> queue;
    QtAio::Latch latch(1);
    QtAio::Semaphore gate(0);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        // Every coroutine form waits; a later hand-over completes it.
        QTimer::singleShot(20, [&] {
            (void)queue.tryPut(1);
            latch.countDown();
            gate.setCapacity(1); // opens the closed gate
        });
        switch (which) {
        case 0: {
            QTAIO_COMPARE(co_await queue.get(std::chrono::hours::max()), 1);
            QTAIO_VERIFY(co_await latch.wait(std::chrono::hours::max()));
            auto permit = co_await gate.acquire(std::chrono::hours::max());
            break;
        }
        case 1: {
            QTAIO_COMPARE(co_await queue.get(std::chrono::seconds::max()), 1);
            QTAIO_VERIFY(co_await latch.wait(std::chrono::seconds::max()));
            auto permit = co_await QtAio::withTimeout(gate.acquire(), std::chrono::seconds::max());
            break;
        }
        case 2: {
            QTAIO_COMPARE(co_await queue.get(Years(1000)), 1);
            QTAIO_VERIFY(co_await latch.wait(Years(1000)));
            auto permit = co_await gate.acquire(Years(1000));
            break;
        }
        default: {
            QTAIO_COMPARE(co_await QtAio::withTimeout(queue.get(), deadline), 1);
            QTAIO_VERIFY(co_await latch.wait(deadline));
            auto permit = co_await gate.acquire(deadline);
            break;
        }
        }
    }));
}

void tst_WaitCore::foreverTimeoutsInBlockingForms()
{
    QtAio::AsyncQueue<int> queue;
    QtAio::Latch latch(1);
    std::atomic<int> got{0};
    std::atomic<bool> released{false};
    {
        std::jthread getter([&] { got = queue.getBlocking(std::chrono::hours::max()); });
        std::jthread waiter([&] { released = latch.waitBlocking(Years(1000)); });
        QTRY_COMPARE(queue.waitingGetters(), 1);
        QTRY_COMPARE(latch.waiting(), 1);
        QVERIFY(queue.tryPut(5));
        latch.countDown();
    }
    QCOMPARE(got.load(), 5);
    QVERIFY(released.load());
}

void tst_WaitCore::nanTimeoutIsRejected()
{
    QtAio::AsyncQueue<int> queue;
    const DoubleSeconds nan(std::numeric_limits<double>::quiet_NaN());
    QTAIO_VERIFY_THROWS_SYNC(std::invalid_argument, (void)queue.get(nan), "got NaN");
    QTAIO_VERIFY_THROWS_SYNC(std::invalid_argument, (void)queue.getBlocking(nan), "got NaN");
    QCOMPARE(queue.waitingGetters(), 0);
}

void tst_WaitCore::nonPositiveTimeoutsExpireAtOnce()
{
    QtAio::AsyncQueue<int> queue;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTAIO_VERIFY_THROWS(QtAio::TimeoutError, co_await queue.get(0ms), "timed out");
        QTAIO_VERIFY_THROWS(QtAio::TimeoutError, co_await queue.get(-5s), "timed out");
        QTAIO_VERIFY_THROWS(QtAio::TimeoutError, co_await queue.get(std::chrono::hours::min()),
                            "timed out");
        // Completion wins over an expired deadline.
        (void)queue.tryPut(3);
        QTAIO_COMPARE(co_await queue.get(-1s), 3);
    }));
}

void tst_WaitCore::longTimeoutsDoNotFireEarly()
{
    // 2^32 ms + 50 ms: an interval truncated to 32 bits would fire after 50 ms; 30 days does
    // not fit in an int of milliseconds at all.
    const auto wrapping = std::chrono::milliseconds((qint64(1) << 32) + 50);
    const auto beyondInt = std::chrono::hours(24 * 30);
    QtAio::AsyncQueue<int> queue;
    QtAio::Latch latch(1);
    QtAio::Semaphore gate(0);
    QtAio::Semaphore other(0);
    int ended = 0;
    bool checked = false;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto getter = [&](auto timeout) -> QCoro::Task<> {
            try {
                (void)co_await queue.get(timeout);
            } catch (const QtAio::Error &) {
            }
            ++ended;
        };
        auto waiter = [&](auto timeout) -> QCoro::Task<> {
            (void)co_await latch.wait(timeout);
            ++ended;
        };
        auto acquirer = [&](auto timeout) -> QCoro::Task<> {
            try {
                auto permit = co_await gate.acquire(timeout);
            } catch (const QtAio::Error &) {
            }
            ++ended;
        };
        auto wrapped = [&](auto timeout) -> QCoro::Task<> {
            try {
                auto permit = co_await QtAio::withTimeout(other.acquire(), timeout);
            } catch (const QtAio::Error &) {
            }
            ++ended;
        };
        std::vector<QCoro::Task<>> tasks;
        tasks.push_back(getter(wrapping));
        tasks.push_back(getter(beyondInt));
        tasks.push_back(waiter(wrapping));
        tasks.push_back(waiter(beyondInt));
        tasks.push_back(acquirer(wrapping));
        tasks.push_back(acquirer(beyondInt));
        tasks.push_back(wrapped(wrapping));
        tasks.push_back(wrapped(beyondInt));
        // A deadline well after the 50 ms a truncated timer would take: timers fire in
        // deadline order, so by then a truncated one would have ended its wait.
        QtAio::Latch probe(1);
        (void)co_await probe.wait(300ms);
        QTAIO_COMPARE(ended, 0);
        QTAIO_COMPARE(queue.waitingGetters(), 2);
        QTAIO_COMPARE(latch.waiting(), 2);
        QTAIO_COMPARE(gate.waiting(), 2);
        QTAIO_COMPARE(other.waiting(), 2);
        checked = true;
        // Release them all the normal way.
        (void)queue.tryPut(1);
        (void)queue.tryPut(2);
        latch.countDown();
        gate.setCapacity(2);
        other.setCapacity(2);
        for (auto &task : tasks)
            co_await task;
        QTAIO_COMPARE(ended, 8);
    }));
    QVERIFY(checked);
}

void tst_WaitCore::deadlinesBeyondOneTimerAreReArmed()
{
    // With one timer limited to 20 ms, a 150 ms deadline takes several timers, and fires at its
    // deadline, not at the first of them.
    QtAio::detail::setMaxTimerIntervalForTesting(20ms);
    QtAio::Latch latch(1);
    QtAio::AsyncQueue<int> queue;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QElapsedTimer elapsed;
        elapsed.start();
        QTAIO_VERIFY(!co_await latch.wait(150ms));
        QTAIO_VERIFY(elapsed.elapsed() >= 150);
        elapsed.restart();
        QTAIO_VERIFY_THROWS(QtAio::TimeoutError, co_await queue.get(100ms), "timed out");
        QTAIO_VERIFY(elapsed.elapsed() >= 100);
        QTAIO_COMPARE(queue.waitingGetters(), 0);
    }));
}

// ---------------------------------------------------------------------------------------------
// Threads whose event loop ended

namespace {
struct EndedWait {
    std::atomic<bool> started{false};
    std::atomic<bool> cancelled{false};
    std::atomic<bool> gotItem{false};
    std::string message;
};

QCoro::Task<> getOnce(QtAio::AsyncQueue<int> &queue, EndedWait &state)
{
    state.started = true;
    try {
        (void)co_await queue.get();
        state.gotItem = true;
    } catch (const QtAio::CancelledError &e) {
        state.message = e.what();
        state.cancelled = true;
    }
}
} // namespace

void tst_WaitCore::waiterOnAnEndedThreadGetsNoItem()
{
    QtAio::AsyncQueue<int> queue;
    EndedWait state;
    {
        QtAioTest::EventLoopThread worker;
        worker.invoke([&] { getOnce(queue, state); });
        QTRY_COMPARE(queue.waitingGetters(), 1);
        worker.stop(); // the loop quits and the thread finishes
    }
    // The waiter ended in its own thread as the thread finished; no item reached it.
    QVERIFY(state.cancelled.load());
    QVERIFY(!state.gotItem.load());
    QVERIFY2(state.message.find("event loop has ended") != std::string::npos,
             state.message.c_str());
    QCOMPARE(queue.waitingGetters(), 0);
    // A later put keeps its item in the queue, for the next live getter.
    QVERIFY(queue.tryPut(7));
    QCOMPARE(queue.size(), 1);
    QCOMPARE(queue.tryGet(), std::optional<int>(7));
}

void tst_WaitCore::destroyingAQueueAfterItsWaitersThreadEnded()
{
    auto queue = std::make_unique<QtAio::AsyncQueue<int>>(1);
    EndedWait getter;
    std::atomic<bool> putterCancelled{false};
    QVERIFY(queue->tryPut(1));
    QtAio::AsyncQueue<int> empty;
    {
        QtAioTest::EventLoopThread worker;
        worker.invoke([&] {
            getOnce(empty, getter);
            [](QtAio::AsyncQueue<int> &q, std::atomic<bool> &cancelled) -> QCoro::Task<> {
                try {
                    co_await q.put(2); // full: waits
                } catch (const QtAio::CancelledError &) {
                    cancelled = true;
                }
            }(*queue, putterCancelled);
        });
        QTRY_COMPARE(queue->waitingPutters(), 1);
        QTRY_COMPARE(empty.waitingGetters(), 1);
        worker.stop();
    }
    QVERIFY(putterCancelled.load());
    QVERIFY(getter.cancelled.load());
    QCOMPARE(queue->waitingPutters(), 0);
    QCOMPARE(queue->size(), 1); // the stranded put added nothing
    queue.reset();              // nothing refers to the ended thread any more
}

void tst_WaitCore::latchAndSemaphoreWaitersOnAnEndedThread()
{
    auto latch = std::make_unique<QtAio::Latch>(1);
    auto gate = std::make_unique<QtAio::Semaphore>(0);
    std::atomic<int> cancelled{0};
    {
        QtAioTest::EventLoopThread worker;
        worker.invoke([&] {
            [](QtAio::Latch &l, std::atomic<int> &n) -> QCoro::Task<> {
                try {
                    (void)co_await l.wait(1h);
                } catch (const QtAio::CancelledError &) {
                    ++n;
                }
            }(*latch, cancelled);
            [](QtAio::Semaphore &s, std::atomic<int> &n) -> QCoro::Task<> {
                try {
                    auto permit = co_await s.acquire();
                } catch (const QtAio::CancelledError &) {
                    ++n;
                }
            }(*gate, cancelled);
        });
        QTRY_COMPARE(latch->waiting(), 1);
        QTRY_COMPARE(gate->waiting(), 1);
        worker.stop();
    }
    QCOMPARE(cancelled.load(), 2);
    // The permit given now is not taken by the ended waiter.
    gate->setCapacity(1);
    QCOMPARE(gate->available(), 1);
    latch->countDown();
    latch.reset();
    gate.reset();
}

void tst_WaitCore::awaitAfterTheThreadEndedFailsAtOnce()
{
    // A coroutine that catches the first CancelledError and awaits again, still in the ending
    // thread, gets CancelledError at once instead of waiting forever.
    QtAio::AsyncQueue<int> queue;
    std::atomic<int> failures{0};
    {
        QtAioTest::EventLoopThread worker;
        worker.invoke([&] {
            [](QtAio::AsyncQueue<int> &q, std::atomic<int> &n) -> QCoro::Task<> {
                for (int i = 0; i < 2; ++i) {
                    try {
                        (void)co_await q.get();
                    } catch (const QtAio::CancelledError &) {
                        ++n;
                    }
                }
            }(queue, failures);
        });
        QTRY_COMPARE(queue.waitingGetters(), 1);
        worker.stop();
    }
    QCOMPARE(failures.load(), 2);
    QCOMPARE(queue.waitingGetters(), 0);
}

namespace {
//! The main thread's end, in a process of its own (run by primitivesOutlivingTheApplication):
//! a coroutine waits in get() when QCoreApplication is destroyed; then a put, and the queue's
//! destruction, must find nothing of the main thread's resumer. Exit status 0 when all is well.
int applicationTeardown(int argc, char **argv)
{
    QtAio::AsyncQueue<int> queue;
    EndedWait state;
    {
        QCoreApplication app(argc, argv);
        auto task = getOnce(queue, state);
        if (queue.waitingGetters() != 1)
            return 10;
    } // the application goes: its main-thread waits end here
    if (!state.cancelled || state.gotItem)
        return 11;
    if (queue.waitingGetters() != 0)
        return 12;
    if (!queue.tryPut(1) || queue.size() != 1)
        return 13; // the item stays in the queue
    std::printf("teardown ok: %s\n", state.message.c_str());
    return 0;
}
} // namespace

void tst_WaitCore::primitivesOutlivingTheApplication()
{
    QProcess child;
    child.setProcessChannelMode(QProcess::MergedChannels);
    child.start(QCoreApplication::applicationFilePath(),
                {QStringLiteral("--application-teardown")});
    QVERIFY(child.waitForFinished(120000));
    const QByteArray output = child.readAll();
    QVERIFY2(child.exitStatus() == QProcess::NormalExit, output.constData());
    QVERIFY2(child.exitCode() == 0, output.constData());
    QVERIFY2(output.contains("event loop has ended"), output.constData());
}

// ---------------------------------------------------------------------------------------------
// Nested event loops

void tst_WaitCore::nestedEventLoopLetsTheRestOfABatchRun()
{
    // Three coroutines released by one countDown() are resumed from one event. The first spins
    // a nested event loop (as a modal dialog's exec() does) until the others have run: they
    // must run inside it, in order.
    QtAio::Latch latch(1);
    std::vector<int> order;
    QEventLoop *nested = nullptr;
    auto first = [&]() -> QCoro::Task<> {
        co_await latch.wait();
        order.push_back(1);
        QEventLoop loop;
        nested = &loop;
        QTimer watchdog;
        QObject::connect(&watchdog, &QTimer::timeout, &loop, [&] { loop.exit(1); });
        watchdog.start(60s);
        const int result = loop.exec();
        nested = nullptr;
        order.push_back(result == 0 ? 4 : -1);
    };
    auto other = [&](int id) -> QCoro::Task<> {
        co_await latch.wait();
        order.push_back(id);
        if (id == 3 && nested)
            nested->quit();
    };
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto a = first();
        auto b = other(2);
        auto c = other(3);
        latch.countDown();
        co_await a;
        co_await b;
        co_await c;
    }));
    QCOMPARE(order, (std::vector<int>{1, 2, 3, 4}));
}

int main(int argc, char **argv)
{
    if (argc > 1 && std::strcmp(argv[1], "--application-teardown") == 0)
        return applicationTeardown(argc, argv);
    QCoreApplication app(argc, argv);
    tst_WaitCore test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_waitcore.moc"
