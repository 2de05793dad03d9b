// SPDX-License-Identifier: MIT
#pragma once

// Model-based randomized test shared by the queue suites: random operation sequences (put,
// tryPut, get, tryGet, taskDone, close, resize, waiting getters and putters, cancellation)
// are applied to a queue and to a plain reference model, step by step. The seed is printed on
// failure and can be given with the QTAIO_MODEL_SEED environment variable to reproduce.

#include "qtaiotest.h"

#include <qtaio/detail/basicqueue.h>
#include <qtaio/errors.h>

#include <QtCore/QCoreApplication>

#include <qcoro/qcorotask.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stop_token>
#include <string>
#include <vector>

namespace QtAioTest {

//! One coroutine waiter started by the model test; outlives its coroutine.
struct ModelWaiter {
    std::stop_source stop;
    std::optional<int> value;
    bool finished = false;
    bool failed = false;
};

template<typename Queue>
QCoro::Task<> modelGetter(Queue &queue, std::shared_ptr<ModelWaiter> w)
{
    try {
        w->value = co_await queue.get(w->stop.get_token());
    } catch (const QtAio::Error &) {
        w->failed = true;
    }
    w->finished = true;
}

template<typename PutFn>
QCoro::Task<> modelPutter(PutFn put, std::shared_ptr<ModelWaiter> w)
{
    try {
        co_await put(w->stop.get_token());
    } catch (const QtAio::Error &) {
        w->failed = true;
    }
    w->finished = true;
}

//! Reference model of a FIFO (\a Lifo false) or LIFO queue.
template<bool Lifo>
struct SequenceModel {
    std::deque<int> items;
    void push(int v, QtAio::detail::NoKey) { items.push_back(v); }
    int pop()
    {
        const int v = Lifo ? items.back() : items.front();
        if (Lifo)
            items.pop_back();
        else
            items.pop_front();
        return v;
    }
    std::size_t size() const { return items.size(); }
    void clear() { items.clear(); }
};

//! Adapter for AsyncQueue<int> and LifoQueue<int>.
template<typename QueueType>
struct SequenceAdapter {
    using Queue = QueueType;
    using Key = QtAio::detail::NoKey;
    static std::unique_ptr<Queue> create(int maxSize) { return std::make_unique<Queue>(maxSize); }
    static bool tryPut(Queue &q, int v, Key) { return q.tryPut(v); }
    static std::optional<int> tryGet(Queue &q) { return q.tryGet(); }
    static auto put(Queue &q, int &v, Key, std::stop_token stop)
    {
        return q.put(std::move(v), std::move(stop));
    }
    static Key key(std::mt19937 &) { return {}; }
};

//! Runs \a steps random operations. Model provides: push(value, key), pop() -> int,
//! size(), clear(); Adapter provides: create(maxSize), tryPut(q, value, key),
//! tryGet(q), put(q, value&, key, stop) -> awaitable, key(random).
template<typename Model, typename Adapter>
bool runModel(int steps)
{
    unsigned seed = std::random_device{}();
    if (const char *given = std::getenv("QTAIO_MODEL_SEED"))
        seed = static_cast<unsigned>(std::strtoul(given, nullptr, 10));
    std::mt19937 random(seed);
    auto failWith = [&](int step, const std::string &what) {
        const std::string message = "model mismatch at step " + std::to_string(step) + ": " + what +
                                    " (reproduce with QTAIO_MODEL_SEED=" + std::to_string(seed) +
                                    ")";
        QTest::qFail(message.c_str(), __FILE__, __LINE__);
        return false;
    };

    using Queue = typename Adapter::Queue;
    std::unique_ptr<Queue> queue;
    Model model;
    int maxSize = 0;
    int unfinished = 0;
    bool closed = false;
    struct PendingPut {
        std::shared_ptr<ModelWaiter> waiter;
        int value;
        typename Adapter::Key key;
    };
    std::deque<std::shared_ptr<ModelWaiter>> getters;     // waiting, in FIFO order
    std::deque<PendingPut> putters;                       // waiting, in FIFO order
    std::map<ModelWaiter *, std::optional<int>> expected; // final outcome of each waiter
    std::vector<std::shared_ptr<ModelWaiter>> started;
    std::vector<std::unique_ptr<int>> putterItems; // the items waiting putters refer to
    int nextValue = 0;

    auto full = [&] { return maxSize > 0 && int(model.size()) >= maxSize; };
    auto admitPutters = [&] {
        while (!full() && !putters.empty()) {
            model.push(putters.front().value, putters.front().key);
            ++unfinished;
            expected[putters.front().waiter.get()] = -1; // completed
            putters.pop_front();
        }
    };
    auto checkState = [&](int step) {
        if (queue->size() != int(model.size()))
            return failWith(step, "size " + std::to_string(queue->size()) +
                                      " != " + std::to_string(model.size()));
        if (queue->unfinishedTasks() != unfinished)
            return failWith(step, "unfinishedTasks " + std::to_string(queue->unfinishedTasks()) +
                                      " != " + std::to_string(unfinished));
        if (queue->waitingGetters() != int(getters.size()) ||
            queue->waitingPutters() != int(putters.size()))
            return failWith(step, "waiting getters/putters differ");
        if (queue->isFull() != full() || queue->isClosed() != closed)
            return failWith(step, "full/closed differ");
        return true;
    };
    auto settle = [&](int step) {
        // Let every woken coroutine resume, then compare each finished waiter's outcome.
        QCoreApplication::processEvents();
        QCoreApplication::processEvents();
        for (auto &w : started) {
            auto found = expected.find(w.get());
            if (found == expected.end())
                continue; // still waiting
            if (!w->finished)
                return failWith(step, "a finished waiter did not resume");
            const std::optional<int> outcome = found->second;
            if (!outcome && !w->failed)
                return failWith(step, "a waiter should have failed");
            if (outcome && *outcome >= 0 && w->value != outcome)
                return failWith(step, "a getter received the wrong item");
            if (outcome && *outcome == -1 && w->failed)
                return failWith(step, "a putter failed that should have completed");
            expected.erase(found);
        }
        std::erase_if(started, [&](auto &w) { return w->finished; });
        return true;
    };
    auto failAllWaiters = [&] {
        for (auto &g : getters)
            expected[g.get()] = std::nullopt;
        for (auto &p : putters)
            expected[p.waiter.get()] = std::nullopt;
        getters.clear();
        putters.clear();
    };
    auto reset = [&] {
        failAllWaiters(); // destroying the old queue fails its waiters
        maxSize = int(random() % 6) - 1;
        queue = Adapter::create(maxSize);
        maxSize = std::max(0, maxSize);
        model.clear();
        unfinished = 0;
        closed = false;
    };
    reset();

    for (int step = 0; step < steps; ++step) {
        const int op = int(random() % 100);
        const int value = nextValue++;
        const auto key = Adapter::key(random);
        try {
            if (op < 18) { // tryPut
                const bool expectAccept = !full() && putters.empty();
                if (closed) {
                    bool threw = false;
                    try {
                        (void)Adapter::tryPut(*queue, value, key);
                    } catch (const QtAio::QueueClosedError &) {
                        threw = true;
                    }
                    if (!threw)
                        return failWith(step, "tryPut on a closed queue did not throw");
                } else if (!getters.empty()) {
                    if (!Adapter::tryPut(*queue, value, key))
                        return failWith(step, "tryPut with a waiting getter was refused");
                    expected[getters.front().get()] = value;
                    getters.pop_front();
                    ++unfinished;
                } else {
                    if (Adapter::tryPut(*queue, value, key) != expectAccept)
                        return failWith(step, "tryPut result differs");
                    if (expectAccept) {
                        model.push(value, key);
                        ++unfinished;
                    }
                }
            } else if (op < 36) { // tryGet
                if (model.size() == 0 && closed) {
                    bool threw = false;
                    try {
                        (void)Adapter::tryGet(*queue);
                    } catch (const QtAio::QueueClosedError &) {
                        threw = true;
                    }
                    if (!threw)
                        return failWith(step, "tryGet on a drained closed queue did not throw");
                } else {
                    const auto got = Adapter::tryGet(*queue);
                    if (model.size() == 0) {
                        if (got)
                            return failWith(step, "tryGet on an empty queue returned an item");
                    } else {
                        const int want = model.pop();
                        if (!got || *got != want)
                            return failWith(step, "tryGet returned the wrong item");
                        admitPutters();
                    }
                }
            } else if (op < 50) { // a getter coroutine (waits when empty)
                auto w = std::make_shared<ModelWaiter>();
                const bool cancelled = random() % 5 == 0;
                if (cancelled)
                    w->stop.request_stop();
                started.push_back(w);
                modelGetter(*queue, w);
                if (model.size() > 0) {
                    expected[w.get()] = model.pop(); // completion wins over a stop
                    admitPutters();
                } else if (closed || cancelled) {
                    expected[w.get()] = std::nullopt;
                } else {
                    getters.push_back(w);
                }
            } else if (op < 64) { // a putter coroutine (waits when full)
                auto w = std::make_shared<ModelWaiter>();
                const bool cancelled = random() % 5 == 0;
                if (cancelled)
                    w->stop.request_stop();
                started.push_back(w);
                putterItems.push_back(std::make_unique<int>(value));
                int *item = putterItems.back().get();
                Queue *q = queue.get();
                modelPutter(
                    [q, item, key](std::stop_token stop) {
                        return Adapter::put(*q, *item, key, std::move(stop));
                    },
                    w);
                if (closed) {
                    expected[w.get()] = std::nullopt;
                } else if (!getters.empty()) {
                    expected[getters.front().get()] = value;
                    getters.pop_front();
                    ++unfinished;
                    expected[w.get()] = -1;
                } else if (!full() && putters.empty()) {
                    model.push(value, key);
                    ++unfinished;
                    expected[w.get()] = -1;
                } else if (cancelled) {
                    expected[w.get()] = std::nullopt;
                } else {
                    putters.push_back({w, value, key});
                }
            } else if (op < 72) { // cancel a random waiting getter or putter
                if (!getters.empty() && random() % 2) {
                    auto it = getters.begin() + long(random() % getters.size());
                    (*it)->stop.request_stop();
                    expected[it->get()] = std::nullopt;
                    getters.erase(it);
                } else if (!putters.empty()) {
                    auto it = putters.begin() + long(random() % putters.size());
                    it->waiter->stop.request_stop();
                    expected[it->waiter.get()] = std::nullopt;
                    putters.erase(it);
                }
            } else if (op < 86) { // taskDone
                if (unfinished == 0) {
                    bool threw = false;
                    try {
                        queue->taskDone();
                    } catch (const std::logic_error &) {
                        threw = true;
                    }
                    if (!threw)
                        return failWith(step, "taskDone underflow did not throw");
                } else {
                    queue->taskDone();
                    --unfinished;
                }
            } else if (op < 93) { // resize
                const int newMax = int(random() % 8) - 1;
                queue->setMaxSize(newMax);
                maxSize = std::max(0, newMax);
                admitPutters();
            } else if (op < 96) { // close
                const bool immediate = random() % 2;
                queue->close(immediate ? QtAio::CloseMode::Immediate : QtAio::CloseMode::Drain);
                closed = true;
                failAllWaiters();
                if (immediate) {
                    unfinished -= int(model.size());
                    model.clear();
                }
            } else if (closed || op < 97) { // start over with a new queue
                if (!settle(step))
                    return false;
                reset();
            }
        } catch (const std::exception &e) {
            return failWith(step, std::string("unexpected exception: ") + e.what());
        }
        if (!checkState(step))
            return false;
        if (step % 64 == 0 && !settle(step))
            return false;
    }
    reset();
    queue.reset();
    return settle(steps);
}

} // namespace QtAioTest
