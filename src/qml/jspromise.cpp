// SPDX-License-Identifier: MIT
#include "jspromise_p.h"

#include <qtaio/errors.h>

#include <QtCore/QMetaObject>
#include <QtCore/QRegularExpression>

#include <cmath>
#include <limits>

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

//! The what() of \a e with its nested causes.
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

//! The JS value a JsThrown in \a e's chain of nested causes carries, if any.
const JsThrown *thrownCause(const std::exception &e)
{
    if (const auto *thrown = dynamic_cast<const JsThrown *>(&e))
        return thrown;
    try {
        std::rethrow_if_nested(e);
    } catch (const std::exception &cause) {
        return thrownCause(cause);
    } catch (...) {
    }
    return nullptr;
}

//! A C++ message as QML reads it: the leading "Class::method: " becomes "<operation>: ", and
//! the other C++ names in it are written with a dot.
QString qmlMessage(const QString &operation, const QString &message)
{
    static const QRegularExpression cppPrefix(QStringLiteral("^[A-Za-z_][\\w:]*::\\w+: "));
    QString text = message;
    text.remove(cppPrefix);
    text.replace(QStringLiteral("::"), QStringLiteral("."));
    return operation + QStringLiteral(": ") + text;
}

QJSValue namedError(QJSEngine *engine, QJSValue::ErrorType type, const QString &name,
                    const QString &message)
{
    QJSValue error = engine->newErrorObject(type, message);
    if (!name.isEmpty()) {
        // An own `name` (the prototype's is read-only through QJSValue::setProperty()).
        QJSValue define = engineHelper(engine, "_qtaio_nameError",
                                       "(function(e, name) {"
                                       "  Object.defineProperty(e, 'name', { value: name,"
                                       "    writable: true, configurable: true });"
                                       "  return e;"
                                       "})");
        define.call({error, name});
    }
    return error;
}

} // namespace

// --- Promises --------------------------------------------------------------------------------

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

void JsDeferred::reject(const QJSValue &reason) const
{
    if (m_engine)
        m_reject.call({reason});
}

void JsDeferred::rejectWithCurrentException(const QString &operation) const
{
    if (m_engine)
        reject(jsReason(m_engine, operation));
}

// --- Errors ----------------------------------------------------------------------------------

QJSValue jsReason(QJSEngine *engine, const QString &operation)
{
    try {
        throw;
    } catch (const JsThrown &thrown) {
        return thrown.value;
    } catch (const ExecutionError &e) {
        const JsThrown *cause = thrownCause(e);
        if (cause && !e.index())
            return cause->value; // run(): the work's own reason, as it was thrown
        QJSValue error =
            namedError(engine, QJSValue::GenericError, QStringLiteral("ExecutionError"),
                       qmlMessage(operation, describe(e)));
        if (e.index())
            error.setProperty(QStringLiteral("index"), double(*e.index()));
        if (cause)
            error.setProperty(QStringLiteral("cause"), cause->value);
        return error;
    } catch (const TimeoutError &e) {
        return namedError(engine, QJSValue::GenericError, QStringLiteral("TimeoutError"),
                          qmlMessage(operation, describe(e)));
    } catch (const CancelledError &e) {
        return namedError(engine, QJSValue::GenericError, QStringLiteral("CancelledError"),
                          qmlMessage(operation, describe(e)));
    } catch (const QueueClosedError &e) {
        return namedError(engine, QJSValue::GenericError, QStringLiteral("QueueClosedError"),
                          qmlMessage(operation, describe(e)));
    } catch (const std::invalid_argument &e) {
        return namedError(engine, QJSValue::RangeError, {}, qmlMessage(operation, describe(e)));
    } catch (const std::exception &e) {
        return namedError(engine, QJSValue::GenericError, {}, qmlMessage(operation, describe(e)));
    } catch (...) {
        return namedError(engine, QJSValue::GenericError, {},
                          qmlMessage(operation, QStringLiteral("unknown exception")));
    }
}

void throwCurrentExceptionToJs(QJSEngine *engine, const QString &operation)
{
    if (engine)
        engine->throwError(jsReason(engine, operation));
}

void throwJsError(QJSEngine *engine, QJSValue::ErrorType type, const QString &message)
{
    if (engine)
        engine->throwError(type, message);
}

std::optional<QDeadlineTimer> timeoutFromJs(QJSEngine *engine, const QJSValue &timeoutMs,
                                            const QString &operation)
{
    if (timeoutMs.isUndefined() || timeoutMs.isNull())
        return QDeadlineTimer(QDeadlineTimer::Forever);
    if (!timeoutMs.isNumber()) {
        throwJsError(engine, QJSValue::TypeError,
                     operation +
                         QStringLiteral(": the timeout must be a number of milliseconds, got ") +
                         timeoutMs.toString());
        return std::nullopt;
    }
    const double ms = timeoutMs.toNumber();
    if (std::isnan(ms) || ms < 0) {
        throwJsError(engine, QJSValue::RangeError,
                     operation + QStringLiteral(": the timeout must not be negative or NaN, got ") +
                         timeoutMs.toString());
        return std::nullopt;
    }
    if (std::isinf(ms))
        return QDeadlineTimer(QDeadlineTimer::Forever);
    return QtAio::detail::deadlineAfter(std::chrono::duration<double, std::milli>(ms));
}

std::optional<int> countFromJs(QJSEngine *engine, const QJSValue &value, int fallback, int minimum,
                               const QString &what)
{
    if (value.isUndefined())
        return fallback;
    // Only a number is converted: toNumber() would run an object's valueOf().
    const bool isNumber = value.isNumber();
    const double number = isNumber ? value.toNumber() : 0;
    if (!isNumber || std::isnan(number) || number < minimum || number != std::floor(number) ||
        number > std::numeric_limits<int>::max()) {
        throwJsError(engine, isNumber ? QJSValue::RangeError : QJSValue::TypeError,
                     what +
                         QStringLiteral(" must be a whole number from %1 to %2, got ")
                             .arg(minimum)
                             .arg(std::numeric_limits<int>::max()) +
                         value.toString());
        return std::nullopt;
    }
    return int(number);
}

// --- Calling JavaScript ----------------------------------------------------------------------

bool isThenable(const QJSValue &value)
{
    return value.isObject() && value.property(QStringLiteral("then")).isCallable();
}

QJSValue callJs(QJSEngine *engine, const QJSValue &function, const QJSValueList &arguments)
{
    // QJSValue::call() returns what was thrown as if it were the result; only an Error can be
    // told apart that way. The try/catch in JavaScript tells every thrown value apart.
    QJSValue invoke = engineHelper(engine, "_qtaio_invoke",
                                   "(function(f, args) {"
                                   "  try { return { ok: true, value: f(...args) }; }"
                                   "  catch (e) { return { ok: false, error: e }; }"
                                   "})");
    QJSValue args = engine->newArray(uint(arguments.size()));
    for (int i = 0; i < arguments.size(); ++i)
        args.setProperty(quint32(i), arguments[i]);
    const QJSValue outcome = invoke.call({function, args});
    if (outcome.property(QStringLiteral("ok")).toBool())
        return outcome.property(QStringLiteral("value"));
    const QJSValue thrown = outcome.property(QStringLiteral("error"));
    throw JsThrown(thrown, "JavaScript threw " + thrown.toString().toStdString());
}

void ThenableBridge::onResolved(const QJSValue &resolved)
{
    value = resolved;
    done.set();
}

void ThenableBridge::onRejected(const QJSValue &reason)
{
    failed = true;
    value = reason;
    done.set();
}

QCoro::Task<QJSValue> awaitThenable(QJSEngine *engine, QJSValue thenable, std::stop_token stop)
{
    // Owned by JavaScript: the thenable's reactions keep it alive until it settles, also when
    // this coroutine has stopped waiting; `handler` keeps it alive while it waits.
    auto *bridge = new ThenableBridge;
    const QJSValue handler = engine->newQObject(bridge);
    QJSValue connect = engineHelper(engine, "_qtaio_connectThenable",
                                    "(function(p, h) {"
                                    "  p.then(v => h.onResolved(v), e => h.onRejected(e));"
                                    "})");
    connect.call({thenable, handler});
    // Built in a statement of its own: g++ 12 destroys a braced temporary written inside a
    // co_await expression twice (here: the stop token).
    auto settled = bridge->done.wait({std::move(stop), QDeadlineTimer(QDeadlineTimer::Forever)});
    co_await settled;
    if (bridge->failed)
        throw JsThrown(bridge->value, "rejected with " + bridge->value.toString().toStdString());
    co_return bridge->value;
}

// --- Abort signal ----------------------------------------------------------------------------

struct JsAbortSignal::State {
    QPointer<QJSEngine> engine;
    QPointer<QObject> context;
    QJSValue object;
    QJSValue abort;
};

JsAbortSignal::JsAbortSignal(QJSEngine *engine, QObject *context, std::stop_token stop)
    : m_state(std::make_shared<State>())
{
    m_state->engine = engine;
    m_state->context = context;
    QJSValue make =
        engineHelper(engine, "_qtaio_makeAbortSignal",
                     "(function() {"
                     "  const listeners = [];"
                     "  const signal = {"
                     "    aborted: false, reason: undefined, onabort: null,"
                     "    addEventListener(type, f) { if (type === 'abort') listeners.push(f); },"
                     "    removeEventListener(type, f) {"
                     "      const i = listeners.indexOf(f); if (type === 'abort' && i >= 0) "
                     "listeners.splice(i, 1);"
                     "    },"
                     "    throwIfAborted() { if (signal.aborted) throw signal.reason; }"
                     "  };"
                     "  const abort = function(reason) {"
                     "    if (signal.aborted) return;"
                     "    signal.aborted = true; signal.reason = reason;"
                     "    const event = { type: 'abort', target: signal };"
                     "    if (typeof signal.onabort === 'function') signal.onabort(event);"
                     "    for (const f of listeners.slice()) f(event);"
                     "  };"
                     "  return { signal: signal, abort: abort };"
                     "})");
    const QJSValue parts = make.call();
    m_state->object = parts.property(QStringLiteral("signal"));
    m_state->abort = parts.property(QStringLiteral("abort"));
    if (stop.stop_possible())
        m_onStop.emplace(std::move(stop), Abort{m_state});
}

JsAbortSignal::~JsAbortSignal() = default;

QJSValue JsAbortSignal::object() const
{
    return m_state->object;
}

void JsAbortSignal::Abort::operator()() const noexcept
{
    // From any thread, and from inside request_stop(): the listeners run later, on the
    // engine's thread, never inside the call that stopped the work.
    QObject *context = state->context;
    if (!context)
        return;
    QMetaObject::invokeMethod(
        context,
        [state = state] {
            if (!state->engine)
                return;
            state->abort.call(
                {namedError(state->engine, QJSValue::GenericError, QStringLiteral("CancelledError"),
                            QStringLiteral("TaskExecutor: the work was stopped"))});
        },
        Qt::QueuedConnection);
}

} // namespace QtAio::QmlSupport
