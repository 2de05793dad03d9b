// SPDX-License-Identifier: MIT
// A QtAio application that knows nothing of the Inspector: it links QtAio::Core and Qt GUI
// only. Run with QTAIO_INSPECTOR=1, the inspector window must open on its own; this program
// prints what it sees and exits 0 when the window shows the queue it created, 1 after 60 s.
#include <qtaio/asyncqueue.h>

#include <QtCore/QTimer>
#include <QtGui/QGuiApplication>
#include <QtGui/QWindow>

#include <cstdio>

namespace {

// The inspector's row count, read by property name: this program does not link the inspector.
int listedRows(const QWindow *window)
{
    const auto children = window->findChildren<QObject *>();
    for (const QObject *child : children) {
        if (qstrcmp(child->metaObject()->className(), "QtAio::InspectorModel") == 0)
            return child->property("count").toInt();
    }
    return -1;
}

} // namespace

int main(int argc, char *argv[])
{
    QGuiApplication app(argc, argv);
    QtAio::AsyncQueue<int> queue(10);
    queue.setObjectName(QStringLiteral("jobs"));

    QTimer poll;
    poll.setInterval(20);
    QObject::connect(&poll, &QTimer::timeout, &app, [&app] {
        const auto windows = QGuiApplication::topLevelWindows();
        for (const QWindow *window : windows) {
            if (window->objectName() != QLatin1String("QtAioInspectorWindow") ||
                !window->isVisible())
                continue;
            const int rows = listedRows(window);
            if (rows >= 1) {
                std::printf("inspector window shown, %d primitive(s) listed\n", rows);
                app.exit(0);
            }
        }
    });
    poll.start();
    QTimer::singleShot(60000, &app, [&app] {
        std::printf("no inspector window after 60 s\n");
        app.exit(1);
    });
    return app.exec();
}
