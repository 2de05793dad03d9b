// SPDX-License-Identifier: MIT
#include "workload.h"

#include <QtCore/QJsonArray>
#include <QtCore/QThread>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <cmath>
#include <ctime>
#include <numeric>
#include <random>
#include <thread>

using namespace std::chrono_literals;

namespace {

double percentile(std::vector<double> values, double p)
{
    if (values.empty())
        return 0.0;
    const auto rank = static_cast<std::size_t>(p * double(values.size() - 1) + 0.5);
    std::nth_element(values.begin(), values.begin() + long(rank), values.end());
    return values[rank];
}

QJsonArray toJson(const QVariantList &values)
{
    QJsonArray array;
    for (const QVariant &value : values)
        array.push_back(value.toDouble());
    return array;
}

// CPU time the calling thread has used, in seconds; -1 where the platform does not tell it.
double threadCpuSeconds()
{
#if defined(CLOCK_THREAD_CPUTIME_ID)
    timespec spent{};
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spent) == 0)
        return double(spent.tv_sec) + double(spent.tv_nsec) / 1e9;
#endif
    return -1;
}

} // namespace

Workload::Workload(QObject *parent) : QObject(parent)
{
    // Urgent work dominates; bulk work (P3) is taken only when nothing more urgent waits.
    const std::array<int, priorityLevels> defaultMix{4, 3, 2, 1};
    for (int i = 0; i < priorityLevels; ++i)
        m_mix[i] = defaultMix[i];
    m_pool.setMaxThreadCount(64); // the blocking half sleeps; it does not use a core
    m_threadWork.setObjectName(QStringLiteral("thread work"));
    m_slots.setObjectName(QStringLiteral("dispatch slots"));
    m_sampler.setInterval(1000 / sampleHz);
    connect(&m_sampler, &QTimer::timeout, this, &Workload::takeSample);
}

Workload::~Workload()
{
    m_stop.request_stop();
    m_producer.request_stop();
}

void Workload::start(QtAio::PriorityQueue<QVariant, double> &queue, QtAio::TaskExecutor &executor)
{
    m_queue = &queue;
    m_executor = &executor;
    // The dispatcher takes a job only when the executor has room for it: its slots follow the
    // executor's limit, however that changes (the window's slider, an --at change).
    m_slots.setCapacity(std::max(1, executor.limit()));
    connect(&executor, &QtAio::TaskExecutor::limitChanged, this, [this](int limit) {
        accountIdeal();
        m_slots.setCapacity(std::max(1, limit));
    });
    connect(&executor, &QtAio::TaskExecutor::runningChanged, this,
            [this](int running) { m_peakRunning = std::max(m_peakRunning, running); });
    connect(&queue, &QtAio::AsyncQueueBase::sizeChanged, this,
            [this](int size) { m_peakDepth = std::max(m_peakDepth, size); });
    m_clock.start();
    m_guiCpuAtStart = threadCpuSeconds();
    m_batch = std::make_unique<QtAio::Latch>(m_batchSize);
    m_batch->setObjectName(QStringLiteral("batch latch"));
    m_producer = std::jthread([this](std::stop_token stop) { producerLoop(std::move(stop)); });
    m_dispatcher = dispatch();
    m_phases = phases();
    m_sampler.start();
    takeSample();
}

QCoro::Task<> Workload::stop()
{
    accountIdeal();
    m_stoppedMs = m_clock.isValid() ? m_clock.elapsed() : 0;
    if (m_guiCpuAtStart >= 0)
        m_guiCpuUsed = threadCpuSeconds() - m_guiCpuAtStart;
    m_sampler.stop();
    m_stop.request_stop();     // the dispatcher, the phases and every job see it
    m_producer.request_stop(); // the producer thread has a stop token of its own
    if (m_producer.joinable())
        m_producer.join();
    if (m_queue)
        m_queue->close(QtAio::CloseMode::Immediate);
    // The dispatcher ends first, so that nothing is spawned once the executors shut down.
    if (m_dispatcher)
        co_await *m_dispatcher;
    // Both executors stop their work at once (the thread work too: it polls its stop token),
    // then both are awaited.
    if (m_executor) {
        auto jobsDone = m_executor->shutdown();
        auto threadWorkDone = m_threadWork.shutdown();
        co_await jobsDone;
        co_await threadWorkDone;
    }
    if (m_batch)
        m_batch->countDown(m_batchSize); // releases the phase loop
    if (m_phases)
        co_await *m_phases;
}

void Workload::setProducerRate(double rate)
{
    rate = std::clamp(rate, 1.0, 5000.0);
    if (rate == m_rate.load())
        return;
    m_rate = rate;
    m_wake.notify_all();
    Q_EMIT controlsChanged();
}

QVariantList Workload::priorityMix() const
{
    QVariantList mix;
    for (const auto &weight : m_mix)
        mix.push_back(weight.load());
    return mix;
}

void Workload::setPriorityMix(const QVariantList &weights)
{
    for (int i = 0; i < priorityLevels && i < weights.size(); ++i)
        m_mix[i] = std::max(0, weights[i].toInt());
    Q_EMIT controlsChanged();
}

void Workload::setWorkMs(int ms)
{
    ms = std::clamp(ms, 1, 2000);
    if (ms == m_workMs.load())
        return;
    accountIdeal();
    m_workMs = ms;
    Q_EMIT controlsChanged();
}

void Workload::setPaused(bool paused)
{
    if (paused == m_paused.load())
        return;
    m_paused = paused;
    m_wake.notify_all();
    Q_EMIT controlsChanged();
}

double Workload::idealThroughput() const
{
    return m_executor ? double(std::max(1, m_executor->limit())) * 1000.0 / double(m_workMs.load())
                      : 0.0;
}

void Workload::accountIdeal()
{
    if (!m_clock.isValid() || m_stoppedMs >= 0)
        return;
    const qint64 now = m_clock.nsecsElapsed();
    m_idealJobs += idealThroughput() * double(now - m_idealAccountedNs) / 1e9;
    m_idealAccountedNs = now;
}

void Workload::burst(int count)
{
    m_burst += std::max(0, count);
    m_wake.notify_all();
}

int Workload::randomPriority(unsigned random) const
{
    int total = 0;
    for (const auto &weight : m_mix)
        total += weight.load();
    if (total <= 0)
        return priorityLevels - 1;
    int pick = int(random % unsigned(total));
    for (int level = 0; level < priorityLevels; ++level) {
        pick -= m_mix[level].load();
        if (pick < 0)
            return level;
    }
    return priorityLevels - 1;
}

void Workload::producerLoop(std::stop_token stop)
{
    std::mt19937 random(20261126);
    auto next = std::chrono::steady_clock::now();
    int id = 0;
    while (!stop.stop_requested()) {
        int count = m_burst.exchange(0);
        if (count == 0) {
            std::unique_lock lock(m_wakeMutex);
            if (m_paused) {
                m_wake.wait(lock, stop, [this] { return !m_paused || m_burst > 0; });
                next = std::chrono::steady_clock::now();
                continue;
            }
            const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                std::chrono::duration<double>(1.0 / m_rate.load()));
            next = std::max(next + period, std::chrono::steady_clock::now() - 100ms);
            if (m_wake.wait_until(lock, stop, next, [this] { return m_burst > 0; }))
                continue; // a burst came in
            if (stop.stop_requested())
                break;
            count = 1;
        }
        for (int i = 0; i < count && !stop.stop_requested(); ++i) {
            const int priority = randomPriority(random());
            Job job{id++, priority, m_clock.nsecsElapsed()};
            {
                // Noted before the put: the dispatcher may take the job at once.
                const std::scoped_lock lock(m_queuedMutex);
                m_queuedNs[std::size_t(priority)].push_back(job.enqueuedNs);
            }
            const auto putStart = std::chrono::steady_clock::now();
            try {
                // Waits while the queue is full: the producer feels the back-pressure.
                m_queue->putBlocking(QVariant::fromValue(job), double(priority), stop);
            } catch (const QtAio::Error &) {
                return; // stopped or closed
            }
            m_putWaitNs += std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now() - putStart)
                               .count();
            ++m_produced;
            ++m_producedBy[priority];
        }
    }
}

QCoro::Task<> Workload::dispatch()
{
    const auto stop = m_stop.get_token();
    while (!stop.stop_requested()) {
        Job job;
        QtAio::SemaphorePermit slot;
        try {
            slot = co_await m_slots.acquire(stop); // a job is taken only when it can start
            job = (co_await m_queue->get(stop)).value<Job>(); // the most urgent one waiting
        } catch (const QtAio::Error &) {
            co_return; // stopped, or the queue closed
        }
        {
            const std::scoped_lock lock(m_queuedMutex);
            auto &queued = m_queuedNs[std::size_t(job.priority)];
            if (!queued.empty())
                queued.pop_front();
        }
        auto work = [this, job, slot = std::move(slot)](std::stop_token jobStop) mutable {
            return process(job, std::move(slot), std::move(jobStop));
        };
        if (stop.stop_requested())
            co_return;                      // stopping: the job is dropped with the queue
        m_executor->spawn(std::move(work)); // not shut down yet: stop() awaits this loop first
    }
}

QCoro::Task<> Workload::phases()
{
    // The Latch gates the phases: a phase ends when its batch of jobs has been consumed.
    while (!m_stop.stop_requested()) {
        try {
            co_await m_batch->wait(m_stop.get_token());
        } catch (const QtAio::CancelledError &) {
            co_return;
        }
        if (m_stop.stop_requested())
            co_return;
        ++m_phase;
        m_batch = std::make_unique<QtAio::Latch>(m_batchSize);
        m_batch->setObjectName(QStringLiteral("batch latch"));
    }
}

QCoro::Task<> Workload::process(Job job, QtAio::SemaphorePermit slot, std::stop_token stop)
{
    const double waitedMs = double(m_clock.nsecsElapsed() - job.enqueuedNs) / 1e6;
    auto &recent = m_recentWaitsMs[std::size_t(job.priority)];
    recent.push_back(waitedMs);
    if (recent.size() > 200)
        recent.pop_front();
    const int workMs = m_workMs.load();
    // The asynchronous half (think: a network reply), cancellable by the executor.
    QtAio::Latch never(1);
    const auto asyncHalf = std::chrono::milliseconds(workMs / 2);
    if (co_await never.wait(asyncHalf, stop))
        co_return;
    // The blocking half runs on the thread pool and resumes here, on the GUI thread.
    const auto blockingHalf = std::chrono::milliseconds(workMs - workMs / 2);
    auto blocking = [blockingHalf](std::stop_token threadStop) {
        // Blocking work (think: a file written) that a stop interrupts: a wait on a condition
        // variable ends at its deadline or as soon as the token is stopped.
        std::mutex mutex;
        std::condition_variable_any stopped;
        std::unique_lock lock(mutex);
        stopped.wait_for(lock, threadStop, blockingHalf, [] { return false; });
        if (threadStop.stop_requested())
            throw QtAio::CancelledError("job stopped");
    };
    if (stop.stop_requested()) // stopping: the thread work's executor refuses new work
        throw QtAio::CancelledError("job stopped");
    co_await m_threadWork.runInThread(blocking);

    ++m_consumedTotal;
    ++m_consumedBy[std::size_t(job.priority)];
    m_batch->countDown();
    slot.release();
}

std::vector<double> Workload::waitsOf(int level, qint64 now) const
{
    std::vector<double> waits(m_recentWaitsMs[std::size_t(level)].begin(),
                              m_recentWaitsMs[std::size_t(level)].end());
    const std::scoped_lock lock(m_queuedMutex);
    for (const qint64 enqueued : m_queuedNs[std::size_t(level)])
        waits.push_back(double(now - enqueued) / 1e6);
    return waits;
}

void Workload::takeSample()
{
    accountIdeal();
    const qint64 nowMs = m_clock.elapsed();
    const qint64 nowNs = m_clock.nsecsElapsed();
    m_history.push_back({nowMs, m_consumedTotal, m_produced.load(), m_putWaitNs.load()});
    while (m_history.size() > 2 && nowMs - m_history.front().ms > 2000)
        m_history.pop_front();
    const Mark &then = m_history.front();
    const Mark &latest = m_history.back();
    const double span = double(nowMs - then.ms) / 1000.0;
    m_sample.throughput = span > 0 ? double(latest.consumed - then.consumed) / span : 0.0;
    m_sample.producedRate = span > 0 ? double(latest.produced - then.produced) / span : 0.0;
    m_sample.producerBlocked =
        span > 0 ? std::clamp(double(latest.putWaitNs - then.putWaitNs) / 1e9 / span, 0.0, 1.0)
                 : 0.0;
    m_sample.p50.clear();
    m_sample.p95.clear();
    m_sample.oldest.clear();
    for (int level = 0; level < priorityLevels; ++level) {
        const std::vector<double> waits = waitsOf(level, nowNs);
        m_sample.p50.push_back(percentile(waits, 0.50));
        m_sample.p95.push_back(percentile(waits, 0.95));
        double oldest = 0;
        {
            const std::scoped_lock lock(m_queuedMutex);
            if (!m_queuedNs[std::size_t(level)].empty())
                oldest = double(nowNs - m_queuedNs[std::size_t(level)].front()) / 1e6;
        }
        m_sample.oldest.push_back(oldest);
    }
    Q_EMIT sampled();
}

QJsonObject Workload::summary() const
{
    QJsonArray produced, consumed;
    for (int level = 0; level < priorityLevels; ++level) {
        produced.push_back(m_producedBy[std::size_t(level)].load());
        consumed.push_back(m_consumedBy[std::size_t(level)]);
    }
    const double seconds = m_stoppedMs >= 0 ? double(m_stoppedMs) / 1000.0 : elapsed();
    return QJsonObject{
        {QStringLiteral("durationSeconds"), seconds},
        {QStringLiteral("priorities"), priorityLevels},
        {QStringLiteral("producedByPriority"), produced},
        {QStringLiteral("consumedByPriority"), consumed},
        {QStringLiteral("produced"), m_produced.load()},
        {QStringLiteral("consumed"), m_consumedTotal},
        {QStringLiteral("idealConsumed"), m_idealJobs},
        {QStringLiteral("rate"), m_rate.load()},
        {QStringLiteral("workMs"), m_workMs.load()},
        {QStringLiteral("limit"), m_executor ? m_executor->limit() : 0},
        {QStringLiteral("peakRunning"), m_peakRunning},
        {QStringLiteral("maxSize"), m_queue ? m_queue->maxSize() : 0},
        {QStringLiteral("peakDepth"), m_peakDepth},
        // Over the last 200 started jobs of each priority and the jobs still queued.
        {QStringLiteral("waitP50MsByPriority"), toJson(m_sample.p50)},
        {QStringLiteral("waitP95MsByPriority"), toJson(m_sample.p95)},
        {QStringLiteral("oldestWaitMsByPriority"), toJson(m_sample.oldest)},
        {QStringLiteral("phasesCompleted"), m_phase - 1},
        // The GUI thread's busy share from start to stop (its CPU time over the wall time): the
        // job coroutines resume on it, and so do the views' sampling and, with the software
        // scene graph, their drawing. -1: not measured on this platform.
        {QStringLiteral("guiThreadBusy"),
         m_guiCpuUsed >= 0 && seconds > 0 ? m_guiCpuUsed / seconds : -1.0},
    };
}
