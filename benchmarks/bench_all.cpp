// SPDX-License-Identifier: MIT
// The DESIGN.md §7 benchmark suite: every workload side by side with its baseline, in one run.
//
//   a        200k items, 1 producer / 1 consumer coroutine, unbounded AsyncQueue<int>
//   a1       the same with maxSize = 1 (a hand-off per item); baselines: a chain of same-thread
//            queued QMetaObject::invokeMethod calls (one per item, each posting the next) and
//            the same number posted in one burst
//   pair     non-suspending put+get pair (tryPut/tryGet and co_await put/get) vs std::deque
//            push/pop under a std::mutex
//   c        TaskExecutor::gather of 100k factories returning QCoro::Task<int>, limit 100;
//            c_task: the floor, creating and awaiting one QCoro::Task<int> per item in a loop
//   e        PriorityQueue<int>: 200k puts with random priorities (0..999; e_wide: 0..2^30),
//            then 200k gets
//   f        Latch(100k): 100k countDown + one waiting coroutine; f_countdown: the countDown
//            loop alone (latch and waiter built before the clock, the wait collected after it);
//            f_atomic: the floor of any thread-safe countDown, one std::atomic fetch_sub per
//            item and nothing else
//   g        TaskExecutor::runInThread x20k sequential and x20k gathered, vs
//            `co_await QtConcurrent::run(...)` sequential and gathered; g_map: map() of a plain
//            function on the pool over a QList<int> of 20k inputs (g_map_1m: 1M), vs
//            QtConcurrent::mapped (+ waitForFinished, results) and QtConcurrent::blockingMapped
//            of the same function over the same list
//   h        1M items from 1, 2 and 4 std::threads (h_1, h_2, h) putBlocking into one
//            AsyncQueue<int> drained by a coroutine on the main thread: unbounded, and with
//            maxSize 1024 (h_bounded_1, _2, _4), vs a queued invokeMethod per item from the
//            same threads (h_invoke_1, h_invoke_2, h_invoke)
//   m        peak RSS growth (VmHWM after - VmRSS before, peak reset through clear_refs), each
//            in a fresh child process: 1M ints in AsyncQueue<int> (and in a bare std::deque),
//            TaskExecutor::map over std::views::iota(0, 1M) with limit 100, of a coroutine
//            (runs on the event loop) and of a plain function (runs on the pool)
//   signals  workload a three ways, interleaved in one run: signals_none (nothing connected,
//            the same code as a), signals_tracked (one receiver on closedChanged, which never
//            fires during a: every operation runs the full change tracking and a flush whose
//            emissions reach nobody) and signals_delivered (a receiver on sizeChanged: signals
//            really delivered). They run right after a, in the same conditions
//
// Every timed workload runs --repeat times (default 3); the best run is reported.
// Usage: qtaio-bench-all [--json] [--quick] [--unthreaded] [--repeat N] [--items N]
//                       [--only key,key,...]
//   --quick      sizes divided by 100 (CI smoke run)
//   --unthreaded the old mode: no idle thread. By default one thread is started first and
//                stays idle until the end, as in any Qt application (thread pool, QML render
//                thread): without it the process has no thread of its own until g, and glibc
//                and libstdc++ skip the locked instructions of mutexes and reference counts
//                until then (__libc_single_threaded), which flatters pair, a, signals, a1, c, e
//                and f. --threaded is accepted and is the default
//   --items N    every timed workload uses N items (h: rounded down to a multiple of 4), for
//                callgrind runs
//   --only     run only the listed keys (as printed; "m" runs the memory children)

#include <qtaio/asyncqueue.h>
#include <qtaio/latch.h>
#include <qtaio/priorityqueue.h>
#include <qtaio/taskexecutor.h>

#include <QtConcurrent/QtConcurrentMap>
#include <QtConcurrent/QtConcurrentRun>
#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QEventLoop>
#include <QtCore/QFuture>
#include <QtCore/QList>
#include <QtCore/QMetaObject>
#include <QtCore/QProcess>
#include <QtCore/QThreadPool>

#include <qcoro/qcorofuture.h>
#include <qcoro/qcorotask.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <limits>
#include <mutex>
#include <random>
#include <ranges>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

// ---------------------------------------------------------------------------------------------
// Helpers

[[noreturn]] void fail(const char *what)
{
    std::fprintf(stderr, "qtaio-bench-all: check failed: %s\n", what);
    std::abort();
}

void check(bool ok, const char *what)
{
    if (!ok)
        fail(what);
}

long long triangle(long long n)
{
    return n * (n - 1) / 2;
}

//! A field of /proc/self/status in kB ("VmRSS", "VmHWM"), or -1.
long statusKb(const char *field)
{
    std::FILE *file = std::fopen("/proc/self/status", "r");
    if (!file)
        return -1;
    char line[256];
    long value = -1;
    const std::size_t length = std::strlen(field);
    while (std::fgets(line, sizeof line, file)) {
        if (std::strncmp(line, field, length) == 0 && line[length] == ':') {
            value = std::atol(line + length + 1);
            break;
        }
    }
    std::fclose(file);
    return value;
}

//! Resets VmHWM to the current RSS (Linux >= 4.0). Returns false if that is not possible.
bool resetPeakRss()
{
    std::FILE *file = std::fopen("/proc/self/clear_refs", "w");
    if (!file)
        return false;
    const bool ok = std::fputs("5", file) >= 0;
    return std::fclose(file) == 0 && ok;
}

} // namespace

// The workloads live in a named namespace so that callgrind can select them by name:
//   valgrind --tool=callgrind --toggle-collect='bench::workloadA*' ...
namespace bench {

// ---------------------------------------------------------------------------------------------
// a, a1: producer / consumer coroutines on one queue

QCoro::Task<> produce(QtAio::AsyncQueue<int> &queue, int n)
{
    for (int i = 0; i < n; ++i)
        co_await queue.put(i);
}

QCoro::Task<long long> consume(QtAio::AsyncQueue<int> &queue, int n)
{
    long long sum = 0;
    for (int i = 0; i < n; ++i)
        sum += co_await queue.get();
    co_return sum;
}

QCoro::Task<long long> pipeline(QtAio::AsyncQueue<int> &queue, int n)
{
    auto consumer = consume(queue, n); // starts first and waits for the first item
    auto producer = produce(queue, n);
    const long long sum = co_await consumer;
    co_await producer;
    co_return sum;
}

[[gnu::noinline]] qint64 workloadQueue(int n, int maxSize)
{
    QElapsedTimer timer;
    timer.start();
    QtAio::AsyncQueue<int> queue(maxSize);
    const long long sum = QCoro::waitFor(pipeline(queue, n));
    const qint64 ns = timer.nsecsElapsed();
    check(sum == triangle(n), "a: sum");
    return ns;
}

[[gnu::noinline]] qint64 workloadA(int n)
{
    return workloadQueue(n, 0);
}

[[gnu::noinline]] qint64 workloadA1(int n)
{
    return workloadQueue(n, 1);
}

//! One queued call per item, each posting the next: the Qt form of a hand-off per item.
class InvokeChain : public QObject {
public:
    int remaining = 0;
    long long sum = 0;
    QEventLoop *loop = nullptr;

    void step(int value)
    {
        sum += value;
        if (--remaining == 0) {
            loop->quit();
            return;
        }
        const int next = value + 1;
        QMetaObject::invokeMethod(
            this, [this, next] { step(next); }, Qt::QueuedConnection);
    }
};

[[gnu::noinline]] qint64 workloadInvokeChain(int n)
{
    QElapsedTimer timer;
    timer.start();
    InvokeChain chain;
    QEventLoop loop;
    chain.remaining = n;
    chain.loop = &loop;
    QMetaObject::invokeMethod(
        &chain, [&chain] { chain.step(0); }, Qt::QueuedConnection);
    loop.exec();
    const qint64 ns = timer.nsecsElapsed();
    check(chain.sum == triangle(n), "a1 invokeMethod chain: sum");
    return ns;
}

//! Counts queued calls on the main thread and quits the loop after the last one.
class Sink : public QObject {
public:
    long long sum = 0;
    long long count = 0;
    long long target = 0;
    QEventLoop *loop = nullptr;

    void take(int value)
    {
        sum += value;
        if (++count == target)
            loop->quit();
    }
};

[[gnu::noinline]] qint64 workloadInvokeBurst(int n)
{
    QElapsedTimer timer;
    timer.start();
    Sink sink;
    QEventLoop loop;
    sink.target = n;
    sink.loop = &loop;
    for (int i = 0; i < n; ++i)
        QMetaObject::invokeMethod(
            &sink, [&sink, i] { sink.take(i); }, Qt::QueuedConnection);
    loop.exec();
    const qint64 ns = timer.nsecsElapsed();
    check(sink.sum == triangle(n), "a1 invokeMethod burst: sum");
    return ns;
}

// ---------------------------------------------------------------------------------------------
// pair: non-suspending put+get

[[gnu::noinline]] qint64 workloadPairTry(int n)
{
    QtAio::AsyncQueue<int> queue;
    long long sum = 0;
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < n; ++i) {
        (void)queue.tryPut(i);
        sum += *queue.tryGet();
    }
    const qint64 ns = timer.nsecsElapsed();
    check(sum == triangle(n), "pair tryPut/tryGet: sum");
    return ns;
}

QCoro::Task<long long> putGetPairs(QtAio::AsyncQueue<int> &queue, int n)
{
    long long sum = 0;
    for (int i = 0; i < n; ++i) {
        co_await queue.put(i);
        sum += co_await queue.get();
    }
    co_return sum;
}

[[gnu::noinline]] qint64 workloadPairAwait(int n)
{
    QtAio::AsyncQueue<int> queue;
    QElapsedTimer timer;
    timer.start();
    const long long sum = QCoro::waitFor(putGetPairs(queue, n));
    const qint64 ns = timer.nsecsElapsed();
    check(sum == triangle(n), "pair co_await put/get: sum");
    return ns;
}

[[gnu::noinline]] qint64 workloadPairDeque(int n)
{
    std::mutex mutex;
    std::deque<int> items;
    long long sum = 0;
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < n; ++i) {
        {
            std::scoped_lock lock(mutex);
            items.push_back(i);
        }
        std::scoped_lock lock(mutex);
        sum += items.front();
        items.pop_front();
    }
    const qint64 ns = timer.nsecsElapsed();
    check(sum == triangle(n), "pair deque: sum");
    return ns;
}

// ---------------------------------------------------------------------------------------------
// c: gather of trivial tasks, limit 100

QCoro::Task<int> trivial(int value)
{
    co_return value;
}

QCoro::Task<long long> gatherTrivial(QtAio::TaskExecutor &executor, int n)
{
    std::vector<std::function<QCoro::Task<int>()>> factories;
    factories.reserve(std::size_t(n));
    for (int i = 0; i < n; ++i)
        factories.emplace_back([i] { return trivial(i); });
    const QtAio::GatherOptions options{.limit = 100};
    auto work = executor.gather(std::move(factories), options);
    const QList<int> results = co_await std::move(work);
    long long sum = 0;
    for (const int value : results)
        sum += value;
    co_return sum;
}

[[gnu::noinline]] qint64 workloadC(int n)
{
    QtAio::TaskExecutor executor;
    QElapsedTimer timer;
    timer.start();
    const long long sum = QCoro::waitFor(gatherTrivial(executor, n));
    const qint64 ns = timer.nsecsElapsed();
    check(sum == triangle(n), "c: sum");
    return ns;
}

//! The floor of c: creating and awaiting one QCoro::Task per item, one after the other.
QCoro::Task<long long> awaitEachTrivial(int n)
{
    long long sum = 0;
    for (int i = 0; i < n; ++i)
        sum += co_await trivial(i);
    co_return sum;
}

[[gnu::noinline]] qint64 workloadCTask(int n)
{
    QElapsedTimer timer;
    timer.start();
    const long long sum = QCoro::waitFor(awaitEachTrivial(n));
    const qint64 ns = timer.nsecsElapsed();
    check(sum == triangle(n), "c_task: sum");
    return ns;
}

// ---------------------------------------------------------------------------------------------
// e: priority queue

std::vector<int> randomPriorities(int n, int bound)
{
    std::mt19937 random(42);
    std::uniform_int_distribution<int> pick(0, bound - 1);
    std::vector<int> priorities(std::size_t(n), 0);
    for (int &priority : priorities)
        priority = pick(random);
    return priorities;
}

QCoro::Task<long long> priorityRoundTrip(QtAio::PriorityQueue<int> &queue,
                                         const std::vector<int> &priorities)
{
    const int n = int(priorities.size());
    for (int i = 0; i < n; ++i)
        co_await queue.put(i, priorities[std::size_t(i)]);
    long long sum = 0;
    for (int i = 0; i < n; ++i)
        sum += co_await queue.get();
    co_return sum;
}

[[gnu::noinline]] qint64 workloadPriority(int n, int bound)
{
    const std::vector<int> priorities = randomPriorities(n, bound);
    QElapsedTimer timer;
    timer.start();
    QtAio::PriorityQueue<int> queue;
    const long long sum = QCoro::waitFor(priorityRoundTrip(queue, priorities));
    const qint64 ns = timer.nsecsElapsed();
    check(sum == triangle(n), "e: sum");
    return ns;
}

[[gnu::noinline]] qint64 workloadE(int n)
{
    return workloadPriority(n, 1000);
}

[[gnu::noinline]] qint64 workloadEWide(int n)
{
    return workloadPriority(n, 1 << 30);
}

// ---------------------------------------------------------------------------------------------
// f: latch

QCoro::Task<bool> awaitLatch(QtAio::Latch &latch)
{
    co_return co_await latch.wait();
}

[[gnu::noinline]] qint64 workloadF(int n)
{
    QElapsedTimer timer;
    timer.start();
    QtAio::Latch latch(n);
    auto waiter = awaitLatch(latch); // suspends: the count is n
    for (int i = 0; i < n; ++i)
        latch.countDown();
    const bool released = QCoro::waitFor(waiter);
    const qint64 ns = timer.nsecsElapsed();
    check(released && latch.count() == 0, "f: released");
    return ns;
}

//! countDown() alone, the operation f's target is about: the latch and its waiting coroutine
//! are built before the clock starts, and the wait is collected after it stops.
[[gnu::noinline]] qint64 workloadFCountDown(int n)
{
    QtAio::Latch latch(n);
    auto waiter = awaitLatch(latch); // suspends: the count is n
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < n; ++i)
        latch.countDown();
    const qint64 ns = timer.nsecsElapsed();
    const bool released = QCoro::waitFor(waiter);
    check(released && latch.count() == 0, "f_countdown: released");
    return ns;
}

//! The floor of any thread-safe countDown(): one atomic read-modify-write per call, nothing
//! else (the counter is shared, as a latch's is, so that the compiler keeps every operation).
std::atomic<int> floorCounter;

[[gnu::noinline]] void floorCountDown()
{
    floorCounter.fetch_sub(1, std::memory_order_acq_rel);
}

[[gnu::noinline]] qint64 workloadFloorAtomic(int n)
{
    QElapsedTimer timer;
    timer.start();
    floorCounter.store(n);
    for (int i = 0; i < n; ++i)
        floorCountDown();
    const qint64 ns = timer.nsecsElapsed();
    check(floorCounter.load() == 0, "f floor: count");
    return ns;
}

// ---------------------------------------------------------------------------------------------
// g: blocking calls on the thread pool

int twice(int value)
{
    return 2 * value;
}

QCoro::Task<long long> runInThreadSequential(QtAio::TaskExecutor &executor, int n)
{
    long long sum = 0;
    for (int i = 0; i < n; ++i)
        sum += co_await executor.runInThread(twice, i);
    co_return sum;
}

QCoro::Task<long long> runInThreadGathered(QtAio::TaskExecutor &executor, int n)
{
    std::vector<std::function<QCoro::Task<int>()>> factories;
    factories.reserve(std::size_t(n));
    for (int i = 0; i < n; ++i)
        factories.emplace_back([&executor, i] { return executor.runInThread(twice, i); });
    auto work = executor.gather(std::move(factories));
    const QList<int> results = co_await std::move(work);
    long long sum = 0;
    for (const int value : results)
        sum += value;
    co_return sum;
}

long long sumOf(const QList<int> &values)
{
    long long sum = 0;
    for (const int value : values)
        sum += value;
    return sum;
}

//! The inputs of the bulk maps (g_map and its QtConcurrent baselines): 0 .. n-1, built before
//! the clock starts, as a caller of QtConcurrent::mapped has its sequence already.
QList<int> inputList(int n)
{
    QList<int> inputs;
    inputs.reserve(n);
    for (int i = 0; i < n; ++i)
        inputs.push_back(i);
    return inputs;
}

QCoro::Task<long long> mapOnPool(QtAio::TaskExecutor &executor, const QList<int> &inputs)
{
    auto work = executor.map(twice, std::views::all(inputs));
    const QList<int> results = co_await std::move(work);
    co_return sumOf(results);
}

QCoro::Task<long long> concurrentSequential(int n)
{
    long long sum = 0;
    for (int i = 0; i < n; ++i) {
        QFuture<int> future = QtConcurrent::run(twice, i);
        sum += co_await future;
    }
    co_return sum;
}

QCoro::Task<long long> concurrentGathered(int n)
{
    QList<QFuture<int>> futures;
    futures.reserve(n);
    for (int i = 0; i < n; ++i)
        futures.push_back(QtConcurrent::run(twice, i));
    long long sum = 0;
    for (QFuture<int> &future : futures)
        sum += co_await future;
    co_return sum;
}

template<typename Make>
qint64 timeExecutorTask(int n, Make make, const char *what)
{
    QtAio::TaskExecutor executor;
    QElapsedTimer timer;
    timer.start();
    const long long sum = QCoro::waitFor(make(executor, n));
    const qint64 ns = timer.nsecsElapsed();
    check(sum == 2 * triangle(n), what);
    return ns;
}

template<typename Make>
qint64 timeTask(int n, Make make, const char *what)
{
    QElapsedTimer timer;
    timer.start();
    const long long sum = QCoro::waitFor(make(n));
    const qint64 ns = timer.nsecsElapsed();
    check(sum == 2 * triangle(n), what);
    return ns;
}

[[gnu::noinline]] qint64 workloadGSeq(int n)
{
    return timeExecutorTask(n, runInThreadSequential, "g seq: sum");
}

[[gnu::noinline]] qint64 workloadGGather(int n)
{
    return timeExecutorTask(n, runInThreadGathered, "g gathered: sum");
}

//! Times \a mapAll over inputList(n) (built first, untimed); it returns the sum of the results.
template<typename MapAll>
qint64 timeBulkMap(int n, MapAll mapAll, const char *what)
{
    const QList<int> inputs = inputList(n);
    QElapsedTimer timer;
    timer.start();
    const long long sum = mapAll(inputs);
    const qint64 ns = timer.nsecsElapsed();
    check(sum == 2 * triangle(n), what);
    return ns;
}

[[gnu::noinline]] qint64 workloadGMap(int n)
{
    QtAio::TaskExecutor executor;
    return timeBulkMap(
        n,
        [&executor](const QList<int> &inputs) {
            return QCoro::waitFor(mapOnPool(executor, inputs));
        },
        "g map: sum");
}

[[gnu::noinline]] qint64 workloadGMapped(int n)
{
    return timeBulkMap(
        n,
        [](const QList<int> &inputs) {
            QFuture<int> future = QtConcurrent::mapped(inputs, twice);
            future.waitForFinished();
            return sumOf(future.results());
        },
        "g QtConcurrent::mapped: sum");
}

[[gnu::noinline]] qint64 workloadGBlockingMapped(int n)
{
    return timeBulkMap(
        n,
        [](const QList<int> &inputs) {
            const QList<int> results = QtConcurrent::blockingMapped(inputs, twice);
            return sumOf(results);
        },
        "g QtConcurrent::blockingMapped: sum");
}

[[gnu::noinline]] qint64 workloadGSeqConcurrent(int n)
{
    return timeTask(n, concurrentSequential, "g QtConcurrent seq: sum");
}

[[gnu::noinline]] qint64 workloadGGatherConcurrent(int n)
{
    return timeTask(n, concurrentGathered, "g QtConcurrent gathered: sum");
}

// ---------------------------------------------------------------------------------------------
// h: producer threads into a coroutine on the main thread

QCoro::Task<long long> drain(QtAio::AsyncQueue<int> &queue, long long n)
{
    long long sum = 0;
    for (long long i = 0; i < n; ++i)
        sum += co_await queue.get();
    co_return sum;
}

//! \a total items (a multiple of \a Producers) from \a Producers threads, each putBlocking its
//! share into one AsyncQueue<int> of \a MaxSize (0: unbounded) drained by a coroutine here.
template<int Producers, int MaxSize>
[[gnu::noinline]] qint64 workloadHQueue(int total)
{
    const int perThread = total / Producers;
    QElapsedTimer timer;
    timer.start();
    QtAio::AsyncQueue<int> queue(MaxSize);
    auto consumer = drain(queue, 1LL * Producers * perThread);
    std::vector<std::thread> producers;
    for (int t = 0; t < Producers; ++t) {
        producers.emplace_back([&queue, perThread] {
            for (int i = 0; i < perThread; ++i)
                queue.putBlocking(i);
        });
    }
    const long long sum = QCoro::waitFor(consumer);
    const qint64 ns = timer.nsecsElapsed();
    for (std::thread &producer : producers)
        producer.join();
    check(sum == Producers * triangle(perThread), "h: sum");
    return ns;
}

//! The Qt way of workloadHQueue(): a queued invokeMethod per item from the same threads.
template<int Producers>
[[gnu::noinline]] qint64 workloadHInvoke(int total)
{
    const int perThread = total / Producers;
    QElapsedTimer timer;
    timer.start();
    Sink sink;
    QEventLoop loop;
    sink.target = 1LL * Producers * perThread;
    sink.loop = &loop;
    std::vector<std::thread> producers;
    for (int t = 0; t < Producers; ++t) {
        producers.emplace_back([&sink, perThread] {
            for (int i = 0; i < perThread; ++i)
                QMetaObject::invokeMethod(
                    &sink, [&sink, i] { sink.take(i); }, Qt::QueuedConnection);
        });
    }
    loop.exec(); // only the main thread counts, so the last item quits a running loop
    const qint64 ns = timer.nsecsElapsed();
    for (std::thread &producer : producers)
        producer.join();
    check(sink.sum == Producers * triangle(perThread), "h invokeMethod: sum");
    return ns;
}

// ---------------------------------------------------------------------------------------------
// signals: workload a with nothing connected, with change tracking forced, with signals delivered

enum class Receiver { None, ClosedChanged, SizeChanged };

//! sizeChanged emissions per item received in the last workloadSignalsDelivered() run.
double deliveredPerItem = 0;

//! Workload a (the same pipeline and queue) with \a receiver connected to the queue first.
qint64 workloadQueueWithReceiver(int n, Receiver receiver)
{
    QElapsedTimer timer;
    timer.start();
    QtAio::AsyncQueue<int> queue;
    QObject context;
    long long received = 0;
    using Q = QtAio::AsyncQueueBase;
    if (receiver == Receiver::ClosedChanged)
        QObject::connect(&queue, &Q::closedChanged, &context, [&received](bool) { ++received; });
    else if (receiver == Receiver::SizeChanged)
        QObject::connect(&queue, &Q::sizeChanged, &context, [&received](int) { ++received; });
    const long long sum = QCoro::waitFor(pipeline(queue, n));
    const qint64 ns = timer.nsecsElapsed();
    check(sum == triangle(n), "signals: sum");
    if (receiver == Receiver::ClosedChanged)
        check(received == 0, "signals_tracked: closedChanged fired during a");
    if (receiver == Receiver::SizeChanged) {
        check(received > 0, "signals_delivered: no sizeChanged received");
        deliveredPerItem = double(received) / double(n);
    }
    return ns;
}

//! (i) Nothing connected: exactly workload a.
[[gnu::noinline]] qint64 workloadSignalsNone(int n)
{
    return workloadQueue(n, 0);
}

//! (ii) One receiver on a signal that never fires during a: change tracking on every operation.
[[gnu::noinline]] qint64 workloadSignalsTracked(int n)
{
    return workloadQueueWithReceiver(n, Receiver::ClosedChanged);
}

//! (iii) A receiver on sizeChanged: the signals are delivered.
[[gnu::noinline]] qint64 workloadSignalsDelivered(int n)
{
    return workloadQueueWithReceiver(n, Receiver::SizeChanged);
}

// ---------------------------------------------------------------------------------------------
// m: memory, each measured in a fresh child process

struct Memory {
    long long bytes = 0;
    bool peakReset = false;
};

template<typename Work>
Memory measurePeakGrowth(Work work)
{
    Memory memory;
    memory.peakReset = resetPeakRss();
    const long before = statusKb("VmRSS");
    work();
    const long peak = statusKb("VmHWM");
    memory.bytes = (peak - before) * 1024LL;
    return memory;
}

QCoro::Task<qsizetype> mapIota(QtAio::TaskExecutor &executor, int n)
{
    auto func = [](int value) -> QCoro::Task<int> { co_return 2 * value; };
    const QtAio::GatherOptions options{.limit = 100};
    auto work = executor.map(func, options, std::views::iota(0, n));
    const QList<int> results = co_await std::move(work);
    co_return results.size();
}

QCoro::Task<qsizetype> mapIotaOnPool(QtAio::TaskExecutor &executor, int n)
{
    const QtAio::GatherOptions options{.limit = 100};
    auto work = executor.map(twice, options, std::views::iota(0, n));
    const QList<int> results = co_await std::move(work);
    co_return results.size();
}

//! Runs one memory workload in this (child) process and prints "bytes peak_reset".
int runMemoryChild(const std::string &name, int n)
{
    Memory memory;
    if (name == "m_queue") {
        QtAio::AsyncQueue<int> queue;
        memory = measurePeakGrowth([&queue, n] {
            for (int i = 0; i < n; ++i)
                check(queue.tryPut(i), "m_queue: tryPut");
        });
        check(queue.size() == n, "m_queue: size");
    } else if (name == "m_deque") {
        std::deque<int> items;
        memory = measurePeakGrowth([&items, n] {
            for (int i = 0; i < n; ++i)
                items.push_back(i);
        });
        check(items.size() == std::size_t(n), "m_deque: size");
    } else if (name == "m_map") {
        QtAio::TaskExecutor executor;
        qsizetype results = 0;
        memory = measurePeakGrowth(
            [&executor, &results, n] { results = QCoro::waitFor(mapIota(executor, n)); });
        check(results == n, "m_map: results");
    } else if (name == "m_map_pool") {
        QtAio::TaskExecutor executor;
        qsizetype results = 0;
        memory = measurePeakGrowth(
            [&executor, &results, n] { results = QCoro::waitFor(mapIotaOnPool(executor, n)); });
        check(results == n, "m_map_pool: results");
    } else {
        std::fprintf(stderr, "unknown memory workload %s\n", name.c_str());
        return 2;
    }
    std::printf("%lld %d\n", memory.bytes, memory.peakReset ? 1 : 0);
    return 0;
}

Memory runMemoryInChild(const std::string &name, int n)
{
    QProcess child;
    child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    const QStringList arguments{QStringLiteral("--child"), QString::fromStdString(name),
                                QString::number(n)};
    child.start(QCoreApplication::applicationFilePath(), arguments);
    if (!child.waitForFinished(-1) || child.exitStatus() != QProcess::NormalExit ||
        child.exitCode() != 0)
        fail("memory child process");
    const QByteArray output = child.readAllStandardOutput();
    Memory memory;
    int reset = 0;
    if (std::sscanf(output.constData(), "%lld %d", &memory.bytes, &reset) != 2)
        fail("memory child output");
    memory.peakReset = reset != 0;
    return memory;
}

} // namespace bench

namespace {

// ---------------------------------------------------------------------------------------------
// Driver

struct Sizes {
    int a = 200000;
    int c = 100000;
    int e = 200000;
    int f = 100000;
    int g = 20000;
    int gBulk = 1000000;
    int h = 1000000; // in total, over 1, 2 or 4 producer threads
    int m = 1000000;
    int pair = 200000;
};

struct Timed {
    const char *key;
    const char *label;
    int Sizes::*size;
    qint64 (*run)(int);
};

// The order of the table and of the runs.
const Timed timedWorkloads[] = {
    {"pair_try", "pair: tryPut+tryGet", &Sizes::pair, bench::workloadPairTry},
    {"pair_await", "pair: co_await put+get", &Sizes::pair, bench::workloadPairAwait},
    {"pair_deque", "pair baseline: std::deque+std::mutex", &Sizes::pair, bench::workloadPairDeque},
    {"a", "a: 1P/1C coroutines, unbounded", &Sizes::a, bench::workloadA},
    {"a1", "a1: 1P/1C coroutines, maxSize=1", &Sizes::a, bench::workloadA1},
    {"a1_invoke", "a1 baseline: queued invokeMethod chain", &Sizes::a, bench::workloadInvokeChain},
    {"a1_invoke_burst", "a1 baseline: queued invokeMethod burst", &Sizes::a,
     bench::workloadInvokeBurst},
    {"c", "c: gather 100k trivial tasks, limit 100", &Sizes::c, bench::workloadC},
    {"c_task", "c floor: create + co_await one QCoro::Task", &Sizes::c, bench::workloadCTask},
    {"e", "e: PriorityQueue put+get, prio 0..999", &Sizes::e, bench::workloadE},
    {"e_wide", "e: PriorityQueue put+get, prio 0..2^30", &Sizes::e, bench::workloadEWide},
    {"f", "f: Latch countDown x n + wait", &Sizes::f, bench::workloadF},
    {"f_countdown", "f: countDown x n alone (latch and waiter built first)", &Sizes::f,
     bench::workloadFCountDown},
    {"f_atomic", "f floor: one std::atomic fetch_sub per item", &Sizes::f,
     bench::workloadFloorAtomic},
    {"g_seq", "g: runInThread sequential", &Sizes::g, bench::workloadGSeq},
    {"g_seq_qtconcurrent", "g baseline: co_await QtConcurrent::run seq", &Sizes::g,
     bench::workloadGSeqConcurrent},
    {"g_gather", "g: runInThread gathered", &Sizes::g, bench::workloadGGather},
    {"g_gather_qtconcurrent", "g baseline: QtConcurrent::run gathered", &Sizes::g,
     bench::workloadGGatherConcurrent},
    {"g_map", "g: map(plain func) on the pool", &Sizes::g, bench::workloadGMap},
    {"g_mapped", "g baseline: QtConcurrent::mapped", &Sizes::g, bench::workloadGMapped},
    {"g_blocking_mapped", "g baseline: QtConcurrent::blockingMapped", &Sizes::g,
     bench::workloadGBlockingMapped},
    {"g_map_1m", "g: map(plain func) on the pool, 1M", &Sizes::gBulk, bench::workloadGMap},
    {"g_mapped_1m", "g baseline: QtConcurrent::mapped, 1M", &Sizes::gBulk, bench::workloadGMapped},
    {"g_blocking_mapped_1m", "g baseline: QtConcurrent::blockingMapped, 1M", &Sizes::gBulk,
     bench::workloadGBlockingMapped},
    {"h_1", "h: 1 thread putBlocking -> coroutine", &Sizes::h, bench::workloadHQueue<1, 0>},
    {"h_bounded_1", "h: 1 thread putBlocking, maxSize 1024", &Sizes::h,
     bench::workloadHQueue<1, 1024>},
    {"h_invoke_1", "h baseline: 1 thread queued invokeMethod", &Sizes::h,
     bench::workloadHInvoke<1>},
    {"h_2", "h: 2 threads putBlocking -> coroutine", &Sizes::h, bench::workloadHQueue<2, 0>},
    {"h_bounded_2", "h: 2 threads putBlocking, maxSize 1024", &Sizes::h,
     bench::workloadHQueue<2, 1024>},
    {"h_invoke_2", "h baseline: 2 threads queued invokeMethod", &Sizes::h,
     bench::workloadHInvoke<2>},
    {"h", "h: 4 threads putBlocking -> coroutine", &Sizes::h, bench::workloadHQueue<4, 0>},
    {"h_bounded_4", "h: 4 threads putBlocking, maxSize 1024", &Sizes::h,
     bench::workloadHQueue<4, 1024>},
    {"h_invoke", "h baseline: 4 threads queued invokeMethod", &Sizes::h, bench::workloadHInvoke<4>},
};

// Run by runSignalWorkloads(), right after a.
const Timed signalWorkloads[] = {
    {"signals_none", "signals: a, nothing connected", &Sizes::a, bench::workloadSignalsNone},
    {"signals_tracked", "signals: a, closedChanged connected (never fires)", &Sizes::a,
     bench::workloadSignalsTracked},
    {"signals_delivered", "signals: a, sizeChanged connected (delivered)", &Sizes::a,
     bench::workloadSignalsDelivered},
};

struct Options {
    bool json = false;
    bool quick = false;
    int repeat = 3;
    int items = 0;
    bool threaded = true;
    std::set<std::string> only;
};

bool selected(const Options &options, const std::string &key)
{
    if (options.only.empty())
        return true;
    if (options.only.count(key))
        return true;
    // "g" selects g_seq, g_gather, ...; "m" selects the memory children
    const std::string group = key.substr(0, key.find('_'));
    return options.only.count(group) > 0;
}

struct Entry {
    std::string key;
    std::string label;
    double seconds = -1;  // timed entries
    long long bytes = -1; // memory entries
    long long items = 0;
    double perItem = 0; // signals_delivered_emits: sizeChanged emissions per item
    bool peakReset = true;
};

void usage()
{
    std::fprintf(stderr, "usage: qtaio-bench-all [--json] [--quick] [--unthreaded] [--repeat N] "
                         "[--items N] [--only key,key,...]\n");
}

std::string jsonString(const std::string &text)
{
    std::string out = "\"";
    for (const char ch : text) {
        if (ch == '"' || ch == '\\')
            out += '\\';
        out += ch;
    }
    return out + "\"";
}

void printJson(const std::vector<Entry> &entries, const Options &options)
{
    std::printf("{\n  \"_meta\": {\"quick\": %s, \"threaded\": %s, \"repeat\": %d, "
                "\"pool_threads\": %d, \"qt\": %s},\n",
                options.quick ? "true" : "false", options.threaded ? "true" : "false",
                options.repeat, QThreadPool::globalInstance()->maxThreadCount(),
                jsonString(qVersion()).c_str());
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const Entry &e = entries[i];
        std::printf("  %s: {", jsonString(e.key).c_str());
        if (e.bytes >= 0)
            std::printf("\"bytes\": %lld, \"items\": %lld, \"peak_reset\": %s", e.bytes, e.items,
                        e.peakReset ? "true" : "false");
        else if (e.perItem > 0)
            std::printf("\"per_item\": %.6g, \"items\": %lld", e.perItem, e.items);
        else
            std::printf("\"seconds\": %.9g, \"items\": %lld", e.seconds, e.items);
        std::printf("}%s\n", i + 1 < entries.size() ? "," : "");
    }
    std::printf("}\n");
}

const Entry *find(const std::vector<Entry> &entries, const std::string &key)
{
    for (const Entry &e : entries)
        if (e.key == key)
            return &e;
    return nullptr;
}

void printTable(const std::vector<Entry> &entries, const Options &options)
{
    std::printf("QtAio benchmarks (DESIGN.md section 7)%s%s, best of %d; pool threads: %d\n\n",
                options.quick ? " --quick" : "",
                options.threaded ? ", an idle thread started" : " --unthreaded", options.repeat,
                QThreadPool::globalInstance()->maxThreadCount());
    std::printf("%-50s %10s %14s\n", "workload", "items", "result");
    for (const Entry &e : entries) {
        if (e.bytes >= 0)
            std::printf("%-50s %10lld %9.2f B/item (%.1f MB)%s\n", e.label.c_str(), e.items,
                        double(e.bytes) / double(e.items), double(e.bytes) / 1048576.0,
                        e.peakReset ? "" : " [peak not reset]");
        else if (e.perItem > 0)
            std::printf("%-50s %10lld %11.2f /item\n", e.label.c_str(), e.items, e.perItem);
        else
            std::printf("%-50s %10lld %11.1f ns/item  (%.4f s)\n", e.label.c_str(), e.items,
                        e.seconds * 1e9 / double(e.items), e.seconds);
    }
    struct Pair {
        const char *label, *key, *baseline;
    };
    const Pair pairs[] = {
        {"pair tryPut+tryGet / deque+mutex", "pair_try", "pair_deque"},
        {"pair co_await put+get / deque+mutex", "pair_await", "pair_deque"},
        {"a1 / queued invokeMethod chain", "a1", "a1_invoke"},
        {"a1 / queued invokeMethod burst", "a1", "a1_invoke_burst"},
        {"g seq runInThread / QtConcurrent", "g_seq", "g_seq_qtconcurrent"},
        {"g gathered runInThread / QtConcurrent", "g_gather", "g_gather_qtconcurrent"},
        {"g map / QtConcurrent::mapped, 20k", "g_map", "g_mapped"},
        {"g map / QtConcurrent::mapped, 1M", "g_map_1m", "g_mapped_1m"},
        {"c gather / one QCoro::Task", "c", "c_task"},
        {"f countDown / one atomic fetch_sub", "f_countdown", "f_atomic"},
        {"h 1 thread putBlocking / invokeMethod", "h_1", "h_invoke_1"},
        {"h 2 threads putBlocking / invokeMethod", "h_2", "h_invoke_2"},
        {"h 4 threads putBlocking / invokeMethod", "h", "h_invoke"},
        {"h 1 thread maxSize 1024 / unbounded", "h_bounded_1", "h_1"},
        {"h 2 threads maxSize 1024 / unbounded", "h_bounded_2", "h_2"},
        {"h 4 threads maxSize 1024 / unbounded", "h_bounded_4", "h"},
        {"a nothing connected / change tracking forced", "signals_none", "signals_tracked"},
        {"a sizeChanged connected / nothing connected", "signals_delivered", "signals_none"},
    };
    bool header = false;
    for (const Pair &p : pairs) {
        const Entry *ours = find(entries, p.key);
        const Entry *theirs = find(entries, p.baseline);
        if (!ours || !theirs)
            continue;
        if (!header) {
            std::printf("\n%-50s %14s\n", "cost ratio (QtAio / baseline, per item)", "ratio");
            header = true;
        }
        const double ratio =
            (ours->seconds / double(ours->items)) / (theirs->seconds / double(theirs->items));
        std::printf("%-50s %13.2fx\n", p.label, ratio);
    }
    std::printf("\nRun benchmarks/compare.py for the asyncio side and the DESIGN.md targets.\n");
}

//! Runs the selected signals variants interleaved (none, tracked, delivered, none, ...), so that
//! a change in machine load affects the three alike; the best run of each is reported.
void runSignalWorkloads(const Options &options, const Sizes &sizes, std::vector<Entry> &entries)
{
    std::vector<const Timed *> runs;
    for (const Timed &w : signalWorkloads)
        if (selected(options, w.key))
            runs.push_back(&w);
    std::vector<qint64> best(runs.size(), std::numeric_limits<qint64>::max());
    for (int r = 0; r < options.repeat; ++r)
        for (std::size_t i = 0; i < runs.size(); ++i)
            best[i] = std::min(best[i], runs[i]->run(sizes.*(runs[i]->size)));
    for (std::size_t i = 0; i < runs.size(); ++i) {
        Entry entry;
        entry.key = runs[i]->key;
        entry.label = runs[i]->label;
        entry.seconds = double(best[i]) * 1e-9;
        entry.items = sizes.*(runs[i]->size);
        entries.push_back(entry);
        if (runs[i]->run == bench::workloadSignalsDelivered) {
            Entry emits;
            emits.key = "signals_delivered_emits";
            emits.label = "signals: sizeChanged received per item of a";
            emits.items = entry.items;
            emits.perItem = bench::deliveredPerItem;
            entries.push_back(emits);
        }
    }
}

int parseInt(const char *text, const char *what)
{
    char *end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (!end || *end || value < 1 || value > std::numeric_limits<int>::max()) {
        std::fprintf(stderr, "qtaio-bench-all: bad %s: %s\n", what, text);
        std::exit(2);
    }
    return int(value);
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);

    if (argc == 4 && std::strcmp(argv[1], "--child") == 0)
        return bench::runMemoryChild(argv[2], parseInt(argv[3], "child size"));

    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--json") {
            options.json = true;
        } else if (arg == "--quick") {
            options.quick = true;
        } else if (arg == "--threaded") {
            options.threaded = true; // the default
        } else if (arg == "--unthreaded") {
            options.threaded = false;
        } else if (arg == "--repeat" && i + 1 < argc) {
            options.repeat = parseInt(argv[++i], "--repeat");
        } else if (arg == "--items" && i + 1 < argc) {
            options.items = parseInt(argv[++i], "--items");
        } else if (arg == "--only" && i + 1 < argc) {
            std::string list = argv[++i];
            std::size_t start = 0;
            while (start <= list.size()) {
                const std::size_t comma = std::min(list.find(',', start), list.size());
                if (comma > start)
                    options.only.insert(list.substr(start, comma - start));
                start = comma + 1;
            }
        } else {
            usage();
            return arg == "--help" || arg == "-h" ? 0 : 2;
        }
    }

    Sizes sizes;
    if (options.quick) {
        for (int Sizes::*size : {&Sizes::a, &Sizes::c, &Sizes::e, &Sizes::f, &Sizes::g,
                                 &Sizes::gBulk, &Sizes::h, &Sizes::m, &Sizes::pair})
            sizes.*size /= 100;
    }
    if (options.items > 0) {
        for (int Sizes::*size : {&Sizes::a, &Sizes::c, &Sizes::e, &Sizes::f, &Sizes::g,
                                 &Sizes::gBulk, &Sizes::h, &Sizes::m, &Sizes::pair})
            sizes.*size = options.items;
    }
    sizes.h = std::max(4, sizes.h - sizes.h % 4); // every producer count divides it

    // glibc and libstdc++ skip the locked instructions of mutexes and reference counts while
    // the process has never started a thread (__libc_single_threaded); nothing here starts one
    // before g. An application with a thread pool or a QML render thread never takes that
    // shortcut, so by default a thread is started now and stays idle until the end.
    std::promise<void> stopIdle;
    std::thread idle;
    if (options.threaded)
        idle = std::thread([done = stopIdle.get_future()] { done.wait(); });

    std::vector<Entry> entries;

    // Memory first, each in a fresh child process so that nothing else has touched the heap.
    const struct {
        const char *key, *label;
    } memoryWorkloads[] = {
        {"m_queue", "m: AsyncQueue<int>, n ints queued"},
        {"m_deque", "m baseline: std::deque<int>, n ints"},
        {"m_map", "m: map(coroutine) over iota(0, n), limit 100"},
        {"m_map_pool", "m: map(plain, pool) over iota(0, n), limit 100"},
    };
    for (const auto &m : memoryWorkloads) {
        if (!selected(options, m.key))
            continue;
        const bench::Memory memory = bench::runMemoryInChild(m.key, sizes.m);
        Entry entry;
        entry.key = m.key;
        entry.label = m.label;
        entry.bytes = memory.bytes;
        entry.items = sizes.m;
        entry.peakReset = memory.peakReset;
        entries.push_back(entry);
    }

    for (const Timed &w : timedWorkloads) {
        if (selected(options, w.key)) {
            const int n = sizes.*(w.size);
            qint64 best = std::numeric_limits<qint64>::max();
            for (int r = 0; r < options.repeat; ++r)
                best = std::min(best, w.run(n));
            Entry entry;
            entry.key = w.key;
            entry.label = w.label;
            entry.seconds = double(best) * 1e-9;
            entry.items = n;
            entries.push_back(entry);
        }
        // The signals variants run right after a, in the same conditions: with --unthreaded,
        // before g and h start the first threads of the process.
        if (std::strcmp(w.key, "a") == 0)
            runSignalWorkloads(options, sizes, entries);
    }

    if (idle.joinable()) {
        stopIdle.set_value();
        idle.join();
    }

    if (options.json)
        printJson(entries, options);
    else
        printTable(entries, options);
    return 0;
}
