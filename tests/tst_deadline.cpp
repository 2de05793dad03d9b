// SPDX-License-Identifier: MIT
#include "qtaiotest.h"

#include <qtaio/asyncqueue.h>
#include <qtaio/deadline.h>
#include <qtaio/errors.h>
#include <qtaio/latch.h>
#include <qtaio/lifoqueue.h>
#include <qtaio/priorityqueue.h>
#include <qtaio/semaphore.h>
#include <qtaio/timeout.h>

#include <qcoro/qcorotask.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <stop_token>
#include <string>

using namespace std::chrono_literals;
using QtAio::Deadline;

namespace {

// The deadline of one row: a std::chrono duration or a QDeadlineTimer, both 5 ms from now.
Deadline soon(bool fromChrono)
{
    if (fromChrono)
        return 5ms;
    return QDeadlineTimer(5);
}

// Runs the waiting operation \a operation of a fresh queue of type \a Queue that cannot
// complete, with \a deadline. \a key... is the priority for a PriorityQueue.
template<typename Queue, typename... Key>
QCoro::Task<> waitOnQueue(std::string operation, Deadline deadline, Key... key)
{
    Queue queue(1);
    if (operation == "put") {
        QTAIO_VERIFY(queue.tryPut(1, key...));
        co_await queue.put(2, key..., deadline);
    } else if (operation == "putBlocking") {
        QTAIO_VERIFY(queue.tryPut(1, key...));
        queue.putBlocking(2, key..., deadline);
    } else if (operation == "join") {
        QTAIO_VERIFY(queue.tryPut(1, key...));
        co_await queue.join(deadline);
    } else if (operation == "get") {
        co_await queue.get(deadline);
    } else if (operation == "next") {
        co_await queue.next(deadline);
    } else if (operation == "getBlocking") {
        queue.getBlocking(deadline);
    } else if constexpr (sizeof...(Key) > 0) {
        if (operation == "getWithPriority")
            co_await queue.getWithPriority(deadline);
        else if (operation == "getBlockingWithPriority")
            queue.getBlockingWithPriority(deadline);
    }
}

QCoro::Task<> waitOn(const std::string &type, const std::string &operation, Deadline deadline)
{
    if (type == "AsyncQueue") {
        co_await waitOnQueue<QtAio::AsyncQueue<int>>(operation, deadline);
    } else if (type == "LifoQueue") {
        co_await waitOnQueue<QtAio::LifoQueue<int>>(operation, deadline);
    } else if (type == "PriorityQueue") {
        co_await waitOnQueue<QtAio::PriorityQueue<int>>(operation, deadline, 3);
    } else if (type == "Semaphore") {
        QtAio::Semaphore gate(0);
        if (operation == "acquire") {
            auto permit = co_await gate.acquire(deadline);
        } else {
            auto permit = gate.acquireBlocking(deadline);
        }
    }
}

} // namespace

class tst_Deadline : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void convertsFromDurationsAndTimers();
    void edgeDurations();
    void everyWaitTakesADeadline_data();
    void everyWaitTakesADeadline();
    void latchWaitYieldsFalse_data();
    void latchWaitYieldsFalse();
    void expiredDeadlineStillCompletesAtOnce();
    void withTimeoutTakesADeadline();
    void errorsNameTheTypeAndOperation();
};

void tst_Deadline::convertsFromDurationsAndTimers()
{
    const Deadline never;
    QVERIFY(never.isForever());
    QVERIFY(Deadline::never().isForever());
    const Deadline fromChrono = 2s;
    QCOMPARE(fromChrono.timer().timerType(), Qt::PreciseTimer); // never a coarse timer
    QVERIFY(fromChrono.timer().remainingTime() > 1000);
    QVERIFY(fromChrono.timer().remainingTime() <= 2000);
    const Deadline fractional = std::chrono::duration<double, std::milli>(0.5);
    QCOMPARE(fractional.timer().timerType(), Qt::PreciseTimer);
    const QDeadlineTimer timer(60000, Qt::VeryCoarseTimer);
    const Deadline fromTimer = timer;
    QCOMPARE(fromTimer.timer(), timer); // used as it is
    QCOMPARE(fromTimer.timer().timerType(), Qt::VeryCoarseTimer);
    const Deadline endless = QDeadlineTimer(QDeadlineTimer::Forever);
    QVERIFY(endless.isForever());
    const Deadline forever = QDeadlineTimer::Forever; // 0.1's spelling still means no deadline
    QVERIFY(forever.isForever());
}

void tst_Deadline::edgeDurations()
{
    QVERIFY(Deadline(0ms).timer().hasExpired());
    QVERIFY(Deadline(-5s).timer().hasExpired());
    QVERIFY(Deadline(std::chrono::hours::max()).isForever());
    QVERIFY(Deadline(std::chrono::nanoseconds::max()).isForever());
    QVERIFY(Deadline(std::chrono::duration<double>(std::numeric_limits<double>::infinity()))
                .isForever());
    QVERIFY(Deadline(std::chrono::duration<double>(-std::numeric_limits<double>::infinity()))
                .timer()
                .hasExpired());
    QTAIO_VERIFY_THROWS_SYNC(std::invalid_argument,
                             Deadline(std::chrono::duration<double>(std::nan(""))), "got NaN");
}

void tst_Deadline::everyWaitTakesADeadline_data()
{
    QTest::addColumn<QString>("type");
    QTest::addColumn<QString>("operation");
    QTest::addColumn<bool>("fromChrono");
    const char *queueOperations[] = {"put", "putBlocking", "get", "next", "getBlocking", "join"};
    for (const char *type : {"AsyncQueue", "LifoQueue", "PriorityQueue"}) {
        for (const char *operation : queueOperations) {
            for (bool fromChrono : {true, false}) {
                QTest::addRow("%s::%s %s", type, operation, fromChrono ? "chrono" : "timer")
                    << QString::fromLatin1(type) << QString::fromLatin1(operation) << fromChrono;
            }
        }
    }
    for (const char *operation : {"getWithPriority", "getBlockingWithPriority"}) {
        for (bool fromChrono : {true, false}) {
            QTest::addRow("PriorityQueue::%s %s", operation, fromChrono ? "chrono" : "timer")
                << QStringLiteral("PriorityQueue") << QString::fromLatin1(operation) << fromChrono;
        }
    }
    for (const char *operation : {"acquire", "acquireBlocking"}) {
        for (bool fromChrono : {true, false}) {
            QTest::addRow("Semaphore::%s %s", operation, fromChrono ? "chrono" : "timer")
                << QStringLiteral("Semaphore") << QString::fromLatin1(operation) << fromChrono;
        }
    }
}

void tst_Deadline::everyWaitTakesADeadline()
{
    QFETCH(QString, type);
    QFETCH(QString, operation);
    QFETCH(bool, fromChrono);
    const std::string expected =
        type.toStdString() + "::" + operation.toStdString() + ": timed out";
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        std::string message;
        try {
            co_await waitOn(type.toStdString(), operation.toStdString(), soon(fromChrono));
        } catch (const QtAio::TimeoutError &e) {
            message = e.what();
        }
        QTAIO_COMPARE(message, expected); // the exact text: the type and operation called
    }));
}

void tst_Deadline::latchWaitYieldsFalse_data()
{
    QTest::addColumn<bool>("fromChrono");
    QTest::newRow("chrono") << true;
    QTest::newRow("timer") << false;
}

void tst_Deadline::latchWaitYieldsFalse()
{
    QFETCH(bool, fromChrono);
    QtAio::Latch latch(1);
    QVERIFY(!latch.waitBlocking(soon(fromChrono)));
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTAIO_VERIFY(!co_await latch.wait(soon(fromChrono)));
        latch.countDown();
        QTAIO_VERIFY(co_await latch.wait(soon(fromChrono)));
    }));
    QVERIFY(latch.waitBlocking(soon(fromChrono)));
}

void tst_Deadline::expiredDeadlineStillCompletesAtOnce()
{
    QtAio::PriorityQueue<int> queue;
    QtAio::Semaphore semaphore(1);
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        co_await queue.put(7, 1, -1s);
        QTAIO_COMPARE(co_await queue.get(0ms), 7);
        auto permit = co_await semaphore.acquire(QDeadlineTimer(0));
        QTAIO_VERIFY(permit.isHeld());
    }));
}

void tst_Deadline::withTimeoutTakesADeadline()
{
    QtAio::AsyncQueue<int> queue;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTAIO_VERIFY_THROWS(QtAio::TimeoutError, co_await QtAio::withTimeout(queue.get(), 5ms),
                            "AsyncQueue::get: timed out");
        QTAIO_VERIFY_THROWS(QtAio::TimeoutError,
                            co_await QtAio::withTimeout(queue.get(), QDeadlineTimer(5)),
                            "AsyncQueue::get: timed out");
        QtAio::Latch latch(1);
        QTAIO_VERIFY_THROWS(QtAio::TimeoutError, co_await QtAio::withTimeout(latch.wait(), 5ms),
                            "withTimeout: timed out");
    }));
}

void tst_Deadline::errorsNameTheTypeAndOperation()
{
    auto messageOf = [](auto &&operation) {
        try {
            operation();
        } catch (const std::exception &e) {
            return std::string(e.what());
        }
        return std::string("no exception");
    };
    QtAio::PriorityQueue<int> priority;
    priority.close();
    QCOMPARE(messageOf([&] { (void)priority.tryPut(1, 0); }),
             std::string("PriorityQueue::tryPut: the queue is closed"));
    QCOMPARE(messageOf([&] { (void)priority.tryGet(); }),
             std::string("PriorityQueue::tryGet: the queue is closed and drained"));
    QCOMPARE(messageOf([&] { priority.putBlocking(1, 0); }),
             std::string("PriorityQueue::putBlocking: the queue is closed"));
    QCOMPARE(messageOf([&] { priority.taskDone(); }),
             std::string("PriorityQueue::taskDone: called more times than items were put "
                         "(unfinishedTasks is already 0)"));
    QtAio::LifoQueue<int> lifo;
    lifo.close();
    QCOMPARE(messageOf([&] { (void)lifo.getBlocking(); }),
             std::string("LifoQueue::getBlocking: the queue is closed"));
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        std::string message;
        try {
            co_await priority.put(1, 0);
        } catch (const QtAio::QueueClosedError &e) {
            message = e.what();
        }
        QTAIO_COMPARE(message, std::string("PriorityQueue::put: the queue is closed"));
        try {
            co_await lifo.get();
        } catch (const QtAio::QueueClosedError &e) {
            message = e.what();
        }
        QTAIO_COMPARE(message, std::string("LifoQueue::get: the queue is closed"));
        QtAio::PriorityQueue<int> open;
        std::stop_source stop;
        stop.request_stop();
        try {
            co_await open.getWithPriority(stop.get_token());
        } catch (const QtAio::CancelledError &e) {
            message = e.what();
        }
        QTAIO_COMPARE(message,
                      std::string("PriorityQueue::getWithPriority: cancelled by its stop token"));
    }));
}

QTEST_GUILESS_MAIN(tst_Deadline)
#include "tst_deadline.moc"
