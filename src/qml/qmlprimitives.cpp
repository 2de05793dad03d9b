// SPDX-License-Identifier: MIT
#include "qmlprimitives.h"

#include "jspromise_p.h"

#include <QtQml/QQmlEngine>

#include <chrono>
#include <stdexcept>

namespace QtAio::QmlSupport {

namespace {

QDeadlineTimer deadlineFor(int timeoutMs)
{
    if (timeoutMs < 0)
        return QDeadlineTimer(QDeadlineTimer::Forever);
    return QDeadlineTimer(std::chrono::milliseconds(timeoutMs), Qt::PreciseTimer);
}

template<typename Fn>
void guarded(const QObject *object, Fn fn)
{
    try {
        fn();
    } catch (...) {
        throwCurrentExceptionToJs(qjsEngine(object));
    }
}

} // namespace

// --- Latch -----------------------------------------------------------------------------------

QmlLatch::QmlLatch(QObject *parent) : QObject(parent)
{
    attach(std::make_unique<QtAio::Latch>(0));
}

QmlLatch::~QmlLatch() = default;

void QmlLatch::attach(std::unique_ptr<QtAio::Latch> latch)
{
    m_latch = std::move(latch);
    connect(m_latch.get(), &QtAio::Latch::countChanged, this, &QmlLatch::countChanged);
    connect(m_latch.get(), &QtAio::Latch::released, this, &QmlLatch::released);
    connect(m_latch.get(), &QtAio::Latch::waitingChanged, this, &QmlLatch::waitingChanged);
}

void QmlLatch::setCount(int count)
{
    guarded(this, [&] {
        if (count == m_latch->count())
            return;
        if (m_used) {
            throw std::logic_error("Latch.count can only be set before the latch is used "
                                   "(counted down or waited on)");
        }
        attach(std::make_unique<QtAio::Latch>(count)); // throws on a negative count
        Q_EMIT countChanged(count);
    });
}

void QmlLatch::countDown(int n)
{
    guarded(this, [&] {
        m_latch->countDown(n);
        m_used = true;
    });
}

QJSValue QmlLatch::wait(int timeoutMs)
{
    m_used = true;
    auto deferred = JsDeferred::create(qjsEngine(this));
    settle(deferred, m_latch->wait(deadlineFor(timeoutMs)),
           [](bool released) { return QJSValue(released); });
    return deferred.promise();
}

// --- Semaphore -------------------------------------------------------------------------------

QmlSemaphore::QmlSemaphore(QObject *parent)
    : QObject(parent), m_semaphore(std::make_unique<QtAio::Semaphore>(1))
{
    auto *s = m_semaphore.get();
    connect(s, &QtAio::Semaphore::capacityChanged, this, &QmlSemaphore::capacityChanged);
    connect(s, &QtAio::Semaphore::availableChanged, this, &QmlSemaphore::availableChanged);
    connect(s, &QtAio::Semaphore::heldChanged, this, &QmlSemaphore::heldChanged);
    connect(s, &QtAio::Semaphore::waitingChanged, this, &QmlSemaphore::waitingChanged);
}

QmlSemaphore::~QmlSemaphore() = default;

void QmlSemaphore::setCapacity(int capacity)
{
    guarded(this, [&] { m_semaphore->setCapacity(capacity); });
}

QJSValue QmlSemaphore::acquire(int timeoutMs)
{
    auto deferred = JsDeferred::create(qjsEngine(this));
    settle(deferred, m_semaphore->acquire(deadlineFor(timeoutMs)), [] { return QJSValue(); });
    return deferred.promise();
}

bool QmlSemaphore::tryAcquire()
{
    return m_semaphore->tryAcquire();
}

void QmlSemaphore::release(int n)
{
    guarded(this, [&] { m_semaphore->release(n); });
}

// --- TaskExecutor ----------------------------------------------------------------------------

QmlTaskExecutor::QmlTaskExecutor(QObject *parent)
    : QObject(parent), m_executor(std::make_unique<QtAio::TaskExecutor>())
{
    auto *e = m_executor.get();
    connect(e, &QtAio::TaskExecutor::limitChanged, this, &QmlTaskExecutor::limitChanged);
    connect(e, &QtAio::TaskExecutor::runningChanged, this, &QmlTaskExecutor::runningChanged);
    connect(e, &QtAio::TaskExecutor::pendingChanged, this, &QmlTaskExecutor::pendingChanged);
    connect(e, &QtAio::TaskExecutor::completedChanged, this, &QmlTaskExecutor::completedChanged);
    connect(e, &QtAio::TaskExecutor::failedChanged, this, &QmlTaskExecutor::failedChanged);
    connect(e, &QtAio::TaskExecutor::cancelledChanged, this, &QmlTaskExecutor::cancelledChanged);
    connect(e, &QtAio::TaskExecutor::taskFailed, this, &QmlTaskExecutor::taskFailed);
    connect(e, &QtAio::TaskExecutor::idle, this, &QmlTaskExecutor::idle);
}

QmlTaskExecutor::~QmlTaskExecutor() = default;

void QmlTaskExecutor::setLimit(int limit)
{
    guarded(this, [&] { m_executor->setLimit(limit); });
}

QJSValue QmlTaskExecutor::run(const QJSValue &function, int timeoutMs)
{
    QJSEngine *engine = qjsEngine(this);
    if (!function.isCallable()) {
        engine->throwError(QJSValue::TypeError,
                           QStringLiteral("TaskExecutor.run: expected a function, got ") +
                               function.toString());
        return {};
    }
    auto deferred = JsDeferred::create(engine);
    auto factory = [engine = QPointer<QJSEngine>(engine),
                    function](std::stop_token) -> QCoro::Task<QJSValue> {
        QJSValue result = QJSValue(function).call();
        if (result.isError())
            throw std::runtime_error(
                result.property(QStringLiteral("message")).toString().toStdString());
        if (engine && isThenable(result))
            co_return co_await awaitThenable(engine, result);
        co_return result;
    };
    auto work = m_executor->run(std::move(factory), deadlineFor(timeoutMs));
    settle(deferred, std::move(work), [](QJSValue value) { return value; });
    return deferred.promise();
}

QJSValue QmlTaskExecutor::cancelAll()
{
    auto deferred = JsDeferred::create(qjsEngine(this));
    settle(deferred, m_executor->cancelAll(), [] { return QJSValue(); });
    return deferred.promise();
}

} // namespace QtAio::QmlSupport
