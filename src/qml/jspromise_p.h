// SPDX-License-Identifier: MIT
#pragma once

// The JavaScript side of the QML module: Promises for every waiting call, JS errors named after
// the QtAio error classes, JS values thrown through C++ unchanged, timeouts and priorities read
// from JS values of any type, and the abort signal handed to JS work. A failure always reaches
// JavaScript (QCoro 0.8's QmlTask drops failures). Everything here runs on the engine's thread.

#include <qtaio/detail/concepts.h>
#include <qtaio/detail/waitcore.h>

#include <QtCore/QDeadlineTimer>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QVariant>
#include <QtQml/QJSEngine>
#include <QtQml/QJSValue>

#include <qcoro/qcorotask.h>

#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>

namespace QtAio::QmlSupport {

//! A value thrown by JavaScript code, or a Promise's rejection reason, carried through C++ as an
//! exception so that it reaches the awaiting JavaScript code exactly as it was thrown.
class JsThrown : public std::runtime_error {
public:
    JsThrown(const QJSValue &thrown, const std::string &description)
        : std::runtime_error(description), value(thrown)
    {
    }
    QJSValue value;
};

//! A pending JavaScript Promise with the functions that settle it.
class JsDeferred {
public:
    //! Makes a new pending promise in \a engine.
    static JsDeferred create(QJSEngine *engine);

    [[nodiscard]] QJSValue promise() const { return m_promise; }
    //! Resolves the promise; does nothing once the engine is gone.
    void resolve(const QJSValue &value) const;
    void resolve(const QVariant &value) const;
    //! Rejects the promise with \a reason.
    void reject(const QJSValue &reason) const;
    //! Rejects with the exception being handled (call from a catch block): see jsReason().
    void rejectWithCurrentException(const QString &operation) const;

private:
    QPointer<QJSEngine> m_engine;
    QJSValue m_promise;
    QJSValue m_resolve;
    QJSValue m_reject;
};

//! What JavaScript receives for the exception being handled (call from a catch block): a value
//! thrown by JS code as it was (also when a QtAio error carries it as its cause); otherwise an
//! Error whose `name` is the error class (QueueClosedError, TimeoutError, CancelledError,
//! ExecutionError; RangeError for a bad argument, TypeError for a value of the wrong type,
//! Error for the rest) and whose message starts with \a operation as QML writes it
//! ("AsyncQueue.get"). An ExecutionError with an index gets `index`, and `cause` when the cause
//! is a JS value.
QJSValue jsReason(QJSEngine *engine, const QString &operation);

//! Throws jsReason() as a JavaScript exception (call from a catch block of an invokable, which
//! then returns normally).
void throwCurrentExceptionToJs(QJSEngine *engine, const QString &operation);

//! Throws a JavaScript error of \a type with \a message from an invokable.
void throwJsError(QJSEngine *engine, QJSValue::ErrorType type, const QString &message);

//! Reads a timeout in milliseconds: undefined, null or Infinity mean none; a finite number
//! >= 0 (fractions and values past 2^31 included) is exact. Throws a JS TypeError (not a
//! number) or RangeError (NaN, negative) naming \a operation, and then yields nothing.
std::optional<QDeadlineTimer> timeoutFromJs(QJSEngine *engine, const QJSValue &timeoutMs,
                                            const QString &operation);

//! Reads a count (of a countdown, of permits, a limit): undefined means \a fallback; otherwise
//! a whole number from \a minimum to 2^31 - 1. Throws a JS TypeError (not a number) or
//! RangeError (NaN, Infinity, a fraction, out of range) naming \a what, and then yields
//! nothing, where an int parameter would have taken the number modulo 2^32 without a word.
std::optional<int> countFromJs(QJSEngine *engine, const QJSValue &value, int fallback, int minimum,
                               const QString &what);

//! Whether \a value has a callable `then` (a Promise or another thenable).
bool isThenable(const QJSValue &value);

//! Calls \a function with \a arguments; yields what it returns, or throws JsThrown with
//! whatever it threw (an Error or any other value).
QJSValue callJs(QJSEngine *engine, const QJSValue &function, const QJSValueList &arguments);

//! Awaits a JavaScript thenable; yields its value or throws JsThrown with the rejection's
//! reason. Throws CancelledError when \a stop is requested first (the thenable may still
//! settle later: nothing waits for it then). Resumes on the engine's thread.
QCoro::Task<QJSValue> awaitThenable(QJSEngine *engine, QJSValue thenable, std::stop_token stop);

//! Receives the outcome of a thenable (see awaitThenable()).
class ThenableBridge : public QObject {
    Q_OBJECT
public:
    Q_INVOKABLE void onResolved(const QJSValue &value);
    Q_INVOKABLE void onRejected(const QJSValue &reason);

    QJSValue value;
    bool failed = false;
    QtAio::detail::AsyncEvent done;
};

//! The AbortSignal-like object given to JavaScript work: `aborted`, `reason`, `onabort`,
//! `addEventListener("abort", f)`, `removeEventListener`, `throwIfAborted()`. It is aborted on
//! the engine's thread once \a stop is requested, from whatever thread that happens.
class JsAbortSignal {
public:
    JsAbortSignal(QJSEngine *engine, QObject *context, std::stop_token stop);
    ~JsAbortSignal();
    JsAbortSignal(const JsAbortSignal &) = delete;
    JsAbortSignal &operator=(const JsAbortSignal &) = delete;

    //! The JavaScript object.
    [[nodiscard]] QJSValue object() const;

private:
    struct State;
    std::shared_ptr<State> m_state;
    struct Abort {
        std::shared_ptr<State> state;
        void operator()() const noexcept;
    };
    std::optional<std::stop_callback<Abort>> m_onStop;
};

//! Awaits \a awaitable and settles \a deferred with what \a toJs makes of its result, or
//! rejects it with jsReason() for \a operation.
template<typename Awaitable, typename ToJs>
QCoro::Task<> settle(JsDeferred deferred, Awaitable awaitable, ToJs toJs, QString operation)
{
    try {
        // Awaited as an lvalue: g++ 12 mis-handles the temporary that QCoro 0.8's
        // await_transform(Task&&) makes of an rvalue task.
        if constexpr (std::is_void_v<QtAio::detail::AwaitResult<Awaitable>>) {
            co_await awaitable;
            deferred.resolve(QJSValue());
        } else {
            deferred.resolve(toJs(co_await awaitable));
        }
    } catch (...) {
        deferred.rejectWithCurrentException(operation);
    }
}

} // namespace QtAio::QmlSupport
