// SPDX-License-Identifier: MIT
#include "qmlqueues.h"

#include "jspromise_p.h"

#include <QtQml/QQmlEngine>

#include <cmath>

namespace QtAio::QmlSupport {

// The typed operations of a FIFO or LIFO queue, behind one interface for QmlSimpleQueue.
class SimpleQueueOps {
public:
    virtual ~SimpleQueueOps() = default;
    virtual QJSValue put(QJSEngine *engine, const QVariant &value, const QString &operation) = 0;
    virtual QJSValue get(QJSEngine *engine, const QString &operation) = 0;
    virtual bool tryPut(const QVariant &value) = 0;
    virtual std::optional<QVariant> tryGet() = 0;
};

namespace {

//! Puts \a value (with the priority in \a key, for a PriorityQueue) and settles \a deferred.
template<typename Queue, typename... Key>
QCoro::Task<> settlePut(JsDeferred deferred, QString operation, Queue *queue, QVariant value,
                        Key... key)
{
    // The put awaitable refers to `value`, which lives in this coroutine's frame.
    try {
        co_await queue->put(std::move(value), key...);
        deferred.resolve(QJSValue());
    } catch (...) {
        deferred.rejectWithCurrentException(operation);
    }
}

template<typename Queue>
class TypedOps final : public SimpleQueueOps {
public:
    explicit TypedOps(Queue *queue) : m_queue(queue) {}
    QJSValue put(QJSEngine *engine, const QVariant &value, const QString &operation) override
    {
        auto deferred = JsDeferred::create(engine);
        settlePut(deferred, operation, m_queue, value);
        return deferred.promise();
    }
    QJSValue get(QJSEngine *engine, const QString &operation) override
    {
        auto deferred = JsDeferred::create(engine);
        settle(
            deferred, m_queue->get(), [](QVariant v) { return v; }, operation);
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
template<typename Fn>
auto guarded(const QObject *object, const QString &operation, Fn fn) -> std::invoke_result_t<Fn>
{
    try {
        return fn();
    } catch (...) {
        throwCurrentExceptionToJs(engineOf(object), operation);
        return std::invoke_result_t<Fn>();
    }
}

} // namespace

QmlQueueBase::QmlQueueBase(const char *typeName, std::unique_ptr<AsyncQueueBase> queue,
                           QObject *parent)
    : QObject(parent), m_queue(std::move(queue)), m_typeName(typeName)
{
    auto *q = m_queue.get();
    // The inspector lists the queue under the name given in QML.
    connect(this, &QObject::objectNameChanged, q,
            [q](const QString &name) { q->setObjectName(name); });
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

QString QmlQueueBase::operation(const char *method) const
{
    return QString::fromLatin1(m_typeName) + u'.' + QString::fromLatin1(method);
}

void QmlQueueBase::taskDone()
{
    guarded(this, operation("taskDone"), [this] { m_queue->taskDone(); });
}

QJSValue QmlQueueBase::join()
{
    auto deferred = JsDeferred::create(engineOf(this));
    settle(
        deferred, m_queue->join(), [] { return QJSValue(); }, operation("join"));
    return deferred.promise();
}

void QmlQueueBase::close(CloseMode mode)
{
    if (mode != Drain && mode != Immediate) {
        throwJsError(
            engineOf(this), QJSValue::RangeError,
            operation("close") +
                QStringLiteral(": the mode must be Drain or Immediate, got %1").arg(int(mode)));
        return;
    }
    m_queue->close(static_cast<AsyncQueueBase::CloseMode>(mode));
}

QmlSimpleQueue::QmlSimpleQueue(const char *typeName, Parts parts, QObject *parent)
    : QmlQueueBase(typeName, std::move(parts.first), parent), m_ops(std::move(parts.second))
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
    return m_ops->put(engineOf(this), value, operation("put"));
}

QJSValue QmlSimpleQueue::get()
{
    return m_ops->get(engineOf(this), operation("get"));
}

bool QmlSimpleQueue::tryPut(const QVariant &value)
{
    return guarded(this, operation("tryPut"), [&] { return m_ops->tryPut(value); });
}

QVariant QmlSimpleQueue::tryGet()
{
    return guarded(this, operation("tryGet"), [&] { return m_ops->tryGet().value_or(QVariant()); });
}

QmlAsyncQueue::QmlAsyncQueue(QObject *parent)
    : QmlSimpleQueue("AsyncQueue", makeParts<QtAio::AsyncQueue<QVariant>>(), parent)
{
}

QtAio::AsyncQueue<QVariant> &QmlAsyncQueue::queue() const
{
    return static_cast<QtAio::AsyncQueue<QVariant> &>(*m_queue);
}

QmlLifoQueue::QmlLifoQueue(QObject *parent)
    : QmlSimpleQueue("LifoQueue", makeParts<QtAio::LifoQueue<QVariant>>(), parent)
{
}

QtAio::LifoQueue<QVariant> &QmlLifoQueue::queue() const
{
    return static_cast<QtAio::LifoQueue<QVariant> &>(*m_queue);
}

QmlPriorityQueue::QmlPriorityQueue(QObject *parent)
    : QmlQueueBase("PriorityQueue", std::make_unique<QtAio::PriorityQueue<QVariant, double>>(),
                   parent)
{
}

QtAio::PriorityQueue<QVariant, double> &QmlPriorityQueue::queue() const
{
    return static_cast<QtAio::PriorityQueue<QVariant, double> &>(*m_queue);
}

std::optional<double> QmlPriorityQueue::priorityFrom(const QJSValue &priority,
                                                     const char *method) const
{
    if (priority.isUndefined())
        return 0.0;
    if (!priority.isNumber()) {
        throwJsError(engineOf(this), QJSValue::TypeError,
                     operation(method) + QStringLiteral(": the priority must be a number, got ") +
                         priority.toString());
        return std::nullopt;
    }
    const double value = priority.toNumber();
    if (std::isnan(value)) {
        throwJsError(engineOf(this), QJSValue::RangeError,
                     operation(method) + QStringLiteral(": the priority must not be NaN"));
        return std::nullopt;
    }
    return value;
}

QJSValue QmlPriorityQueue::put(const QVariant &value, const QJSValue &priority)
{
    const auto key = priorityFrom(priority, "put");
    if (!key)
        return {};
    auto deferred = JsDeferred::create(engineOf(this));
    settlePut(deferred, operation("put"), &queue(), value, *key);
    return deferred.promise();
}

QJSValue QmlPriorityQueue::get()
{
    auto deferred = JsDeferred::create(engineOf(this));
    settle(
        deferred, queue().get(), [](QVariant v) { return v; }, operation("get"));
    return deferred.promise();
}

QJSValue QmlPriorityQueue::getWithPriority()
{
    auto deferred = JsDeferred::create(engineOf(this));
    settle(
        deferred, queue().getWithPriority(),
        [](PriorityItem<QVariant, double> item) {
            return QVariant(QVariantMap{{QStringLiteral("value"), item.value},
                                        {QStringLiteral("priority"), item.priority}});
        },
        operation("getWithPriority"));
    return deferred.promise();
}

bool QmlPriorityQueue::tryPut(const QVariant &value, const QJSValue &priority)
{
    const auto key = priorityFrom(priority, "tryPut");
    if (!key)
        return false;
    return guarded(this, operation("tryPut"), [&] { return queue().tryPut(value, *key); });
}

QVariant QmlPriorityQueue::tryGet()
{
    return guarded(this, operation("tryGet"),
                   [&] { return queue().tryGet().value_or(QVariant()); });
}

QVariantMap QmlPriorityQueue::sizeByPriority() const
{
    // Keyed as JavaScript names a number (String(p)), so that counts[p] finds it: 1000001,
    // 0.30000000000000004 and Infinity, where QString::number() would write 1e+06, 0.3, inf.
    // Priorities that are one key (0 and -0) add up.
    QVariantMap counts;
    for (const auto &[priority, count] : queue().sizeByPriority()) {
        const QString key = QJSValue(priority).toString();
        counts.insert(key, counts.value(key).toInt() + count);
    }
    return counts;
}

int QmlPriorityQueue::sizeOfPriority(double priority) const
{
    return queue().sizeOfPriority(priority);
}

} // namespace QtAio::QmlSupport
