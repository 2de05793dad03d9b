// SPDX-License-Identifier: MIT
#pragma once

#include "qtaioqml_export.h"

#include <qtaio/latch.h>
#include <qtaio/semaphore.h>
#include <qtaio/taskexecutor.h>

#include <QtCore/QObject>
#include <QtQml/QJSValue>
#include <QtQml/qqmlregistration.h>

#include <memory>

namespace QtAio::QmlSupport {

//! `Latch` in QML: a countdown that releases every waiter when it reaches zero.
/*!
 * `count` is set in the declaration (`Latch { count: 3 }`) or at any time before the latch is
 * used (counted down or waited on); setting it later is a JS Error.
 */
class QTAIO_QML_EXPORT QmlLatch : public QObject {
    Q_OBJECT
    QML_NAMED_ELEMENT(Latch)
    Q_PROPERTY(int count READ count WRITE setCount NOTIFY countChanged)
    Q_PROPERTY(bool isReleased READ isReleased NOTIFY countChanged)
    Q_PROPERTY(int waiting READ waiting NOTIFY waitingChanged)

public:
    explicit QmlLatch(QObject *parent = nullptr);
    ~QmlLatch() override;

    [[nodiscard]] int count() const { return m_latch->count(); }
    void setCount(int count);
    [[nodiscard]] bool isReleased() const { return m_latch->isReleased(); }
    [[nodiscard]] int waiting() const { return m_latch->waiting(); }
    [[nodiscard]] QtAio::Latch &latch() const { return *m_latch; }

    //! Lowers the count by \a n (a JS RangeError if negative).
    Q_INVOKABLE void countDown(int n = 1);
    //! A Promise resolved with true once the count is zero, or false after \a timeoutMs
    //! milliseconds (negative: no timeout).
    Q_INVOKABLE QJSValue wait(int timeoutMs = -1);
    Q_INVOKABLE bool tryWait() const { return m_latch->tryWait(); }

Q_SIGNALS:
    void countChanged(int count);
    void released();
    void waitingChanged(int waiting);

private:
    void attach(std::unique_ptr<QtAio::Latch> latch);
    std::unique_ptr<QtAio::Latch> m_latch;
    bool m_used = false;
};

//! `Semaphore` in QML: at most `capacity` permits held at once, waiters served in order.
class QTAIO_QML_EXPORT QmlSemaphore : public QObject {
    Q_OBJECT
    QML_NAMED_ELEMENT(Semaphore)
    Q_PROPERTY(int capacity READ capacity WRITE setCapacity NOTIFY capacityChanged)
    Q_PROPERTY(int available READ available NOTIFY availableChanged)
    Q_PROPERTY(int held READ held NOTIFY heldChanged)
    Q_PROPERTY(int waiting READ waiting NOTIFY waitingChanged)

public:
    explicit QmlSemaphore(QObject *parent = nullptr);
    ~QmlSemaphore() override;

    [[nodiscard]] int capacity() const { return m_semaphore->capacity(); }
    //! A JS RangeError if \a capacity is negative.
    void setCapacity(int capacity);
    [[nodiscard]] int available() const { return m_semaphore->available(); }
    [[nodiscard]] int held() const { return m_semaphore->held(); }
    [[nodiscard]] int waiting() const { return m_semaphore->waiting(); }
    [[nodiscard]] QtAio::Semaphore &semaphore() const { return *m_semaphore; }

    //! A Promise resolved once a permit is held (rejected after \a timeoutMs, if not negative).
    Q_INVOKABLE QJSValue acquire(int timeoutMs = -1);
    Q_INVOKABLE bool tryAcquire();
    //! Gives back \a n permits (a JS Error if fewer are held).
    Q_INVOKABLE void release(int n = 1);

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
class QTAIO_QML_EXPORT QmlTaskExecutor : public QObject {
    Q_OBJECT
    QML_NAMED_ELEMENT(TaskExecutor)
    Q_PROPERTY(int limit READ limit WRITE setLimit NOTIFY limitChanged)
    Q_PROPERTY(int running READ running NOTIFY runningChanged)
    Q_PROPERTY(int pending READ pending NOTIFY pendingChanged)
    Q_PROPERTY(qint64 completed READ completed NOTIFY completedChanged)
    Q_PROPERTY(qint64 failed READ failed NOTIFY failedChanged)
    Q_PROPERTY(qint64 cancelled READ cancelled NOTIFY cancelledChanged)

public:
    explicit QmlTaskExecutor(QObject *parent = nullptr);
    ~QmlTaskExecutor() override;

    [[nodiscard]] int limit() const { return m_executor->limit(); }
    //! A JS RangeError if \a limit is negative; 0 means unlimited.
    void setLimit(int limit);
    [[nodiscard]] int running() const { return m_executor->running(); }
    [[nodiscard]] int pending() const { return m_executor->pending(); }
    [[nodiscard]] qint64 completed() const { return m_executor->completed(); }
    [[nodiscard]] qint64 failed() const { return m_executor->failed(); }
    [[nodiscard]] qint64 cancelled() const { return m_executor->cancelled(); }
    [[nodiscard]] QtAio::TaskExecutor &executor() const { return *m_executor; }

    //! Calls \a function when a slot is free and returns a Promise of its result. If the
    //! function returns a Promise, the slot is held until that settles. A thrown error or a
    //! rejection rejects the returned Promise; so does a timeout (\a timeoutMs, if not
    //! negative). A JS TypeError if \a function is not callable.
    Q_INVOKABLE QJSValue run(const QJSValue &function, int timeoutMs = -1);
    //! Stops all work that can be stopped; a Promise resolved once none is left.
    Q_INVOKABLE QJSValue cancelAll();

Q_SIGNALS:
    void limitChanged(int limit);
    void runningChanged(int running);
    void pendingChanged(int pending);
    void completedChanged(qint64 completed);
    void failedChanged(qint64 failed);
    void cancelledChanged(qint64 cancelled);
    void taskFailed(quint64 id, const QString &message);
    void idle();

private:
    std::unique_ptr<QtAio::TaskExecutor> m_executor;
};

} // namespace QtAio::QmlSupport
