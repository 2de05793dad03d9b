// SPDX-License-Identifier: MIT
#pragma once

#include "qtaioqml_export.h"

#include <qtaio/latch.h>
#include <qtaio/semaphore.h>
#include <qtaio/taskexecutor.h>

#include <QtCore/QObject>
#include <QtQml/QJSValue>
#include <QtQml/QQmlParserStatus>
#include <QtQml/qqmlregistration.h>

#include <memory>

namespace QtAio::QmlSupport {

//! What the QML types share about values set in a declaration.
/*!
 * A bad value in a declaration (`TaskExecutor { limit: -1 }`) is reported as a QML warning that
 * names the file and line of the object, and the property keeps its previous value, so that the
 * object is still created and its `Component.onCompleted` runs. A bad value assigned later, from
 * JavaScript, throws a JavaScript error (RangeError) at the assignment.
 */
class QTAIO_QML_EXPORT QmlDeclared : public QQmlParserStatus {
public:
    void classBegin() override { m_declaring = true; }
    void componentComplete() override { m_declaring = false; }

protected:
    //! Reports the exception being handled (from a catch block of a property setter) as
    //! described above.
    void reportBadValue(QObject *object, const QString &property) const;

private:
    bool m_declaring = false;
};

//! `Latch` in QML: a countdown that releases every waiter when it reaches zero.
/*!
 * `count` is set in the declaration (`Latch { count: 3 }`) or at any time before the latch is
 * used (counted down or waited on); setting it later is a JS Error.
 */
class QTAIO_QML_EXPORT QmlLatch : public QObject, public QmlDeclared {
    Q_OBJECT
    Q_INTERFACES(QQmlParserStatus)
    QML_NAMED_ELEMENT(Latch)
    Q_PROPERTY(int count READ count WRITE setCount NOTIFY countChanged)
    Q_PROPERTY(bool released READ isReleased NOTIFY releasedChanged)
    Q_PROPERTY(int waiting READ waiting NOTIFY waitingChanged)

public:
    explicit QmlLatch(QObject *parent = nullptr);
    ~QmlLatch() override;

    [[nodiscard]] int count() const { return m_latch->count(); }
    void setCount(int count);
    [[nodiscard]] bool isReleased() const { return m_latch->isReleased(); }
    [[nodiscard]] int waiting() const { return m_latch->waiting(); }
    [[nodiscard]] QtAio::Latch &latch() const { return *m_latch; }

    //! Lowers the count by \a n (undefined: 1), a whole number from 0 to 2^31 - 1 (a JS
    //! TypeError or RangeError otherwise: NaN, Infinity, a fraction, negative, too large).
    Q_INVOKABLE void countDown(const QJSValue &n = QJSValue());
    //! A Promise resolved with true once the count is zero, or false after \a timeoutMs
    //! milliseconds (undefined or Infinity: no timeout; NaN or negative: a RangeError).
    Q_INVOKABLE QJSValue wait(const QJSValue &timeoutMs = QJSValue());
    Q_INVOKABLE bool tryWait() const { return m_latch->tryWait(); }

Q_SIGNALS:
    void countChanged(int count);
    void releasedChanged(bool released);
    void waitingChanged(int waiting);

private:
    void attach(std::unique_ptr<QtAio::Latch> latch);
    std::unique_ptr<QtAio::Latch> m_latch;
    bool m_used = false;
};

//! `Semaphore` in QML: at most `capacity` permits held at once, waiters served in order.
class QTAIO_QML_EXPORT QmlSemaphore : public QObject, public QmlDeclared {
    Q_OBJECT
    Q_INTERFACES(QQmlParserStatus)
    QML_NAMED_ELEMENT(Semaphore)
    Q_PROPERTY(int capacity READ capacity WRITE setCapacity NOTIFY capacityChanged)
    Q_PROPERTY(int available READ available NOTIFY availableChanged)
    Q_PROPERTY(int held READ held NOTIFY heldChanged)
    Q_PROPERTY(int waiting READ waiting NOTIFY waitingChanged)

public:
    explicit QmlSemaphore(QObject *parent = nullptr);
    ~QmlSemaphore() override;

    [[nodiscard]] int capacity() const { return m_semaphore->capacity(); }
    //! A JS RangeError if \a capacity is negative (a warning in a declaration).
    void setCapacity(int capacity);
    [[nodiscard]] int available() const { return m_semaphore->available(); }
    [[nodiscard]] int held() const { return m_semaphore->held(); }
    [[nodiscard]] int waiting() const { return m_semaphore->waiting(); }
    [[nodiscard]] QtAio::Semaphore &semaphore() const { return *m_semaphore; }

    //! A Promise resolved once a permit is held; rejected with a TimeoutError after
    //! \a timeoutMs (undefined or Infinity: no timeout).
    Q_INVOKABLE QJSValue acquire(const QJSValue &timeoutMs = QJSValue());
    Q_INVOKABLE bool tryAcquire();
    //! Gives back \a n permits (undefined: 1): a whole number from 1 to 2^31 - 1 (a JS
    //! TypeError or RangeError otherwise), and a JS Error if fewer are held.
    Q_INVOKABLE void release(const QJSValue &n = QJSValue());

Q_SIGNALS:
    void capacityChanged(int capacity);
    void availableChanged(int available);
    void heldChanged(int held);
    void waitingChanged(int waiting);

private:
    std::unique_ptr<QtAio::Semaphore> m_semaphore;
};

//! `TaskExecutor` in QML: runs JavaScript functions (plain, or returning a Promise) under a
//! concurrency limit.
/*!
 * Each function is called with an AbortSignal-like object (`aborted`, `reason`, `onabort`,
 * `addEventListener("abort", f)`, `throwIfAborted()`), which is aborted when the work should
 * stop: cancelAll(), shutdown(), a timeout, a failure of a sibling in gather(). A run that is
 * stopped or times out rejects with CancelledError or TimeoutError at once, even if the
 * function's Promise settles later.
 */
class QTAIO_QML_EXPORT QmlTaskExecutor : public QObject, public QmlDeclared {
    Q_OBJECT
    Q_INTERFACES(QQmlParserStatus)
    QML_NAMED_ELEMENT(TaskExecutor)
    Q_PROPERTY(int limit READ limit WRITE setLimit NOTIFY limitChanged)
    Q_PROPERTY(int running READ running NOTIFY runningChanged)
    Q_PROPERTY(int waiting READ waiting NOTIFY waitingChanged)
    Q_PROPERTY(qint64 completed READ completed NOTIFY completedChanged)
    Q_PROPERTY(qint64 failed READ failed NOTIFY failedChanged)
    Q_PROPERTY(qint64 cancelled READ cancelled NOTIFY cancelledChanged)

public:
    explicit QmlTaskExecutor(QObject *parent = nullptr);
    ~QmlTaskExecutor() override;

    [[nodiscard]] int limit() const { return m_executor->limit(); }
    //! A JS RangeError if \a limit is negative (a warning in a declaration); 0 means unlimited.
    void setLimit(int limit);
    [[nodiscard]] int running() const { return m_executor->running(); }
    [[nodiscard]] int waiting() const { return m_executor->waiting(); }
    [[nodiscard]] qint64 completed() const { return m_executor->completed(); }
    [[nodiscard]] qint64 failed() const { return m_executor->failed(); }
    [[nodiscard]] qint64 cancelled() const { return m_executor->cancelled(); }
    [[nodiscard]] QtAio::TaskExecutor &executor() const { return *m_executor; }

    //! Calls \a function(signal) when a slot is free and returns a Promise of its result. If
    //! the function returns a Promise, the slot is held until that settles. Anything the
    //! function throws, or its Promise's rejection, rejects the returned Promise with that
    //! same value; a timeout (\a timeoutMs, undefined or Infinity: none) rejects it with a
    //! TimeoutError, a stop with a CancelledError. A JS TypeError if \a function is not
    //! callable.
    Q_INVOKABLE QJSValue run(const QJSValue &function, const QJSValue &timeoutMs = QJSValue());
    //! Runs every function of the array \a functions (each as run() does), at most
    //! `options.limit` at once, and returns a Promise of their results in input order. On the
    //! first failure nothing new starts and the others are stopped; the Promise is rejected
    //! with an ExecutionError whose `index` is the failing position and `cause` what it threw.
    Q_INVOKABLE QJSValue gather(const QJSValue &functions, const QJSValue &options = QJSValue());
    //! As gather(), running every function to its end: a Promise of one
    //! `{ status: "fulfilled", value }` or `{ status: "rejected", reason }` per function, as
    //! Promise.allSettled().
    Q_INVOKABLE QJSValue gatherSettled(const QJSValue &functions,
                                       const QJSValue &options = QJSValue());
    //! Starts \a function as tracked fire-and-forget work and returns its task id; its failure
    //! is reported by taskFailed().
    Q_INVOKABLE QJSValue spawn(const QJSValue &function);
    //! Stops all work that can be stopped; a Promise resolved once none is left (called inside
    //! a task's function, once none is left but that task and those that started it, as
    //! TaskExecutor::cancelAll()).
    Q_INVOKABLE QJSValue cancelAll();
    //! Refuses new work from now on, then as cancelAll().
    Q_INVOKABLE QJSValue shutdown();
    //! Whether shutdown() was called.
    Q_INVOKABLE bool isShutDown() const { return m_executor->isShutDown(); }

Q_SIGNALS:
    void limitChanged(int limit);
    void runningChanged(int running);
    void waitingChanged(int waiting);
    void completedChanged(qint64 completed);
    void failedChanged(qint64 failed);
    void cancelledChanged(qint64 cancelled);
    void taskStarted(quint64 id);
    void taskCompleted(quint64 id);
    void taskFailed(quint64 id, const QString &message);
    void taskCancelled(quint64 id);
    void idle();

private:
    using Factory = std::function<QCoro::Task<QJSValue>(std::stop_token)>;
    //! The work of one JavaScript function, as a factory for the executor.
    Factory factoryFor(const QJSValue &function);
    //! The functions of a JS array, as factories; throws a JS TypeError and yields nothing
    //! when \a functions is not an array of functions.
    std::optional<std::vector<Factory>> factoriesFor(const QJSValue &functions,
                                                     const QString &operation);
    //! `options.limit`; throws a JS error and yields nothing when it is not a count.
    std::optional<int> limitFrom(const QJSValue &options, const QString &operation);
    //! The arguments of gather()/gatherSettled(), checked (see factoriesFor(), limitFrom()).
    struct GatherCall {
        std::vector<Factory> factories;
        GatherOptions options;
    };
    std::optional<GatherCall> gatherCall(const QJSValue &functions, const QJSValue &options,
                                         const QString &operation);

    std::unique_ptr<QtAio::TaskExecutor> m_executor;
};

} // namespace QtAio::QmlSupport
