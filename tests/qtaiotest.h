// SPDX-License-Identifier: MIT
#pragma once

// Test harness: runs coroutine test bodies inside an event loop with a watchdog, provides
// compare macros that work in coroutines (QTest's macros `return`, which a coroutine cannot),
// and a thread with a running event loop on which coroutines can be started.

#include <QtCore/QCoreApplication>
#include <QtCore/QEventLoop>
#include <QtCore/QMetaObject>
#include <QtCore/QObject>
#include <QtCore/QThread>
#include <QtCore/QTimer>
#include <QtTest/QTest>

#include <qcoro/qcorotask.h>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace QtAioTest {

using namespace std::chrono_literals;

//! Generous: only a hang should ever reach it; the machines are shared and noisy.
inline constexpr std::chrono::milliseconds defaultWatchdog = 120s;

namespace detail {
inline QCoro::Task<> guard(QCoro::Task<> body, QEventLoop &loop, bool &finished,
                           std::exception_ptr &error)
{
    try {
        co_await body;
    } catch (...) {
        error = std::current_exception();
    }
    finished = true;
    loop.quit();
}

inline std::string describe(const std::exception_ptr &error)
{
    try {
        std::rethrow_exception(error);
    } catch (const std::exception &e) {
        return std::string("uncaught exception: ") + e.what();
    } catch (...) {
        return "uncaught exception of unknown type";
    }
}
} // namespace detail

//! Runs the coroutine \a body() to completion in a local event loop of the calling thread.
/*!
 * Fails the test if the body throws. Aborts the test program if the watchdog expires, since a
 * suspended coroutine would still refer to the test's stack.
 * Use as: `QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> { ... }));`
 */
template<typename Body>
bool runAsync(Body &&body, std::chrono::milliseconds watchdog = defaultWatchdog)
{
    QEventLoop loop;
    bool finished = false;
    std::exception_ptr error;
    QTimer timer;
    timer.setSingleShot(true);
    QObject::connect(&timer, &QTimer::timeout, &loop,
                     [] { qFatal("QtAioTest: the watchdog expired; a coroutine test hangs"); });
    timer.start(watchdog);
    auto task = detail::guard(body(), loop, finished, error);
    if (!finished)
        loop.exec();
    if (error) {
        QTest::qFail(detail::describe(error).c_str(), __FILE__, __LINE__);
        return false;
    }
    return !QTest::currentTestFailed();
}

//! A QThread running its own event loop, on which functions (and so coroutines) can be started.
class EventLoopThread {
public:
    EventLoopThread()
    {
        m_context = std::make_unique<QObject>();
        m_context->moveToThread(&m_thread);
        m_thread.start();
    }
    ~EventLoopThread() { stop(); }

    QThread *thread() { return &m_thread; }

    //! Runs \a fn in the thread's event loop (queued).
    template<typename Fn>
    void post(Fn &&fn)
    {
        QMetaObject::invokeMethod(m_context.get(), std::forward<Fn>(fn), Qt::QueuedConnection);
    }

    //! Runs \a fn in the thread and waits for it to return.
    template<typename Fn>
    void invoke(Fn &&fn)
    {
        QMetaObject::invokeMethod(m_context.get(), std::forward<Fn>(fn),
                                  Qt::BlockingQueuedConnection);
    }

    void stop()
    {
        if (!m_thread.isRunning())
            return;
        // Delete the context in its own thread (and wait for it: events still queued when the
        // loop quits are never delivered), then end the loop.
        QObject *context = m_context.release();
        QMetaObject::invokeMethod(
            context, [context] { delete context; }, Qt::BlockingQueuedConnection);
        m_thread.quit();
        m_thread.wait();
    }

private:
    QThread m_thread;
    std::unique_ptr<QObject> m_context;
};

} // namespace QtAioTest

//! QCOMPARE for coroutines.
#define QTAIO_COMPARE(actual, expected)                                                            \
    do {                                                                                           \
        if (!QTest::qCompare(actual, expected, #actual, #expected, __FILE__, __LINE__))            \
            co_return;                                                                             \
    } while (false)

//! QVERIFY for coroutines.
#define QTAIO_VERIFY(statement)                                                                    \
    do {                                                                                           \
        if (!QTest::qVerify(static_cast<bool>(statement), #statement, "", __FILE__, __LINE__))     \
            co_return;                                                                             \
    } while (false)

//! QFAIL for coroutines.
#define QTAIO_FAIL(message)                                                                        \
    do {                                                                                           \
        QTest::qFail(message, __FILE__, __LINE__);                                                 \
        co_return;                                                                                 \
    } while (false)

// Runs \a expression and records whether it threw \a ExceptionType, and its what().
#define QTAIO_DETAIL_CATCH(ExceptionType, expression, caughtFlag, message)                         \
    bool caughtFlag = false;                                                                       \
    std::string message;                                                                           \
    try {                                                                                          \
        expression;                                                                                \
    } catch (const ExceptionType &caughtError) {                                                   \
        caughtFlag = true;                                                                         \
        message = caughtError.what();                                                              \
    }

//! Verifies that \a expression (which may contain co_await) throws \a ExceptionType whose
//! what() contains \a fragment. Works in coroutines.
#define QTAIO_VERIFY_THROWS(ExceptionType, expression, fragment)                                   \
    do {                                                                                           \
        QTAIO_DETAIL_CATCH(ExceptionType, expression, qtaioCaught_, qtaioWhat_)                    \
        if (!qtaioCaught_)                                                                         \
            QTAIO_FAIL("expected " #ExceptionType " from " #expression);                           \
        if (qtaioWhat_.find(fragment) == std::string::npos)                                        \
            QTAIO_FAIL(("message '" + qtaioWhat_ + "' lacks '" + fragment + "'").c_str());         \
    } while (false)

//! Verifies, outside coroutines, that \a expression throws \a ExceptionType whose what()
//! contains \a fragment.
#define QTAIO_VERIFY_THROWS_SYNC(ExceptionType, expression, fragment)                              \
    do {                                                                                           \
        QTAIO_DETAIL_CATCH(ExceptionType, expression, qtaioCaught_, qtaioWhat_)                    \
        QVERIFY2(qtaioCaught_, "expected " #ExceptionType " from " #expression);                   \
        QVERIFY2(qtaioWhat_.find(fragment) != std::string::npos,                                   \
                 ("message '" + qtaioWhat_ + "' lacks '" + fragment + "'").c_str());               \
    } while (false)
