// SPDX-License-Identifier: MIT
#pragma once

// JavaScript promises for the QML module: every waiting call from JS returns a Promise that
// is resolved with the result or rejected with an Error whose message names the failure, so a
// failure always reaches JavaScript (QCoro 0.8's QmlTask drops failures).

#include <qtaio/detail/concepts.h>
#include <qtaio/detail/waitcore.h>

#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QVariant>
#include <QtQml/QJSEngine>
#include <QtQml/QJSValue>

#include <qcoro/qcorotask.h>

#include <exception>
#include <string>

namespace QtAio::QmlSupport {

//! A pending JavaScript Promise with the functions that settle it.
class JsDeferred {
public:
    //! Makes a new pending promise in \a engine.
    static JsDeferred create(QJSEngine *engine);

    [[nodiscard]] QJSValue promise() const { return m_promise; }
    //! Resolves the promise; does nothing once the engine is gone.
    void resolve(const QJSValue &value) const;
    void resolve(const QVariant &value) const;
    //! Rejects the promise with an Error carrying \a message.
    void reject(const QString &message) const;
    //! Rejects with the message of the exception being handled (call from a catch block).
    void rejectWithCurrentException() const;

private:
    QPointer<QJSEngine> m_engine;
    QJSValue m_promise;
    QJSValue m_resolve;
    QJSValue m_reject;
};

//! The what() of the exception being handled, including nested causes.
QString currentExceptionMessage();

//! Throws a JavaScript error in \a engine for the exception being handled (call from a catch
//! block of an invokable; the invokable then returns normally).
void throwCurrentExceptionToJs(QJSEngine *engine);

//! Whether \a value has a callable `then` (a Promise or another thenable).
bool isThenable(const QJSValue &value);

//! Awaits a JavaScript thenable; yields its value, or throws std::runtime_error with the
//! rejection's message. Resumes on the engine's thread.
QCoro::Task<QJSValue> awaitThenable(QJSEngine *engine, QJSValue thenable);

//! Receives the outcome of a thenable (see awaitThenable()).
class ThenableBridge : public QObject {
    Q_OBJECT
public:
    Q_INVOKABLE void onResolved(const QJSValue &value);
    Q_INVOKABLE void onRejected(const QJSValue &reason);

    QJSValue value;
    QString error;
    bool failed = false;
    QtAio::detail::AsyncEvent done;
};

//! Awaits \a awaitable and settles \a deferred with what \a toJs makes of its result, or
//! rejects it with the exception's message.
template<typename Awaitable, typename ToJs>
QCoro::Task<> settle(JsDeferred deferred, Awaitable awaitable, ToJs toJs)
{
    try {
        if constexpr (std::is_void_v<QtAio::detail::AwaitResult<Awaitable>>) {
            co_await awaitable;
            deferred.resolve(QJSValue());
        } else {
            deferred.resolve(toJs(co_await awaitable));
        }
    } catch (...) {
        deferred.rejectWithCurrentException();
    }
}

} // namespace QtAio::QmlSupport
