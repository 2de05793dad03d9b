// SPDX-License-Identifier: MIT
#pragma once

#include "qtaioinspector_export.h"

#include <QtCore/QtGlobal>

QT_BEGIN_NAMESPACE
class QQuickWindow;
QT_END_NAMESPACE

namespace QtAio {

//! Opens the QtAio Inspector: a window that lists every live QtAio primitive of the process
//! with its state and charts of its recent history.
/*!
 * The window is the QML type `InspectorWindow` of the module `QtAio.Inspector`; an application
 * that wants the view inside its own window uses `InspectorView` from the same module instead.
 * Setting the environment variable `QTAIO_INSPECTOR=1` opens the window in any QtAio
 * application with a QGuiApplication, without calling show().
 */
class QTAIO_INSPECTOR_EXPORT Inspector {
public:
    Inspector() = delete;

    //! Enables Inspection and shows the inspector window, creating it on the first call (in
    //! a QQmlApplicationEngine of its own, a child of the application object). Call it in the
    //! GUI thread, with a QGuiApplication (or QApplication) running or about to run. Returns
    //! the window, or nullptr when it could not be loaded (the QML warnings say why).
    //! Primitives created before Inspection was enabled are not listed.
    static QQuickWindow *show();

    //! The inspector window if show() created it and it still exists, or nullptr.
    [[nodiscard]] static QQuickWindow *window();
};

} // namespace QtAio

//! \cond INTERNAL
// What QtAio::Core calls, through QLibrary, when QTAIO_INSPECTOR=1: Inspector::show().
extern "C" QTAIO_INSPECTOR_EXPORT void qtaio_inspector_open();
//! \endcond
