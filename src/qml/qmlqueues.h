// SPDX-License-Identifier: MIT
#pragma once

#include "qtaioqml_export.h"

#include <qtaio/asyncqueue.h>
#include <qtaio/lifoqueue.h>
#include <qtaio/priorityqueue.h>

#include <QtCore/QObject>
#include <QtCore/QVariant>
#include <QtQml/QJSValue>
#include <QtQml/qqmlregistration.h>

#include <memory>

namespace QtAio::QmlSupport {

class SimpleQueueOps;

//! What every QML queue shares: the properties and signals of AsyncQueueBase, task
//! accounting and closing. Items are QVariants (any JavaScript value).
class QTAIO_QML_EXPORT QmlQueueBase : public QObject {
    Q_OBJECT
    QML_ANONYMOUS
    Q_PROPERTY(int size READ size NOTIFY sizeChanged)
    Q_PROPERTY(int maxSize READ maxSize WRITE setMaxSize NOTIFY maxSizeChanged)
    Q_PROPERTY(bool empty READ isEmpty NOTIFY emptyChanged)
    Q_PROPERTY(bool full READ isFull NOTIFY fullChanged)
    Q_PROPERTY(qint64 unfinishedTasks READ unfinishedTasks NOTIFY unfinishedTasksChanged)
    Q_PROPERTY(int waitingGetters READ waitingGetters NOTIFY waitingGettersChanged)
    Q_PROPERTY(int waitingPutters READ waitingPutters NOTIFY waitingPuttersChanged)
    Q_PROPERTY(bool closed READ isClosed NOTIFY closedChanged)
    Q_PROPERTY(int highWaterMark READ highWaterMark NOTIFY highWaterMarkChanged)

public:
    //! How close() treats what is left in the queue (AsyncQueueBase::CloseMode).
    enum CloseMode {
        //! Puts fail from now on; getters drain the remaining items, then fail.
        Drain = int(QtAio::AsyncQueueBase::CloseMode::Drain),
        //! The remaining items are discarded; waiting getters and putters fail.
        Immediate = int(QtAio::AsyncQueueBase::CloseMode::Immediate),
    };
    Q_ENUM(CloseMode)

    ~QmlQueueBase() override;

    [[nodiscard]] int size() const { return m_queue->size(); }
    [[nodiscard]] int maxSize() const { return m_queue->maxSize(); }
    void setMaxSize(int maxSize) { m_queue->setMaxSize(maxSize); }
    [[nodiscard]] bool isEmpty() const { return m_queue->isEmpty(); }
    [[nodiscard]] bool isFull() const { return m_queue->isFull(); }
    [[nodiscard]] qint64 unfinishedTasks() const { return m_queue->unfinishedTasks(); }
    [[nodiscard]] int waitingGetters() const { return m_queue->waitingGetters(); }
    [[nodiscard]] int waitingPutters() const { return m_queue->waitingPutters(); }
    [[nodiscard]] bool isClosed() const { return m_queue->isClosed(); }
    [[nodiscard]] int highWaterMark() const { return m_queue->highWaterMark(); }

    //! Marks one taken item as processed; a JS Error if called more often than items were put.
    Q_INVOKABLE void taskDone();
    //! A Promise resolved once every item put has been marked done.
    Q_INVOKABLE QJSValue join();
    //! Closes the queue: `AsyncQueue.Drain` (the default) lets getters drain what is left,
    //! `AsyncQueue.Immediate` discards it.
    Q_INVOKABLE void close(QtAio::QmlSupport::QmlQueueBase::CloseMode mode = Drain);

Q_SIGNALS:
    void sizeChanged(int size);
    void maxSizeChanged(int maxSize);
    void emptyChanged(bool empty);
    void fullChanged(bool full);
    void unfinishedTasksChanged(qint64 unfinishedTasks);
    void waitingGettersChanged(int waitingGetters);
    void waitingPuttersChanged(int waitingPutters);
    void closedChanged(bool closed);
    void highWaterMarkChanged(int highWaterMark);
    void itemsPut(int n);
    void itemsTaken(int n);
    void allTasksDone();

protected:
    //! \a typeName is the QML type's name, for error messages ("AsyncQueue").
    QmlQueueBase(const char *typeName, std::unique_ptr<AsyncQueueBase> queue, QObject *parent);

    //! "<type>.<method>", as errors name an operation.
    [[nodiscard]] QString operation(const char *method) const;

    std::unique_ptr<AsyncQueueBase> m_queue;

private:
    const char *m_typeName;
};

//! The QML form of a FIFO or LIFO queue.
class QTAIO_QML_EXPORT QmlSimpleQueue : public QtAio::QmlSupport::QmlQueueBase {
    Q_OBJECT
    QML_ANONYMOUS

public:
    ~QmlSimpleQueue() override;

    //! A Promise resolved once \a value is in the queue (rejected if the queue is closed).
    Q_INVOKABLE QJSValue put(const QVariant &value);
    //! A Promise resolved with the next item (rejected once a closed queue is drained).
    Q_INVOKABLE QJSValue get();
    //! Puts \a value if there is room now; a JS Error on a closed queue.
    Q_INVOKABLE bool tryPut(const QVariant &value);
    //! The next item, or undefined when empty; a JS Error on a closed, drained queue.
    Q_INVOKABLE QVariant tryGet();

protected:
    //! A queue and its typed operations.
    using Parts = std::pair<std::unique_ptr<AsyncQueueBase>, std::unique_ptr<SimpleQueueOps>>;
    template<typename Queue>
    static Parts makeParts();
    QmlSimpleQueue(const char *typeName, Parts parts, QObject *parent);

private:
    std::unique_ptr<SimpleQueueOps> m_ops;
};

//! `AsyncQueue` in QML: a first-in, first-out queue of JavaScript values.
class QTAIO_QML_EXPORT QmlAsyncQueue : public QtAio::QmlSupport::QmlSimpleQueue {
    Q_OBJECT
    QML_NAMED_ELEMENT(AsyncQueue)

public:
    explicit QmlAsyncQueue(QObject *parent = nullptr);
    //! The queue itself, for C++ code that feeds or drains it (from any thread).
    [[nodiscard]] QtAio::AsyncQueue<QVariant> &queue() const;
};

//! `LifoQueue` in QML: a last-in, first-out queue of JavaScript values.
class QTAIO_QML_EXPORT QmlLifoQueue : public QtAio::QmlSupport::QmlSimpleQueue {
    Q_OBJECT
    QML_NAMED_ELEMENT(LifoQueue)

public:
    explicit QmlLifoQueue(QObject *parent = nullptr);
    [[nodiscard]] QtAio::LifoQueue<QVariant> &queue() const;
};

//! `PriorityQueue` in QML: lower priority numbers first, first-in first-out among equals.
class QTAIO_QML_EXPORT QmlPriorityQueue : public QtAio::QmlSupport::QmlQueueBase {
    Q_OBJECT
    QML_NAMED_ELEMENT(PriorityQueue)

public:
    explicit QmlPriorityQueue(QObject *parent = nullptr);
    [[nodiscard]] QtAio::PriorityQueue<QVariant, double> &queue() const;

    //! A Promise resolved once \a value is in the queue with \a priority (a number; undefined
    //! means 0). A priority that is not a number is a JS TypeError, NaN a RangeError, at the
    //! call: nothing is queued.
    Q_INVOKABLE QJSValue put(const QVariant &value, const QJSValue &priority = QJSValue());
    //! A Promise resolved with the next item.
    Q_INVOKABLE QJSValue get();
    //! A Promise resolved with `{ value, priority }` of the next item.
    Q_INVOKABLE QJSValue getWithPriority();
    //! Puts \a value with \a priority if there is room now (priorities as for put()).
    Q_INVOKABLE bool tryPut(const QVariant &value, const QJSValue &priority = QJSValue());
    Q_INVOKABLE QVariant tryGet();
    //! The number of queued items per priority, as an object `{ priority: count }`.
    Q_INVOKABLE QVariantMap sizeByPriority() const;
    //! The number of queued items with \a priority.
    Q_INVOKABLE int sizeOfPriority(double priority) const;

private:
    //! The priority argument of put()/tryPut() (see put()); throws a JS error and yields nothing
    //! when it is not a number.
    std::optional<double> priorityFrom(const QJSValue &priority, const char *method) const;
};

} // namespace QtAio::QmlSupport
