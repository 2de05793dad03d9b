// SPDX-License-Identifier: MIT
#include "qmlqueues.h"

#include "jspromise_p.h"

#include <QtQml/QQmlEngine>

namespace QtAio::QmlSupport {

// The typed operations of a FIFO or LIFO queue, behind one interface for QmlSimpleQueue.
class SimpleQueueOps {
public:
    virtual ~SimpleQueueOps() = default;
    virtual QJSValue put(QJSEngine *engine, const QVariant &value) = 0;
    virtual QJSValue get(QJSEngine *engine) = 0;
    virtual bool tryPut(const QVariant &value) = 0;
    virtual std::optional<QVariant> tryGet() = 0;
};

namespace {

//! Puts \a value (with the priority in \a key, for a PriorityQueue) and settles \a deferred.
template<typename Queue, typename... Key>
QCoro::Task<> settlePut(JsDeferred deferred, Queue *queue, QVariant value, Key... key)
{
    // The put awaitable refers to `value`, which lives in this coroutine's frame.
    try {
        co_await queue->put(std::move(value), key...);
        deferred.resolve(QJSValue());
    } catch (...) {
        deferred.rejectWithCurrentException();
    }
}

template<typename Queue>
class TypedOps final : public SimpleQueueOps {
public:
    explicit TypedOps(Queue *queue) : m_queue(queue) {}
    QJSValue put(QJSEngine *engine, const QVariant &value) override
    {
        auto deferred = JsDeferred::create(engine);
        settlePut(deferred, m_queue, value);
        return deferred.promise();
    }
    QJSValue get(QJSEngine *engine) override
    {
        auto deferred = JsDeferred::create(engine);
        settle(deferred, m_queue->get(), [](QVariant v) { return v; });
        return deferred.promise();
    }
    bool tryPut(const QVariant &value) override { return m_queue->tryPut(value); }
    std::optional<QVariant> tryGet() override { return m_queue->tryGet(); }

private:
    Queue *m_queue;
};

QJSEngine *engineOf(const QObject *object)
{
    return qjsEngine(object);
}

// Runs \a fn; turns a C++ exception into a JS error of the object's engine.
template<typename Fn, typename R = std::invoke_result_t<Fn>>
R guarded(const QObject *object, Fn fn, R fallback = R())
{
    try {
        return fn();
    } catch (...) {
        throwCurrentExceptionToJs(engineOf(object));
        return fallback;
    }
}

template<typename Fn>
void guardedVoid(const QObject *object, Fn fn)
{
    try {
        fn();
    } catch (...) {
        throwCurrentExceptionToJs(engineOf(object));
    }
}

} // namespace

QmlQueueBase::QmlQueueBase(std::unique_ptr<AsyncQueueBase> queue, QObject *parent)
    : QObject(parent), m_queue(std::move(queue))
{
    auto *q = m_queue.get();
    connect(q, &AsyncQueueBase::sizeChanged, this, &QmlQueueBase::sizeChanged);
    connect(q, &AsyncQueueBase::maxSizeChanged, this, &QmlQueueBase::maxSizeChanged);
    connect(q, &AsyncQueueBase::emptyChanged, this, &QmlQueueBase::emptyChanged);
    connect(q, &AsyncQueueBase::fullChanged, this, &QmlQueueBase::fullChanged);
    connect(q, &AsyncQueueBase::unfinishedTasksChanged, this,
            &QmlQueueBase::unfinishedTasksChanged);
    connect(q, &AsyncQueueBase::waitingGettersChanged, this, &QmlQueueBase::waitingGettersChanged);
    connect(q, &AsyncQueueBase::waitingPuttersChanged, this, &QmlQueueBase::waitingPuttersChanged);
    connect(q, &AsyncQueueBase::closedChanged, this, &QmlQueueBase::closedChanged);
    connect(q, &AsyncQueueBase::highWaterMarkChanged, this, &QmlQueueBase::highWaterMarkChanged);
    connect(q, &AsyncQueueBase::itemsPut, this, &QmlQueueBase::itemsPut);
    connect(q, &AsyncQueueBase::itemsTaken, this, &QmlQueueBase::itemsTaken);
    connect(q, &AsyncQueueBase::allTasksDone, this, &QmlQueueBase::allTasksDone);
}

QmlQueueBase::~QmlQueueBase() = default;

void QmlQueueBase::taskDone()
{
    guardedVoid(this, [this] { m_queue->taskDone(); });
}

QJSValue QmlQueueBase::join()
{
    auto deferred = JsDeferred::create(engineOf(this));
    settle(deferred, m_queue->join(), [] { return QJSValue(); });
    return deferred.promise();
}

void QmlQueueBase::close(bool immediate)
{
    m_queue->close(immediate ? CloseMode::Immediate : CloseMode::Drain);
}

QmlSimpleQueue::QmlSimpleQueue(Parts parts, QObject *parent)
    : QmlQueueBase(std::move(parts.first), parent), m_ops(std::move(parts.second))
{
}

template<typename Queue>
QmlSimpleQueue::Parts QmlSimpleQueue::makeParts()
{
    auto queue = std::make_unique<Queue>();
    auto ops = std::make_unique<TypedOps<Queue>>(queue.get());
    return {std::move(queue), std::move(ops)};
}

QmlSimpleQueue::~QmlSimpleQueue() = default;

QJSValue QmlSimpleQueue::put(const QVariant &value)
{
    return m_ops->put(engineOf(this), value);
}

QJSValue QmlSimpleQueue::get()
{
    return m_ops->get(engineOf(this));
}

bool QmlSimpleQueue::tryPut(const QVariant &value)
{
    return guarded(this, [&] { return m_ops->tryPut(value); });
}

QVariant QmlSimpleQueue::tryGet()
{
    return guarded(this, [&] { return m_ops->tryGet().value_or(QVariant()); });
}

QmlAsyncQueue::QmlAsyncQueue(QObject *parent)
    : QmlSimpleQueue(makeParts<QtAio::AsyncQueue<QVariant>>(), parent)
{
}

QtAio::AsyncQueue<QVariant> &QmlAsyncQueue::queue() const
{
    return static_cast<QtAio::AsyncQueue<QVariant> &>(*m_queue);
}

QmlLifoQueue::QmlLifoQueue(QObject *parent)
    : QmlSimpleQueue(makeParts<QtAio::LifoQueue<QVariant>>(), parent)
{
}

QtAio::LifoQueue<QVariant> &QmlLifoQueue::queue() const
{
    return static_cast<QtAio::LifoQueue<QVariant> &>(*m_queue);
}

QmlPriorityQueue::QmlPriorityQueue(QObject *parent)
    : QmlQueueBase(std::make_unique<QtAio::PriorityQueue<QVariant, double>>(), parent)
{
}

QtAio::PriorityQueue<QVariant, double> &QmlPriorityQueue::queue() const
{
    return static_cast<QtAio::PriorityQueue<QVariant, double> &>(*m_queue);
}

QJSValue QmlPriorityQueue::put(const QVariant &value, double priority)
{
    auto deferred = JsDeferred::create(engineOf(this));
    settlePut(deferred, &queue(), value, priority);
    return deferred.promise();
}

QJSValue QmlPriorityQueue::get()
{
    auto deferred = JsDeferred::create(engineOf(this));
    settle(deferred, queue().get(), [](QVariant v) { return v; });
    return deferred.promise();
}

QJSValue QmlPriorityQueue::getWithPriority()
{
    auto deferred = JsDeferred::create(engineOf(this));
    settle(deferred, queue().getWithPriority(), [](PriorityItem<QVariant, double> item) {
        return QVariant(QVariantMap{{QStringLiteral("value"), item.value},
                                    {QStringLiteral("priority"), item.priority}});
    });
    return deferred.promise();
}

bool QmlPriorityQueue::tryPut(const QVariant &value, double priority)
{
    return guarded(this, [&] { return queue().tryPut(value, priority); });
}

QVariant QmlPriorityQueue::tryGet()
{
    return guarded(this, [&] { return queue().tryGet().value_or(QVariant()); });
}

QVariantMap QmlPriorityQueue::sizeByPriority() const
{
    QVariantMap counts;
    for (const auto &[priority, count] : queue().sizeByPriority())
        counts.insert(QString::number(priority), count);
    return counts;
}

int QmlPriorityQueue::sizeOfPriority(double priority) const
{
    return queue().sizeOfPriority(priority);
}

} // namespace QtAio::QmlSupport
