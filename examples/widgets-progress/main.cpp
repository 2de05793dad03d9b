// SPDX-License-Identifier: MIT
// A Qt Widgets window: a progress bar and a Cancel button fed by a TaskExecutor that runs 40
// blocking jobs on the thread pool, at most 4 at a time (a limit of the gather call). Cancel stops
// the jobs that have not finished (each job checks its std::stop_token).
//
//   qtaio-widgets-progress            the window
//   qtaio-widgets-progress --auto     runs to the end (or cancels half-way with --cancel) and quits

#include <qtaio/errors.h>
#include <qtaio/taskexecutor.h>

#include <QtCore/QThread>
#include <QtWidgets/QApplication>
#include <QtWidgets/QLabel>
#include <QtWidgets/QProgressBar>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QVBoxLayout>
#include <QtWidgets/QWidget>

#include <qcoro/qcorotask.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <stop_token>
#include <vector>

namespace {

constexpr int jobCount = 40;
constexpr int jobLimit = 4;

// [job]
// One blocking job: runs on the thread pool and stops early when asked to.
int crunch(std::stop_token stop, int job)
{
    for (int step = 0; step < 10; ++step) {
        if (stop.stop_requested())
            throw QtAio::CancelledError("job " + std::to_string(job) + " cancelled");
        QThread::msleep(5);
    }
    return job * job;
}
// [job]

class Window : public QWidget {
public:
    explicit Window(bool autoRun, bool autoCancel) : m_autoRun(autoRun), m_autoCancel(autoCancel)
    {
        setWindowTitle(QStringLiteral("QtAio — executor with a limit"));
        auto *layout = new QVBoxLayout(this);
        m_status = new QLabel(QStringLiteral("Starting…"), this);
        m_progress = new QProgressBar(this);
        m_progress->setRange(0, jobCount);
        m_cancel = new QPushButton(QStringLiteral("Cancel"), this);
        layout->addWidget(m_status);
        layout->addWidget(m_progress);
        layout->addWidget(m_cancel);

        // The limit is the gather call's own (GatherOptions below): each job holds one slot
        // of the call and runs one runInThread() job of the executor, whose own limit stays
        // unlimited, so a job never waits for a slot that its own kind holds.
        // [progress]
        connect(&m_executor, &QtAio::TaskExecutor::runningChanged, this, [this](int running) {
            m_status->setText(QStringLiteral("%1 of %2 jobs done, %3 tasks running")
                                  .arg(m_done)
                                  .arg(jobCount)
                                  .arg(running));
        });
        connect(m_cancel, &QPushButton::clicked, this, [this] {
            m_cancelRequested = true;
            m_cancelling = cancel();
        });
        // [progress]
        if (m_autoCancel) {
            // valueChanged comes from inside a job (its progress update): the click is queued,
            // so that cancel() runs outside it, as a user's click does, and its cancelAll()
            // waits for that job too (inside a task it would not wait for that task).
            connect(m_progress, &QProgressBar::valueChanged, this, [this](int done) {
                if (done == jobCount / 2 && !m_cancelRequested)
                    QMetaObject::invokeMethod(m_cancel, &QPushButton::click, Qt::QueuedConnection);
            });
        }
        m_running = runAll();
    }

private:
    // [run]
    QCoro::Task<> runAll()
    {
        std::vector<std::function<QCoro::Task<int>(std::stop_token)>> jobs;
        for (int job = 0; job < jobCount; ++job) {
            // The executor owns this factory (and its captures) until the job has ended.
            jobs.push_back([this, job](std::stop_token stop) -> QCoro::Task<int> {
                const int result = co_await m_executor.runInThread(crunch, std::move(stop), job);
                m_progress->setValue(++m_done); // back on the GUI thread
                co_return result;
            });
        }
        const QtAio::GatherOptions options{.limit = jobLimit};
        try {
            const QList<int> results = co_await m_executor.gather(std::move(jobs), options);
            m_status->setText(QStringLiteral("All %1 jobs done").arg(results.size()));
        } catch (const QtAio::CancelledError &) {
            m_status->setText(QStringLiteral("Cancelled after %1 jobs").arg(m_done));
        } catch (const QtAio::ExecutionError &error) {
            m_status->setText(QString::fromUtf8(error.what()));
        }
        m_cancel->setEnabled(false);
        std::printf("%s\n", qPrintable(m_status->text()));
        if (m_cancelRequested)
            co_await m_cancelling; // quit only once cancelAll() has returned
        if (m_autoRun)
            QApplication::quit();
    }

    QCoro::Task<> cancel()
    {
        m_cancel->setEnabled(false);
        co_await m_executor.cancelAll(); // stops the jobs and waits until none is left
    }
    // [run]

    QtAio::TaskExecutor m_executor;
    QLabel *m_status = nullptr;
    QProgressBar *m_progress = nullptr;
    QPushButton *m_cancel = nullptr;
    QCoro::Task<> m_running;
    QCoro::Task<> m_cancelling;
    int m_done = 0;
    bool m_cancelRequested = false;
    bool m_autoRun = false;
    bool m_autoCancel = false;
};

} // namespace

int main(int argc, char *argv[])
{
    if (!qEnvironmentVariableIsSet("DISPLAY") && !qEnvironmentVariableIsSet("WAYLAND_DISPLAY") &&
        !qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) {
        qputenv("QT_QPA_PLATFORM", "offscreen");
    }
    QApplication app(argc, argv);
    const QStringList args = QApplication::arguments();
    Window window(args.contains(QStringLiteral("--auto")),
                  args.contains(QStringLiteral("--cancel")));
    window.resize(420, 140);
    window.show();
    return QApplication::exec();
}
