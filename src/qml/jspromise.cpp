// SPDX-License-Identifier: MIT
#include "jspromise_p.h"

#include <qtaio/errors.h>

#include <stdexcept>

namespace QtAio::QmlSupport {

namespace {

// One helper function per engine, kept as a dynamic property of the engine so that it lives
// exactly as long as the engine does.
QJSValue engineHelper(QJSEngine *engine, const char *name, const char *source)
{
    const QVariant cached = engine->property(name);
    if (cached.isValid())
        return cached.value<QJSValue>();
    QJSValue helper = engine->evaluate(QString::fromLatin1(source));
    engine->setProperty(name, QVariant::fromValue(helper));
    return helper;
}

QString describe(const std::exception &e)
{
    QString message = QString::fromUtf8(e.what());
    try {
        std::rethrow_if_nested(e);
    } catch (const std::exception &cause) {
        const QString nested = describe(cause);
        if (!message.contains(nested))
            message += QStringLiteral(": ") + nested;
    } catch (...) {
    }
    return message;
}

} // namespace

JsDeferred JsDeferred::create(QJSEngine *engine)
{
    JsDeferred deferred;
    deferred.m_engine = engine;
    QJSValue make =
        engineHelper(engine, "_qtaio_makeDeferred",
                     "(function() {"
                     "  let resolve, reject;"
                     "  const promise = new Promise((a, b) => { resolve = a; reject = b; });"
                     "  return { promise: promise, resolve: resolve, reject: reject };"
                     "})");
    const QJSValue parts = make.call();
    deferred.m_promise = parts.property(QStringLiteral("promise"));
    deferred.m_resolve = parts.property(QStringLiteral("resolve"));
    deferred.m_reject = parts.property(QStringLiteral("reject"));
    return deferred;
}

void JsDeferred::resolve(const QJSValue &value) const
{
    if (m_engine)
        m_resolve.call({value});
}

void JsDeferred::resolve(const QVariant &value) const
{
    if (m_engine)
        m_resolve.call({m_engine->toScriptValue(value)});
}

void JsDeferred::reject(const QString &message) const
{
    if (m_engine)
        m_reject.call({m_engine->newErrorObject(QJSValue::GenericError, message)});
}

void JsDeferred::rejectWithCurrentException() const
{
    reject(currentExceptionMessage());
}

QString currentExceptionMessage()
{
    try {
        throw;
    } catch (const std::exception &e) {
        return describe(e);
    } catch (...) {
        return QStringLiteral("unknown exception");
    }
}

void throwCurrentExceptionToJs(QJSEngine *engine)
{
    QJSValue::ErrorType type = QJSValue::GenericError;
    try {
        throw;
    } catch (const std::invalid_argument &) {
        type = QJSValue::RangeError;
    } catch (...) {
    }
    if (engine)
        engine->throwError(type, currentExceptionMessage());
}

bool isThenable(const QJSValue &value)
{
    return value.isObject() && value.property(QStringLiteral("then")).isCallable();
}

void ThenableBridge::onResolved(const QJSValue &resolved)
{
    value = resolved;
    done.set();
}

void ThenableBridge::onRejected(const QJSValue &reason)
{
    failed = true;
    error = reason.isError() ? reason.property(QStringLiteral("message")).toString()
                             : reason.toString();
    done.set();
}

QCoro::Task<QJSValue> awaitThenable(QJSEngine *engine, QJSValue thenable)
{
    auto bridge = std::make_unique<ThenableBridge>();
    QJSEngine::setObjectOwnership(bridge.get(), QJSEngine::CppOwnership);
    QJSValue connect = engineHelper(engine, "_qtaio_connectThenable",
                                    "(function(p, h) {"
                                    "  p.then(v => h.onResolved(v), e => h.onRejected(e));"
                                    "})");
    connect.call({thenable, engine->newQObject(bridge.get())});
    co_await bridge->done.wait();
    if (bridge->failed)
        throw std::runtime_error(bridge->error.toStdString());
    co_return bridge->value;
}

} // namespace QtAio::QmlSupport
