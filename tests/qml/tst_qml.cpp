// SPDX-License-Identifier: MIT
// Runs the Qt Quick Test suites tst_*.qml of this folder against the QtAio QML module of the
// build tree.

#include <QtQml/QQmlEngine>
#include <QtQuickTest/quicktest.h>

class Setup : public QObject {
    Q_OBJECT

public Q_SLOTS:
    void qmlEngineAvailable(QQmlEngine *engine)
    {
        engine->addImportPath(QStringLiteral(QTAIO_QML_IMPORT_PATH));
    }
};

QUICK_TEST_MAIN_WITH_SETUP(qtaio, Setup)

#include "tst_qml.moc"
