// SPDX-License-Identifier: MIT
// Six jobs run on the thread pool, at most two at a time (a Semaphore); a coroutine on the
// main thread waits until all of them are done (a Latch) while the latch's countChanged
// signal reports progress in the main thread.

#include <qtaio/latch.h>
#include <qtaio/semaphore.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QThread>
#include <QtCore/QThreadPool>

#include <qcoro/qcorotask.h>

#include <chrono>
#include <cstdio>

using namespace std::chrono_literals;

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    constexpr int jobs = 6;
    QtAio::Semaphore slots(2);
    QtAio::Latch done(jobs);
    QElapsedTimer clock;
    clock.start();

    QObject::connect(&done, &QtAio::Latch::countChanged, &app, [&](int remaining) {
        std::printf("[%5lld ms] main thread: %d job(s) remaining\n", clock.elapsed(), remaining);
    });

    for (int id = 0; id < jobs; ++id) {
        QThreadPool::globalInstance()->start([&, id] {
            // Pool threads have no event loop: the blocking form. The permit goes at scope end.
            auto permit = slots.acquireBlocking();
            std::printf("[%5lld ms] job %d runs (%d of 2 slots held)\n", clock.elapsed(), id,
                        slots.held());
            QThread::msleep(150);
            permit.release();
            done.countDown();
        });
    }

    auto waitForAll = [&]() -> QCoro::Task<> {
        const bool finished = co_await done.wait(30s); // resumes here, on the main thread
        std::printf("[%5lld ms] %s\n", clock.elapsed(),
                    finished ? "all jobs done" : "timed out waiting for the jobs");
        QCoreApplication::exit(finished ? 0 : 1);
    };
    auto task = waitForAll();
    return app.exec();
}
