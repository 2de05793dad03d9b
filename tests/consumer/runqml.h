// SPDX-License-Identifier: MIT
// The QML half of the consumer programs: loads a QML file that imports QtAio and runs the event
// loop until the file calls Qt.exit(code).
#pragma once

#include <QtCore/QCoreApplication>
#include <QtCore/QTimer>
#include <QtQml/QQmlComponent>
#include <QtQml/QQmlEngine>

#include <cstdio>
#include <memory>

//! Runs `file` with QML_IMPORT_PATH and `importPath` (when not empty) as import paths; returns
//! the code the file gives Qt.exit(), 1 when it does not load, 3 when it has not exited after a
//! minute (a watchdog, never reached by a passing run).
inline int runQml(const QString &file, const QString &importPath = {})
{
    QQmlEngine engine;
    if (!importPath.isEmpty())
        engine.addImportPath(importPath);
    QObject::connect(&engine, &QQmlEngine::exit, QCoreApplication::instance(),
                     &QCoreApplication::exit);
    QQmlComponent component(&engine, QUrl::fromLocalFile(file));
    std::unique_ptr<QObject> root(component.create());
    if (!root) {
        std::fprintf(stderr, "%s\n", qPrintable(component.errorString()));
        return 1;
    }
    QTimer::singleShot(60000, QCoreApplication::instance(), [] { QCoreApplication::exit(3); });
    return QCoreApplication::exec();
}
