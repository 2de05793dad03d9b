// SPDX-License-Identifier: MIT
// A worker thread feeds a queue declared in QML; a QML binding on the queue's size updates on
// the GUI thread.

#include "qtaiotest.h"

#include <qmlprimitives.h>
#include <qmlqueues.h>

#include <QtCore/QMetaMethod>
#include <QtCore/QRegularExpression>
#include <QtCore/QSet>

#include <QtQml/QQmlComponent>
#include <QtQml/QQmlEngine>

#include <memory>
#include <thread>

using QtAio::QmlSupport::QmlAsyncQueue;
using QtAio::QmlSupport::QmlLatch;
using QtAio::QmlSupport::QmlLifoQueue;
using QtAio::QmlSupport::QmlPriorityQueue;
using QtAio::QmlSupport::QmlSemaphore;
using QtAio::QmlSupport::QmlTaskExecutor;
using namespace Qt::StringLiterals;

class tst_QmlBinding : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void workerThreadFeedsAQmlBinding();
    void badDeclaredValuesWarnWithTheirLocation_data();
    void badDeclaredValuesWarnWithTheirLocation();
    void qmlTypesMatchTheCoreTypes_data();
    void qmlTypesMatchTheCoreTypes();
    void wrappedPrimitivesTakeTheQmlName();
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

void tst_QmlBinding::badDeclaredValuesWarnWithTheirLocation_data()
{
    QTest::addColumn<QByteArray>("declaration");
    QTest::addColumn<QString>("property");
    QTest::addColumn<QVariant>("kept");
    QTest::newRow("TaskExecutor.limit")
        << QByteArray("TaskExecutor { limit: -1") << "limit" << QVariant(0);
    QTest::newRow("Semaphore.capacity")
        << QByteArray("Semaphore { capacity: -3") << "capacity" << QVariant(1);
    QTest::newRow("Latch.count") << QByteArray("Latch { count: -2") << "count" << QVariant(0);
}

void tst_QmlBinding::badDeclaredValuesWarnWithTheirLocation()
{
    // A bad value in a declaration is a warning that names the file and line; the object is
    // created, keeps its previous value, and its Component.onCompleted runs.
    QFETCH(QByteArray, declaration);
    QFETCH(QString, property);
    QFETCH(QVariant, kept);
    QQmlEngine engine;
    engine.addImportPath(QStringLiteral(QTAIO_QML_IMPORT_PATH));
    QQmlComponent component(&engine);
    const QByteArray source = "import QtQml\n"
                              "import QtAio\n"
                              "QtObject {\n"
                              "    id: root; property bool objectCompleted: false\n"
                              "    property QtObject object: " +
                              declaration +
                              "\n"
                              "        ; Component.onCompleted: root.objectCompleted = true }\n"
                              "}\n";
    const QUrl url(QStringLiteral("file:///virtual/declared.qml"));
    component.setData(source, url);
    const QString name = QString::fromUtf8(QTest::currentDataTag());
    QTest::ignoreMessage(
        QtWarningMsg,
        QRegularExpression(QStringLiteral("^file:///virtual/declared.qml:5:\\d+: .*") +
                           QRegularExpression::escape(name) +
                           QStringLiteral(": .*got -\\d; the value is ignored$")));
    std::unique_ptr<QObject> root(component.create());
    QVERIFY2(root, qPrintable(component.errorString()));
    auto *object = root->property("object").value<QObject *>();
    QVERIFY(object);
    QCOMPARE(object->property(property.toUtf8().constData()), kept);
    QVERIFY(root->property("objectCompleted").toBool());
}

void tst_QmlBinding::qmlTypesMatchTheCoreTypes_data()
{
    QTest::addColumn<const QMetaObject *>("core");
    QTest::addColumn<const QMetaObject *>("qml");
    QTest::addColumn<QStringList>("methods");
    QTest::newRow("AsyncQueue") << &QtAio::AsyncQueueBase::staticMetaObject
                                << &QmlAsyncQueue::staticMetaObject
                                << QStringList{u"put"_s,      u"get"_s,  u"tryPut"_s, u"tryGet"_s,
                                               u"taskDone"_s, u"join"_s, u"close"_s};
    QTest::newRow("LifoQueue") << &QtAio::AsyncQueueBase::staticMetaObject
                               << &QmlLifoQueue::staticMetaObject
                               << QStringList{u"put"_s,      u"get"_s,  u"tryPut"_s, u"tryGet"_s,
                                              u"taskDone"_s, u"join"_s, u"close"_s};
    QTest::newRow("PriorityQueue")
        << &QtAio::AsyncQueueBase::staticMetaObject << &QmlPriorityQueue::staticMetaObject
        << QStringList{u"put"_s,
                       u"get"_s,
                       u"getWithPriority"_s,
                       u"tryPut"_s,
                       u"tryGet"_s,
                       u"sizeByPriority"_s,
                       u"sizeOfPriority"_s,
                       u"taskDone"_s,
                       u"join"_s,
                       u"close"_s};
    QTest::newRow("Latch") << &QtAio::Latch::staticMetaObject << &QmlLatch::staticMetaObject
                           << QStringList{u"countDown"_s, u"wait"_s, u"tryWait"_s};
    QTest::newRow("Semaphore") << &QtAio::Semaphore::staticMetaObject
                               << &QmlSemaphore::staticMetaObject
                               << QStringList{u"acquire"_s, u"tryAcquire"_s, u"release"_s};
    QTest::newRow("TaskExecutor") << &QtAio::TaskExecutor::staticMetaObject
                                  << &QmlTaskExecutor::staticMetaObject
                                  << QStringList{u"run"_s,       u"gather"_s,    u"gatherSettled"_s,
                                                 u"spawn"_s,     u"cancelAll"_s, u"shutdown"_s,
                                                 u"isShutDown"_s};
}

namespace {
QSet<QString> namesOf(const QMetaObject *meta, QMetaMethod::MethodType type)
{
    QSet<QString> names;
    for (int i = QObject::staticMetaObject.methodCount(); i < meta->methodCount(); ++i) {
        const QMetaMethod method = meta->method(i);
        if (method.methodType() == type && method.access() == QMetaMethod::Public)
            names.insert(QString::fromLatin1(method.name()));
    }
    return names;
}

QSet<QString> propertiesOf(const QMetaObject *meta)
{
    QSet<QString> names;
    for (int i = QObject::staticMetaObject.propertyCount(); i < meta->propertyCount(); ++i)
        names.insert(QString::fromLatin1(meta->property(i).name()));
    return names;
}

QSet<QString> enumsOf(const QMetaObject *meta)
{
    QSet<QString> names;
    for (int i = QObject::staticMetaObject.enumeratorCount(); i < meta->enumeratorCount(); ++i) {
        const QMetaEnum e = meta->enumerator(i);
        for (int k = 0; k < e.keyCount(); ++k)
            names.insert(QString::fromLatin1(e.name()) + u'.' + QString::fromLatin1(e.key(k)));
    }
    return names;
}
} // namespace

void tst_QmlBinding::qmlTypesMatchTheCoreTypes()
{
    // The QML types follow the C++ ones: every property, signal and enum of the core type is
    // there in QML, with nothing extra; the invokable methods are the documented set (the
    // core's methods are templates, which a meta-object does not list).
    QFETCH(const QMetaObject *, core);
    QFETCH(const QMetaObject *, qml);
    QFETCH(QStringList, methods);
    QCOMPARE(propertiesOf(qml), propertiesOf(core));
    QCOMPARE(namesOf(qml, QMetaMethod::Signal), namesOf(core, QMetaMethod::Signal));
    QCOMPARE(enumsOf(qml), enumsOf(core));
    const QSet<QString> expected(methods.begin(), methods.end());
    QCOMPARE(namesOf(qml, QMetaMethod::Method), expected);
}

void tst_QmlBinding::wrappedPrimitivesTakeTheQmlName()
{
    // The inspector lists the wrapped primitive: it shows the name given in QML.
    QQmlEngine engine;
    engine.addImportPath(QStringLiteral(QTAIO_QML_IMPORT_PATH));
    QQmlComponent component(&engine);
    component.setData(
        "import QtQml\n"
        "import QtAio\n"
        "QtObject {\n"
        "    property PriorityQueue queue: PriorityQueue { objectName: 'jobs' }\n"
        "    property TaskExecutor executor: TaskExecutor { objectName: 'consumers' }\n"
        "    property Semaphore semaphore: Semaphore { objectName: 'slots' }\n"
        "    property Latch latch: Latch { objectName: 'gate'; count: 2 }\n"
        "}\n",
        QUrl());
    std::unique_ptr<QObject> root(component.create());
    QVERIFY2(root, qPrintable(component.errorString()));
    auto *queue = qobject_cast<QmlPriorityQueue *>(root->property("queue").value<QObject *>());
    auto *executor = qobject_cast<QmlTaskExecutor *>(root->property("executor").value<QObject *>());
    auto *semaphore = qobject_cast<QmlSemaphore *>(root->property("semaphore").value<QObject *>());
    auto *latch = qobject_cast<QmlLatch *>(root->property("latch").value<QObject *>());
    QVERIFY(queue && executor && semaphore && latch);
    QCOMPARE(queue->queue().objectName(), u"jobs"_s);
    QCOMPARE(executor->executor().objectName(), u"consumers"_s);
    QCOMPARE(semaphore->semaphore().objectName(), u"slots"_s);
    QCOMPARE(latch->latch().objectName(), u"gate"_s);
    queue->setObjectName(u"renamed"_s);
    QCOMPARE(queue->queue().objectName(), u"renamed"_s);
}

QTEST_GUILESS_MAIN(tst_QmlBinding)
#include "tst_qmlbinding.moc"
