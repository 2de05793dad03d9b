// SPDX-License-Identifier: MIT
#include "workload.h"

#include <QtCore/QJsonArray>
#include <QtCore/QThread>

#include <algorithm>
#include <cmath>
#include <chrono>
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

} // namespace

Workload::Workload(QObject *parent) : QObject(parent)
{
    const std::array<int, priorityLevels> defaultMix{1, 2, 3, 4}; // urgent ... bulk
    for (int i = 0; i < priorityLevels; ++i)
        m_mix[i] = defaultMix[i];
    m_executor.setLimit(8);
    m_pool.setMaxThreadCount(64); // the blocking half sleeps; it does not use a core
    connect(&m_executor, &QtAio::TaskExecutor::runningChanged, this,
            [this](int running) { m_peakRunning = std::max(m_peakRunning, running); });
    connect(&m_queue, &QtAio::AsyncQueueBase::sizeChanged, this,
            [this](int size) { m_peakDepth = std::max(m_peakDepth, size); });
    m_sampler.setInterval(1000 / sampleHz);
    m_sampler.setTimerType(Qt::PreciseTimer);
    connect(&m_sampler, &QTimer::timeout, this, &Workload::takeSample);
}

Workload::~Workload()
{
    m_stop.request_stop();
    m_producer.request_stop();
}

void Workload::start()
{
    m_clock.start();
    m_batch = std::make_unique<QtAio::Latch>(m_batchSize);
    m_producer = std::jthread([this](std::stop_token stop) { producerLoop(std::move(stop)); });
    m_dispatcher = dispatch();
    m_phases = phases();
    m_sampler.start();
    takeSample();
}

QCoro::Task<> Workload::stop()
{
    m_sampler.stop();
    m_stop.request_stop();     // the dispatcher, the phases and every job see it
    m_producer.request_stop(); // the producer thread has a stop token of its own
    if (m_producer.joinable())
        m_producer.join();
    m_queue.close(QtAio::CloseMode::Immediate);
    // The dispatcher ends first, so that nothing is spawned once the executors shut down.
    if (m_dispatcher)
        co_await *m_dispatcher;
    // Both executors stop their work at once (the thread work too: it polls its stop token),
    // then both are awaited.
    auto jobsDone = m_executor.shutdown();
    auto threadWorkDone = m_threadWork.shutdown();
    co_await jobsDone;
    co_await threadWorkDone;
    if (m_batch)
        m_batch->countDown(m_batchSize); // releases the phase loop
    if (m_phases)
        co_await *m_phases;
    takeSample();
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

void Workload::setMaxSize(int maxSize)
{
    if (maxSize == m_queue.maxSize())
        return;
    m_queue.setMaxSize(maxSize);
    Q_EMIT controlsChanged();
}

void Workload::setLimit(int limit)
{
    limit = std::max(1, limit);
    if (limit == m_executor.limit())
        return;
    m_executor.setLimit(limit);
    m_slots.setCapacity(limit);
    Q_EMIT controlsChanged();
}

void Workload::setWorkMs(int ms)
{
    ms = std::clamp(ms, 1, 2000);
    if (ms == m_workMs.load())
        return;
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
            try {
                // Waits while the queue is full: the producer feels the back-pressure.
                m_queue.putBlocking(std::move(job), priority, stop);
            } catch (const QtAio::Error &) {
                return; // stopped or closed
            }
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
            job = co_await m_queue.get(stop);      // the most urgent one waiting
        } catch (const QtAio::Error &) {
            co_return; // stopped, or the queue closed
        }
        auto work = [this, job, slot = std::move(slot)](std::stop_token jobStop) mutable {
            return process(job, std::move(slot), std::move(jobStop));
        };
        if (stop.stop_requested())
            co_return;                     // stopping: the job is dropped with the queue
        m_executor.spawn(std::move(work)); // not shut down yet: stop() awaits this loop first
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
    }
}

QCoro::Task<> Workload::process(Job job, QtAio::SemaphorePermit slot, std::stop_token stop)
{
    const double waitedMs = double(m_clock.nsecsElapsed() - job.enqueuedNs) / 1e6;
    const int workMs = m_workMs.load();
    // The asynchronous half (think: a network reply), cancellable by the executor.
    QtAio::Latch never(1);
    const auto asyncHalf = std::chrono::milliseconds(workMs / 2);
    if (co_await never.wait(asyncHalf, stop))
        co_return;
    // The blocking half runs on the thread pool and resumes here, on the GUI thread.
    const auto blockingHalf = std::chrono::milliseconds(workMs - workMs / 2);
    auto blocking = [blockingHalf](std::stop_token threadStop) {
        // Blocking work that checks its stop token now and then, as long work should.
        const auto end = std::chrono::steady_clock::now() + blockingHalf;
        while (!threadStop.stop_requested()) {
            const auto left = end - std::chrono::steady_clock::now();
            if (left <= std::chrono::steady_clock::duration::zero())
                return;
            std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, 5ms));
        }
        throw QtAio::CancelledError("job stopped");
    };
    if (stop.stop_requested()) // stopping: the thread work's executor refuses new work
        throw QtAio::CancelledError("job stopped");
    co_await m_threadWork.runInThread(blocking);

    ++m_consumedTotal;
    ++m_consumedBy[job.priority];
    m_waitsMs[job.priority].push_back(waitedMs);
    auto &recent = m_recentWaitsMs[job.priority];
    recent.push_back(waitedMs);
    if (recent.size() > 200)
        recent.pop_front();
    m_batch->countDown();
    slot.release();
}

void Workload::takeSample()
{
    const qint64 now = m_clock.elapsed();
    m_sample.depth = m_queue.size();
    m_sample.running = m_executor.running();
    m_peakDepth = std::max(m_peakDepth, m_sample.depth);
    m_consumedHistory.emplace_back(now, m_consumedTotal);
    while (m_consumedHistory.size() > 2 && now - m_consumedHistory.front().first > 1000)
        m_consumedHistory.pop_front();
    const auto &[then, consumedThen] = m_consumedHistory.front();
    m_sample.throughput =
        now > then ? double(m_consumedTotal - consumedThen) * 1000.0 / double(now - then) : 0.0;
    const auto counts = m_queue.sizeByPriority();
    m_sample.backlog.clear();
    m_sample.p50.clear();
    m_sample.p95.clear();
    for (int level = 0; level < priorityLevels; ++level) {
        const auto found = counts.find(level);
        m_sample.backlog.push_back(found == counts.end() ? 0 : found->second);
        const std::vector<double> recent(m_recentWaitsMs[level].begin(),
                                         m_recentWaitsMs[level].end());
        m_sample.p50.push_back(std::round(percentile(recent, 0.50)));
        m_sample.p95.push_back(std::round(percentile(recent, 0.95)));
    }
    Q_EMIT sampled();
}

QJsonObject Workload::summary() const
{
    QJsonArray produced, consumed, p50, p95;
    for (int level = 0; level < priorityLevels; ++level) {
        produced.push_back(m_producedBy[level].load());
        consumed.push_back(m_consumedBy[level]);
        p50.push_back(percentile(m_waitsMs[level], 0.50));
        p95.push_back(percentile(m_waitsMs[level], 0.95));
    }
    return QJsonObject{
        {QStringLiteral("durationSeconds"), elapsed()},
        {QStringLiteral("priorities"), priorityLevels},
        {QStringLiteral("producedByPriority"), produced},
        {QStringLiteral("consumedByPriority"), consumed},
        {QStringLiteral("produced"), m_produced.load()},
        {QStringLiteral("consumed"), m_consumedTotal},
        {QStringLiteral("limit"), m_executor.limit()},
        {QStringLiteral("peakRunning"), m_peakRunning},
        {QStringLiteral("maxSize"), m_queue.maxSize()},
        {QStringLiteral("peakDepth"), m_peakDepth},
        {QStringLiteral("waitP50MsByPriority"), p50},
        {QStringLiteral("waitP95MsByPriority"), p95},
        {QStringLiteral("phasesCompleted"), m_phase - 1},
    };
}
