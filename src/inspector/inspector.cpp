// SPDX-License-Identifier: MIT
#include "inspector.h"

#include <qtaio/inspection.h>

#include <QtCore/QLoggingCategory>
#include <QtCore/QPointer>
#include <QtGui/QGuiApplication>
#include <QtQml/QQmlApplicationEngine>
#include <QtQuick/QQuickWindow>

namespace QtAio {

namespace {

Q_LOGGING_CATEGORY(lcInspector, "qtaio.inspector")

QPointer<QQmlApplicationEngine> g_engine;
QPointer<QQuickWindow> g_window;

} // namespace

QQuickWindow *Inspector::show()
{
    if (!qobject_cast<QGuiApplication *>(QCoreApplication::instance())) {
        qCWarning(lcInspector, "Inspector::show() needs a QGuiApplication");
        return nullptr;
    }
    Inspection::setEnabled(true);
    if (!g_window) {
        delete g_engine;
        g_engine = new QQmlApplicationEngine(QCoreApplication::instance());
        // The module's files are in this library's resources; Qt 6.4 does not search there
        // by default.
        g_engine->addImportPath(QStringLiteral("qrc:/qt/qml"));
        g_engine->load(QUrl(QStringLiteral("qrc:/qt/qml/QtAio/Inspector/InspectorWindow.qml")));
        const auto roots = g_engine->rootObjects();
        g_window = roots.isEmpty() ? nullptr : qobject_cast<QQuickWindow *>(roots.first());
        if (!g_window) {
            qCWarning(lcInspector, "the inspector window could not be loaded");
            return nullptr;
        }
    }
    if (g_window->isVisible()) {
        g_window->raise();
        g_window->requestActivate();
    } else {
        g_window->show(); // a window shown anew comes to the front
    }
    return g_window;
}

QQuickWindow *Inspector::window()
{
    return g_window;
}

} // namespace QtAio

void qtaio_inspector_open()
{
    QtAio::Inspector::show();
}
