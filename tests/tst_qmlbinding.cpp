// SPDX-License-Identifier: MIT
// A worker thread feeds a queue declared in QML; a QML binding on the queue's size updates on
// the GUI thread.

#include "qtaiotest.h"

#include <qmlqueues.h>

#include <QtQml/QQmlComponent>
#include <QtQml/QQmlEngine>

#include <memory>
#include <thread>

using QtAio::QmlSupport::QmlAsyncQueue;

class tst_QmlBinding : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void workerThreadFeedsAQmlBinding();
};

void tst_QmlBinding::workerThreadFeedsAQmlBinding()
{
    QQmlEngine engine;
    engine.addImportPath(QStringLiteral(QTAIO_QML_IMPORT_PATH));
    QQmlComponent component(&engine);
    component.setData("import QtQml\n"
                      "import QtAio\n"
                      "QtObject {\n"
                      "    property AsyncQueue queue: AsyncQueue { maxSize: 16 }\n"
                      "    property string shown: 'size ' + queue.size + ', taken ' + taken\n"
                      "    property int taken: 0\n"
                      "    property var consumer: Connections {\n"
                      "        target: queue\n"
                      "        function onItemsPut(n) {\n"
                      "            while (queue.tryGet() !== undefined) ++taken\n"
                      "        }\n"
                      "    }\n"
                      "}\n",
                      QUrl());
    std::unique_ptr<QObject> root(component.create());
    QVERIFY2(root, qPrintable(component.errorString()));
    auto *queue = qobject_cast<QmlAsyncQueue *>(root->property("queue").value<QObject *>());
    QVERIFY(queue);

    bool allOnGuiThread = true;
    connect(queue, &QmlAsyncQueue::sizeChanged, this,
            [&] { allOnGuiThread &= QThread::currentThread() == thread(); });
    std::jthread worker([queue] {
        for (int i = 0; i < 1000; ++i)
            queue->queue().putBlocking(QVariant(i)); // bounded: waits for the QML consumer
    });
    QTRY_COMPARE(root->property("shown").toString(), QStringLiteral("size 0, taken 1000"));
    worker.join();
    QVERIFY(allOnGuiThread);
}

QTEST_GUILESS_MAIN(tst_QmlBinding)
#include "tst_qmlbinding.moc"
