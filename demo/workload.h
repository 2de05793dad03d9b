// SPDX-License-Identifier: MIT
#pragma once

#include <qtaio/latch.h>
#include <qtaio/priorityqueue.h>
#include <qtaio/semaphore.h>
#include <qtaio/taskexecutor.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QJsonObject>
#include <QtCore/QObject>
#include <QtCore/QThreadPool>
#include <QtCore/QTimer>
#include <QtCore/QVariant>
#include <QtCore/QVariantList>
#include <QtQml/qqmlregistration.h>

#include <qcoro/qcorotask.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>
#include <vector>

//! One unit of work: produced with a priority, queued, then consumed under the executor's limit.
struct Job {
    int id = 0;
    int priority = 0;
    qint64 enqueuedNs = 0;
};

//! The demo's live workload, built only on QtAio's public API.
/*!
 * A producer thread puts jobs with random priorities (0 = urgent ... 3 = bulk) into a bounded
 * PriorityQueue (putBlocking, so it waits while the queue is full). A dispatcher coroutine on
 * the GUI thread takes a job whenever the executor has a free slot and runs it as a tracked
 * task: part of the work is asynchronous (a timer), part runs on the thread pool
 * (runInThread). Every consumed job counts down the current batch's Latch; its release starts
 * the next phase.
 *
 * The queue and the executor are the QML types `PriorityQueue` and `TaskExecutor` of
 * `import QtAio`, declared in Main.qml, whose `maxSize` and `limit` the window's controls bind
 * to; this class feeds and drains them from C++ (start()).
 */
class Workload : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("created by the application")

    Q_PROPERTY(double producerRate READ producerRate WRITE setProducerRate NOTIFY controlsChanged)
    Q_PROPERTY(
        QVariantList priorityMix READ priorityMix WRITE setPriorityMix NOTIFY controlsChanged)
    Q_PROPERTY(int workMs READ workMs WRITE setWorkMs NOTIFY controlsChanged)
    Q_PROPERTY(bool paused READ isPaused WRITE setPaused NOTIFY controlsChanged)

    Q_PROPERTY(double elapsed READ elapsed NOTIFY sampled)
    Q_PROPERTY(int produced READ produced NOTIFY sampled)
    Q_PROPERTY(int consumed READ consumed NOTIFY sampled)
    Q_PROPERTY(double producedRate READ producedRate NOTIFY sampled)
    Q_PROPERTY(double producerBlocked READ producerBlocked NOTIFY sampled)
    Q_PROPERTY(double throughput READ throughput NOTIFY sampled)
    Q_PROPERTY(double idealThroughput READ idealThroughput NOTIFY sampled)
    Q_PROPERTY(QVariantList waitP50 READ waitP50 NOTIFY sampled)
    Q_PROPERTY(QVariantList waitP95 READ waitP95 NOTIFY sampled)
    Q_PROPERTY(QVariantList oldestWait READ oldestWait NOTIFY sampled)
    Q_PROPERTY(int phase READ phase NOTIFY sampled)
    Q_PROPERTY(int batchSize READ batchSize CONSTANT)
    Q_PROPERTY(int batchRemaining READ batchRemaining NOTIFY sampled)

public:
    static constexpr int priorityLevels = 4;
    //! Readouts per second (the charts are the inspector's, at its own interval).
    static constexpr int sampleHz = 4;

    explicit Workload(QObject *parent = nullptr);
    ~Workload() override;

    //! Starts producing into \a queue and consuming under \a executor's limit.
    void start(QtAio::PriorityQueue<QVariant, double> &queue, QtAio::TaskExecutor &executor);
    //! Stops producing, lets the running jobs stop and waits for everything to end.
    QCoro::Task<> stop();

    double producerRate() const { return m_rate.load(); }
    void setProducerRate(double rate);
    QVariantList priorityMix() const;
    void setPriorityMix(const QVariantList &weights);
    int workMs() const { return m_workMs.load(); }
    void setWorkMs(int ms);
    bool isPaused() const { return m_paused.load(); }
    void setPaused(bool paused);

    //! Seconds since start() (0 before it).
    double elapsed() const { return m_clock.isValid() ? double(m_clock.elapsed()) / 1000.0 : 0.0; }
    int produced() const { return m_produced.load(); }
    int consumed() const { return m_consumedTotal; }
    double producedRate() const { return m_sample.producedRate; }
    //! The share of the last two seconds (0 to 1) the producer spent waiting for room in the
    //! queue. Sampled: a label bound to it changes a few times a second, where one bound to
    //! the queue's `waitingPutters` would change with every job at saturation.
    double producerBlocked() const { return m_sample.producerBlocked; }
    double throughput() const { return m_sample.throughput; }
    //! What the executor could consume: its limit over the work per job, in jobs per second.
    double idealThroughput() const;
    QVariantList waitP50() const { return m_sample.p50; }
    QVariantList waitP95() const { return m_sample.p95; }
    QVariantList oldestWait() const { return m_sample.oldest; }
    int phase() const { return m_phase; }
    int batchSize() const { return m_batchSize; }
    int batchRemaining() const { return m_batch ? m_batch->count() : 0; }

    //! Puts \a count jobs at once (from the producer thread), priorities as the mix says.
    Q_INVOKABLE void burst(int count = 300);

    //! The run's totals, for --summary-json.
    QJsonObject summary() const;

Q_SIGNALS:
    void controlsChanged();
    void sampled();

private:
    void producerLoop(std::stop_token stop);
    int randomPriority(unsigned random) const;
    QCoro::Task<> dispatch();
    QCoro::Task<> phases();
    QCoro::Task<> process(Job job, QtAio::SemaphorePermit slot, std::stop_token stop);
    void takeSample();
    //! Adds the jobs the executor could have consumed since the last call.
    void accountIdeal();
    //! Wait percentiles of \a level over the recently started jobs and the jobs still queued.
    std::vector<double> waitsOf(int level, qint64 now) const;

    QtAio::PriorityQueue<QVariant, double> *m_queue = nullptr;
    QtAio::TaskExecutor *m_executor = nullptr;
    // The thread-pool half of each job runs on a pool of its own, through a second executor:
    // it sleeps rather than computes, so it gets many threads without crowding the global pool.
    // (Through m_executor it would run in the job's own slot: nested work on one executor does.)
    QThreadPool m_pool;
    QtAio::TaskExecutor m_threadWork{&m_pool};
    QtAio::Semaphore m_slots{8}; // the dispatcher takes a job only when a slot is free
    std::unique_ptr<QtAio::Latch> m_batch;
    const int m_batchSize = 100;
    int m_phase = 1;

    std::atomic<double> m_rate{400.0};
    std::atomic<int> m_workMs{40};
    std::atomic<bool> m_paused{false};
    std::atomic<int> m_burst{0};
    std::array<std::atomic<int>, priorityLevels> m_mix{};
    std::atomic<int> m_produced{0};
    std::array<std::atomic<int>, priorityLevels> m_producedBy{};
    std::mutex m_wakeMutex;
    std::condition_variable_any m_wake;
    std::jthread m_producer;

    // When each queued job was put, per priority, oldest first (jobs of one priority leave the
    // queue in the order they entered it): the waits of the jobs that have not started yet.
    mutable std::mutex m_queuedMutex;
    std::array<std::deque<qint64>, priorityLevels> m_queuedNs;

    QElapsedTimer m_clock;
    QTimer m_sampler;
    int m_consumedTotal = 0;
    std::array<int, priorityLevels> m_consumedBy{};
    std::array<std::deque<double>, priorityLevels> m_recentWaitsMs;
    std::atomic<qint64> m_putWaitNs{0}; // time the producer spent in putBlocking
    struct Mark {
        qint64 ms = 0;
        int consumed = 0;
        int produced = 0;
        qint64 putWaitNs = 0;
    };
    std::deque<Mark> m_history; // one per sample, over the last two seconds
    double m_idealJobs = 0;
    qint64 m_idealAccountedNs = 0;
    qint64 m_stoppedMs = -1;
    double m_guiCpuAtStart = -1; // the GUI thread's CPU seconds at start()
    double m_guiCpuUsed = -1;    // ... and from start() to stop()
    int m_peakRunning = 0;
    int m_peakDepth = 0;
    struct {
        double throughput = 0;
        double producedRate = 0;
        double producerBlocked = 0;
        QVariantList p50, p95, oldest;
    } m_sample;
    std::stop_source m_stop;
    std::optional<QCoro::Task<>> m_dispatcher;
    std::optional<QCoro::Task<>> m_phases;
};
