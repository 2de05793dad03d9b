// SPDX-License-Identifier: MIT
#include "qmlprimitives.h"

#include "jspromise_p.h"

#include <QtQml/QQmlEngine>
#include <QtQml/QQmlInfo>

#include <cmath>
#include <stdexcept>

namespace QtAio::QmlSupport {

namespace {

//! Runs \a fn; a C++ exception becomes a JS error of \a object's engine.
template<typename Fn>
void guarded(const QObject *object, const QString &operation, Fn fn)
{
    try {
        fn();
    } catch (...) {
        throwCurrentExceptionToJs(qjsEngine(object), operation);
    }
}

} // namespace

void QmlDeclared::reportBadValue(QObject *object, const QString &property) const
{
    if (!m_declaring) {
        throwCurrentExceptionToJs(qjsEngine(object), property);
        return;
    }
    // In a declaration a JS exception would lose the location and stop the component: warn
    // with the object's file and line instead, and keep the previous value.
    const QString message =
        jsReason(qjsEngine(object), property).property(QStringLiteral("message")).toString();
    qmlWarning(object) << message << "; the value is ignored";
}

// --- Latch -----------------------------------------------------------------------------------

QmlLatch::QmlLatch(QObject *parent) : QObject(parent)
{
    attach(std::make_unique<QtAio::Latch>(0));
    // The inspector lists the latch under the name given in QML.
    connect(this, &QObject::objectNameChanged, this,
            [this](const QString &name) { m_latch->setObjectName(name); });
}

QmlLatch::~QmlLatch() = default;

void QmlLatch::attach(std::unique_ptr<QtAio::Latch> latch)
{
    m_latch = std::move(latch);
    m_latch->setObjectName(objectName());
    connect(m_latch.get(), &QtAio::Latch::countChanged, this, &QmlLatch::countChanged);
    connect(m_latch.get(), &QtAio::Latch::releasedChanged, this, &QmlLatch::releasedChanged);
    connect(m_latch.get(), &QtAio::Latch::waitingChanged, this, &QmlLatch::waitingChanged);
}

void QmlLatch::setCount(int count)
{
    try {
        if (count == m_latch->count())
            return;
        if (m_used) {
            throw std::logic_error("Latch.count can only be set before the latch is used "
                                   "(counted down or waited on)");
        }
        const bool wasReleased = m_latch->isReleased();
        attach(std::make_unique<QtAio::Latch>(count)); // throws on a negative count
        Q_EMIT countChanged(count);
        if (m_latch->isReleased() != wasReleased)
            Q_EMIT releasedChanged(m_latch->isReleased());
    } catch (...) {
        reportBadValue(this, QStringLiteral("Latch.count"));
    }
}

void QmlLatch::countDown(const QJSValue &n)
{
    const QString operation = QStringLiteral("Latch.countDown");
    const auto count = countFromJs(qjsEngine(this), n, 1, 0, operation + QStringLiteral(": n"));
    if (!count)
        return;
    guarded(this, operation, [&] {
        m_latch->countDown(*count);
        m_used = true;
    });
}

QJSValue QmlLatch::wait(const QJSValue &timeoutMs)
{
    QJSEngine *engine = qjsEngine(this);
    const QString operation = QStringLiteral("Latch.wait");
    const auto deadline = timeoutFromJs(engine, timeoutMs, operation);
    if (!deadline)
        return {};
    m_used = true;
    auto deferred = JsDeferred::create(engine);
    settle(
        deferred, m_latch->wait(*deadline), [](bool released) { return QJSValue(released); },
        operation);
    return deferred.promise();
}

// --- Semaphore -------------------------------------------------------------------------------

QmlSemaphore::QmlSemaphore(QObject *parent)
    : QObject(parent), m_semaphore(std::make_unique<QtAio::Semaphore>(1))
{
    auto *s = m_semaphore.get();
    // The inspector lists the semaphore under the name given in QML.
    connect(this, &QObject::objectNameChanged, s,
            [s](const QString &name) { s->setObjectName(name); });
    connect(s, &QtAio::Semaphore::capacityChanged, this, &QmlSemaphore::capacityChanged);
    connect(s, &QtAio::Semaphore::availableChanged, this, &QmlSemaphore::availableChanged);
    connect(s, &QtAio::Semaphore::heldChanged, this, &QmlSemaphore::heldChanged);
    connect(s, &QtAio::Semaphore::waitingChanged, this, &QmlSemaphore::waitingChanged);
}

QmlSemaphore::~QmlSemaphore() = default;

void QmlSemaphore::setCapacity(int capacity)
{
    try {
        m_semaphore->setCapacity(capacity);
    } catch (...) {
        reportBadValue(this, QStringLiteral("Semaphore.capacity"));
    }
}

QJSValue QmlSemaphore::acquire(const QJSValue &timeoutMs)
{
    QJSEngine *engine = qjsEngine(this);
    const QString operation = QStringLiteral("Semaphore.acquire");
    const auto deadline = timeoutFromJs(engine, timeoutMs, operation);
    if (!deadline)
        return {};
    auto deferred = JsDeferred::create(engine);
    // The permit is let go: QML code gives it back with release().
    settle(
        deferred, m_semaphore->acquire(*deadline),
        [](QtAio::SemaphorePermit permit) {
            permit.detach();
            return QJSValue();
        },
        operation);
    return deferred.promise();
}

bool QmlSemaphore::tryAcquire()
{
    auto permit = m_semaphore->tryAcquire();
    if (!permit)
        return false;
    permit->detach(); // QML code gives it back with release()
    return true;
}

void QmlSemaphore::release(const QJSValue &n)
{
    const QString operation = QStringLiteral("Semaphore.release");
    const auto count = countFromJs(qjsEngine(this), n, 1, 1, operation + QStringLiteral(": n"));
    if (!count)
        return;
    guarded(this, operation, [&] { m_semaphore->release(*count); });
}

// --- TaskExecutor ----------------------------------------------------------------------------

QmlTaskExecutor::QmlTaskExecutor(QObject *parent)
    : QObject(parent), m_executor(std::make_unique<QtAio::TaskExecutor>())
{
    using E = QtAio::TaskExecutor;
    auto *e = m_executor.get();
    // The inspector lists the executor under the name given in QML.
    connect(this, &QObject::objectNameChanged, e,
            [e](const QString &name) { e->setObjectName(name); });
    connect(e, &E::limitChanged, this, &QmlTaskExecutor::limitChanged);
    connect(e, &E::runningChanged, this, &QmlTaskExecutor::runningChanged);
    connect(e, &E::waitingChanged, this, &QmlTaskExecutor::waitingChanged);
    connect(e, &E::completedChanged, this, &QmlTaskExecutor::completedChanged);
    connect(e, &E::failedChanged, this, &QmlTaskExecutor::failedChanged);
    connect(e, &E::cancelledChanged, this, &QmlTaskExecutor::cancelledChanged);
    connect(e, &E::taskStarted, this, &QmlTaskExecutor::taskStarted);
    connect(e, &E::taskCompleted, this, &QmlTaskExecutor::taskCompleted);
    connect(e, &E::taskFailed, this, &QmlTaskExecutor::taskFailed);
    connect(e, &E::taskCancelled, this, &QmlTaskExecutor::taskCancelled);
    connect(e, &E::idle, this, &QmlTaskExecutor::idle);
}

QmlTaskExecutor::~QmlTaskExecutor() = default;

void QmlTaskExecutor::setLimit(int limit)
{
    try {
        m_executor->setLimit(limit);
    } catch (...) {
        reportBadValue(this, QStringLiteral("TaskExecutor.limit"));
    }
}

QmlTaskExecutor::Factory QmlTaskExecutor::factoryFor(const QJSValue &function)
{
    return [engine = QPointer<QJSEngine>(qjsEngine(this)),
            function](std::stop_token stop) -> QCoro::Task<QJSValue> {
        if (!engine)
            throw CancelledError("TaskExecutor: the QML engine is gone");
        // Aborted, on the engine's thread, once the work should stop.
        JsAbortSignal signal(engine, engine, stop);
        QJSValue result = callJs(engine, function, {signal.object()});
        if (isThenable(result))
            result = co_await awaitThenable(engine, result, stop);
        co_return result;
    };
}

std::optional<std::vector<QmlTaskExecutor::Factory>>
QmlTaskExecutor::factoriesFor(const QJSValue &functions, const QString &operation)
{
    QJSEngine *engine = qjsEngine(this);
    if (!functions.isArray()) {
        throwJsError(engine, QJSValue::TypeError,
                     operation + QStringLiteral(": expected an array of functions, got ") +
                         functions.toString());
        return std::nullopt;
    }
    const auto length = functions.property(QStringLiteral("length")).toUInt();
    std::vector<Factory> factories;
    factories.reserve(length);
    for (quint32 i = 0; i < length; ++i) {
        const QJSValue function = functions.property(i);
        if (!function.isCallable()) {
            throwJsError(engine, QJSValue::TypeError,
                         operation + QStringLiteral(": item %1 is not a function, got ").arg(i) +
                             function.toString());
            return std::nullopt;
        }
        factories.push_back(factoryFor(function));
    }
    return factories;
}

std::optional<int> QmlTaskExecutor::limitFrom(const QJSValue &options, const QString &operation)
{
    QJSEngine *engine = qjsEngine(this);
    if (options.isUndefined() || options.isNull())
        return 0;
    if (!options.isObject()) {
        throwJsError(engine, QJSValue::TypeError,
                     operation + QStringLiteral(": options must be an object, got ") +
                         options.toString());
        return std::nullopt;
    }
    return countFromJs(engine, options.property(QStringLiteral("limit")), 0, 0,
                       operation + QStringLiteral(": options.limit"));
}

QJSValue QmlTaskExecutor::run(const QJSValue &function, const QJSValue &timeoutMs)
{
    QJSEngine *engine = qjsEngine(this);
    const QString operation = QStringLiteral("TaskExecutor.run");
    if (!function.isCallable()) {
        throwJsError(engine, QJSValue::TypeError,
                     operation + QStringLiteral(": expected a function, got ") +
                         function.toString());
        return {};
    }
    const auto deadline = timeoutFromJs(engine, timeoutMs, operation);
    if (!deadline)
        return {};
    auto deferred = JsDeferred::create(engine);
    auto work = m_executor->run(factoryFor(function), *deadline);
    settle(
        deferred, std::move(work), [](QJSValue value) { return value; }, operation);
    return deferred.promise();
}

std::optional<QmlTaskExecutor::GatherCall> QmlTaskExecutor::gatherCall(const QJSValue &functions,
                                                                       const QJSValue &options,
                                                                       const QString &operation)
{
    auto factories = factoriesFor(functions, operation);
    const auto limit = factories ? limitFrom(options, operation) : std::nullopt;
    if (!factories || !limit)
        return std::nullopt;
    return GatherCall{std::move(*factories), GatherOptions{*limit}};
}

QJSValue QmlTaskExecutor::gather(const QJSValue &functions, const QJSValue &options)
{
    const QString operation = QStringLiteral("TaskExecutor.gather");
    auto call = gatherCall(functions, options, operation);
    if (!call)
        return {};
    QJSEngine *engine = qjsEngine(this);
    auto deferred = JsDeferred::create(engine);
    auto work = m_executor->gather(std::move(call->factories), call->options);
    settle(
        deferred, std::move(work),
        [engine = QPointer<QJSEngine>(engine)](QList<QJSValue> values) {
            if (!engine)
                return QJSValue();
            QJSValue array = engine->newArray(quint32(values.size()));
            for (qsizetype i = 0; i < values.size(); ++i)
                array.setProperty(quint32(i), values[i]);
            return array;
        },
        operation);
    return deferred.promise();
}

QJSValue QmlTaskExecutor::gatherSettled(const QJSValue &functions, const QJSValue &options)
{
    const QString operation = QStringLiteral("TaskExecutor.gatherSettled");
    auto call = gatherCall(functions, options, operation);
    if (!call)
        return {};
    QJSEngine *engine = qjsEngine(this);
    auto deferred = JsDeferred::create(engine);
    auto work = m_executor->gatherSettled(std::move(call->factories), call->options);
    settle(
        deferred, std::move(work),
        [engine = QPointer<QJSEngine>(engine), operation](QList<Outcome<QJSValue>> outcomes) {
            if (!engine)
                return QJSValue();
            QJSValue array = engine->newArray(quint32(outcomes.size()));
            for (qsizetype i = 0; i < outcomes.size(); ++i) {
                QJSValue entry = engine->newObject();
                if (outcomes[i].hasError()) {
                    entry.setProperty(QStringLiteral("status"), QStringLiteral("rejected"));
                    QJSValue reason;
                    try {
                        std::rethrow_exception(outcomes[i].error());
                    } catch (...) {
                        reason = jsReason(engine, operation);
                    }
                    entry.setProperty(QStringLiteral("reason"), reason);
                } else {
                    entry.setProperty(QStringLiteral("status"), QStringLiteral("fulfilled"));
                    entry.setProperty(QStringLiteral("value"), outcomes[i].value());
                }
                array.setProperty(quint32(i), entry);
            }
            return array;
        },
        operation);
    return deferred.promise();
}

QJSValue QmlTaskExecutor::spawn(const QJSValue &function)
{
    QJSEngine *engine = qjsEngine(this);
    const QString operation = QStringLiteral("TaskExecutor.spawn");
    if (!function.isCallable()) {
        throwJsError(engine, QJSValue::TypeError,
                     operation + QStringLiteral(": expected a function, got ") +
                         function.toString());
        return {};
    }
    try {
        return QJSValue(double(m_executor->spawn(factoryFor(function))));
    } catch (...) {
        throwCurrentExceptionToJs(engine, operation);
        return {};
    }
}

QJSValue QmlTaskExecutor::cancelAll()
{
    auto deferred = JsDeferred::create(qjsEngine(this));
    settle(
        deferred, m_executor->cancelAll(), [] { return QJSValue(); },
        QStringLiteral("TaskExecutor.cancelAll"));
    return deferred.promise();
}

QJSValue QmlTaskExecutor::shutdown()
{
    auto deferred = JsDeferred::create(qjsEngine(this));
    settle(
        deferred, m_executor->shutdown(), [] { return QJSValue(); },
        QStringLiteral("TaskExecutor.shutdown"));
    return deferred.promise();
}

} // namespace QtAio::QmlSupport
