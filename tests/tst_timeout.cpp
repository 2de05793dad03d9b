// SPDX-License-Identifier: MIT
#include "qtaiotest.h"

#include <qtaio/asyncqueue.h>
#include <qtaio/latch.h>
#include <qtaio/semaphore.h>
#include <qtaio/timeout.h>

#include <QtCore/QRegularExpression>

#include <qcoro/qcorotask.h>

#include <memory>
#include <string>
#include <stdexcept>

using namespace std::chrono_literals;
using QtAio::withTimeout;

class tst_Timeout : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void latchWaitThrowsInsteadOfFalse();
    void completesBeforeTheDeadline();
    void earlierDeadlineWins();
    void timedOutPutLeavesItemUntouched();
    void putOfACopyWithTimeout();
    void startedTaskWithTimeout();
    void abandonedTaskFailureIsReported();
};

void tst_Timeout::latchWaitThrowsInsteadOfFalse()
{
    QtAio::Latch latch(1);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTAIO_VERIFY_THROWS(QtAio::TimeoutError, co_await withTimeout(latch.wait(), 5ms),
                            "withTimeout: timed out");
        latch.countDown();
        QTAIO_VERIFY(co_await withTimeout(latch.wait(), 0ms)); // released: true at once
    }));
}

void tst_Timeout::completesBeforeTheDeadline()
{
    QtAio::AsyncQueue<int> queue;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTimer::singleShot(0, [&] { (void)queue.tryPut(7); });
        QTAIO_COMPARE(co_await withTimeout(queue.get(), 60s), 7);
    }));
}

void tst_Timeout::earlierDeadlineWins()
{
    QtAio::Semaphore gate(0);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        // The awaitable's own deadline (10 ms) is earlier than withTimeout's (60 s).
        QTAIO_VERIFY_THROWS(QtAio::TimeoutError,
                            (void)co_await withTimeout(gate.acquire(10ms), 60s), "timed out");
        QTAIO_COMPARE(gate.waiting(), 0);
    }));
}

void tst_Timeout::timedOutPutLeavesItemUntouched()
{
    QtAio::AsyncQueue<std::unique_ptr<int>> queue(1);
    QVERIFY(queue.tryPut(std::make_unique<int>(0)));
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto item = std::make_unique<int>(1);
        QTAIO_VERIFY_THROWS(QtAio::TimeoutError,
                            co_await withTimeout(queue.put(std::move(item)), 5ms), "timed out");
        QTAIO_VERIFY(item != nullptr);
        QTAIO_COMPARE(queue.size(), 1);
    }));
}

void tst_Timeout::putOfACopyWithTimeout()
{
    // put(const T&) keeps its own copy of the item; withTimeout() keeps the wait, which owns
    // that copy, so that neither the request nor the caller's value has to outlive the call.
    QtAio::AsyncQueue<std::string> queue(1);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        const std::string first = "first, long enough to live on the heap";
        co_await withTimeout(queue.put(first), 60s);
        const std::string second = "second, long enough to live on the heap";
        auto timed = withTimeout(queue.put(second), QDeadlineTimer(5ms));
        QTAIO_VERIFY_THROWS(QtAio::TimeoutError, co_await timed, "timed out"); // full
        QTAIO_COMPARE(co_await queue.get(), first);
        auto again = withTimeout(queue.put(second), QDeadlineTimer(60s));
        co_await again;
        QTAIO_COMPARE(co_await queue.get(), second);
    }));
}

void tst_Timeout::startedTaskWithTimeout()
{
    QtAio::Latch gate(1);
    auto slow = [&]() -> QCoro::Task<int> {
        co_await gate.wait();
        co_return 5;
    };
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTAIO_VERIFY_THROWS(QtAio::TimeoutError, co_await withTimeout(slow(), 5ms), "timed out");
        QTimer::singleShot(0, [&] { gate.countDown(); });
        QTAIO_COMPARE(co_await withTimeout(slow(), 60s), 5);
        auto failing = []() -> QCoro::Task<int> {
            throw std::runtime_error("original error");
            co_return 0;
        };
        QTAIO_VERIFY_THROWS(std::runtime_error, co_await withTimeout(failing(), 60s),
                            "original error");
    }));
}

void tst_Timeout::abandonedTaskFailureIsReported()
{
    QtAio::Latch gate(1);
    bool failed = false;
    auto failsLater = [&]() -> QCoro::Task<> {
        co_await gate.wait();
        failed = true;
        throw std::runtime_error("late failure");
    };
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTAIO_VERIFY_THROWS(QtAio::TimeoutError, co_await withTimeout(failsLater(), 5ms),
                            "timed out");
    }));
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("abandoned.*late failure")));
    gate.countDown();
    QTRY_VERIFY(failed);
    QCoreApplication::processEvents();
}

QTEST_GUILESS_MAIN(tst_Timeout)
#include "tst_timeout.moc"
