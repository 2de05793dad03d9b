// SPDX-License-Identifier: MIT
#include "qtaiotest.h"
#include "queuemodel.h"

#include <qtaio/errors.h>
#include <qtaio/priorityqueue.h>

#include <QtTest/QSignalSpy>

#include <qcoro/qcorotask.h>

#include <deque>
#include <limits>
#include <list>
#include <map>
#include <memory>
#include <random>
#include <stop_token>
#include <string>

using namespace std::chrono_literals;
using QtAio::PriorityQueue;

namespace {

// A stable priority list: insert after every entry of equal or lower priority value.
struct PriorityModel {
    std::list<std::pair<int, int>> items; // (priority, value)
    void push(int v, int priority)
    {
        auto it = items.begin();
        while (it != items.end() && it->first <= priority)
            ++it;
        items.insert(it, {priority, v});
    }
    int pop()
    {
        const int v = items.front().second;
        items.pop_front();
        return v;
    }
    std::size_t size() const { return items.size(); }
    void clear() { items.clear(); }
};

struct PriorityAdapter {
    using Queue = PriorityQueue<int>;
    using Key = int;
    static std::unique_ptr<Queue> create(int maxSize) { return std::make_unique<Queue>(maxSize); }
    static bool tryPut(Queue &q, int v, Key k) { return q.tryPut(v, k); }
    static std::optional<int> tryGet(Queue &q) { return q.tryGet(); }
    static auto put(Queue &q, int &v, Key k, std::stop_token stop)
    {
        return q.put(std::move(v), k, std::move(stop));
    }
    static Key key(std::mt19937 &random) { return int(random() % 4); }
};

} // namespace

class tst_PriorityQueue : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void lowerValueFirstFifoAmongEquals();
    void getWithPriorityReturnsBoth();
    void fractionalAndNegativePriorities();
    void sizeByPriority();
    void timeoutFormTakesPriorityFirst();
    void blockedPutterKeepsItsPriority();
    void moveOnlyItems();
    void closeAndErrors();
    void modelBasedRandomized();
    void largeBurstsKeepPriorityAndArrivalOrder();
    void throwingComparisonLeavesTheQueueAsItWas();
    void nanPriorityIsRejected();
    void throwingPriorityCopyReachesNoGetter();
    void throwingPriorityCopyExpiresCleanly();
    void throwingAdmissionKeepsThePutterWaiting();
};

namespace {
//! A priority whose copy (bad_alloc, as under memory pressure) and comparison throw on demand.
struct FlakyKey {
    int value = 0;
    static inline bool failCopy = false;
    static inline bool failLess = false;

    FlakyKey(int v) : value(v) {} // NOLINT: implicit, like an int priority
    FlakyKey(const FlakyKey &other) : value(other.value)
    {
        if (failCopy)
            throw std::bad_alloc();
    }
    FlakyKey(FlakyKey &&other) noexcept : value(other.value) {}
    FlakyKey &operator=(const FlakyKey &other)
    {
        if (failCopy)
            throw std::bad_alloc();
        value = other.value;
        return *this;
    }
    FlakyKey &operator=(FlakyKey &&other) noexcept
    {
        value = other.value;
        return *this;
    }
    friend bool operator<(const FlakyKey &a, const FlakyKey &b)
    {
        if (failLess)
            throw std::runtime_error("FlakyKey: comparison failed");
        return a.value < b.value;
    }
};

//! Resets FlakyKey's switches at the end of a test, whatever happens.
struct FlakyReset {
    ~FlakyReset() { FlakyKey::failCopy = FlakyKey::failLess = false; }
};
} // namespace

void tst_PriorityQueue::nanPriorityIsRejected()
{
    PriorityQueue<int, double> q;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    QTAIO_VERIFY_THROWS_SYNC(std::invalid_argument, (void)q.tryPut(1, nan), "must not be NaN");
    QTAIO_VERIFY_THROWS_SYNC(std::invalid_argument, (void)q.put(1, nan), "must not be NaN");
    QTAIO_VERIFY_THROWS_SYNC(std::invalid_argument, q.putBlocking(1, nan), "must not be NaN");
    QCOMPARE(q.size(), 0);
    QVERIFY(q.tryPut(2, std::numeric_limits<double>::infinity()));
    QVERIFY(q.tryPut(3, -std::numeric_limits<double>::infinity()));
    QCOMPARE(q.tryGet(), std::optional<int>(3));
    QCOMPARE(q.tryGet(), std::optional<int>(2));
}

void tst_PriorityQueue::throwingComparisonLeavesTheQueueAsItWas()
{
    FlakyReset reset;
    PriorityQueue<std::string, FlakyKey> q;
    QVERIFY(q.tryPut("two", 2));
    QVERIFY(q.tryPut("one", 1));
    QVERIFY(q.tryPut("three", 3));
    std::string item = "zero";
    FlakyKey::failLess = true;
    QTAIO_VERIFY_THROWS_SYNC(std::runtime_error, (void)q.tryPut(std::move(item), 0),
                             "comparison failed");
    QCOMPARE(item, std::string("zero")); // the caller keeps its item
    FlakyKey::failLess = false;
    FlakyKey::failCopy = true;
    QTAIO_VERIFY_THROWS_SYNC(std::bad_alloc, (void)q.tryPut(std::move(item), 0), "");
    QCOMPARE(item, std::string("zero"));
    FlakyKey::failCopy = false;
    QCOMPARE(q.size(), 3);
    QCOMPARE(q.unfinishedTasks(), 3);
    // Nothing lost, no phantom, the order intact.
    for (const char *want : {"one", "two", "three"})
        QCOMPARE(q.tryGet(), std::optional<std::string>(want));
    QCOMPARE(q.tryGet(), std::optional<std::string>());
    QVERIFY(q.tryPut(std::move(item), 0));
    QCOMPARE(q.tryGet(), std::optional<std::string>("zero"));
}

void tst_PriorityQueue::throwingPriorityCopyReachesNoGetter()
{
    FlakyReset reset;
    PriorityQueue<std::string, FlakyKey> q;
    std::string got;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto getter = [&]() -> QCoro::Task<> { got = co_await q.get(); };
        auto waiting = getter();
        QTAIO_COMPARE(q.waitingGetters(), 1);
        std::string item = "first";
        FlakyKey::failCopy = true;
        QTAIO_VERIFY_THROWS(std::bad_alloc, (void)q.tryPut(std::move(item), 1), "");
        FlakyKey::failCopy = false;
        QTAIO_COMPARE(item, std::string("first"));
        QTAIO_COMPARE(q.waitingGetters(), 1); // still waiting, still listed
        QTAIO_VERIFY(q.tryPut(std::move(item), 1));
        co_await waiting;
        QTAIO_COMPARE(got, std::string("first"));
        QTAIO_COMPARE(q.waitingGetters(), 0);
    }));
}

void tst_PriorityQueue::throwingPriorityCopyExpiresCleanly()
{
    // A getter whose hand-over failed must still be listed when its deadline fires: the
    // counter stays exact and the next getter is served.
    FlakyReset reset;
    PriorityQueue<std::string, FlakyKey> q;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto timed = [&]() -> QCoro::Task<> {
            try {
                (void)co_await q.get(30ms);
            } catch (const QtAio::TimeoutError &) {
            }
        };
        auto waiting = timed();
        FlakyKey::failCopy = true;
        QTAIO_VERIFY_THROWS(std::bad_alloc, (void)q.tryPut(std::string("x"), 1), "");
        FlakyKey::failCopy = false;
        co_await waiting;
        QTAIO_COMPARE(q.waitingGetters(), 0);
        QTAIO_VERIFY(q.tryPut(std::string("y"), 1));
        QTAIO_COMPARE(co_await q.get(), std::string("y"));
    }));
}

void tst_PriorityQueue::throwingAdmissionKeepsThePutterWaiting()
{
    FlakyReset reset;
    PriorityQueue<std::string, FlakyKey> q(1);
    QVERIFY(q.tryPut("a", 1));
    bool putDone = false;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        std::string second = "b";
        auto putter = [&]() -> QCoro::Task<> {
            co_await q.put(std::move(second), 2);
            putDone = true;
        };
        auto waiting = putter();
        QTAIO_COMPARE(q.waitingPutters(), 1);
        // The get takes "a"; admitting the putter copies its priority, which throws: the get
        // keeps its item, the putter its item and its place.
        FlakyKey::failCopy = true;
        QTAIO_COMPARE(q.tryGet(), std::optional<std::string>("a"));
        FlakyKey::failCopy = false;
        QTAIO_COMPARE(q.waitingPutters(), 1);
        QTAIO_COMPARE(q.size(), 0);
        QTAIO_COMPARE(second, std::string("b"));
        // The next get admits it.
        QTAIO_COMPARE(co_await q.get(), std::string("b"));
        co_await waiting;
        QTAIO_VERIFY(putDone);
        QTAIO_COMPARE(q.waitingPutters(), 0);
        QTAIO_COMPARE(q.unfinishedTasks(), 2);
    }));
}

void tst_PriorityQueue::lowerValueFirstFifoAmongEquals()
{
    PriorityQueue<std::string> q;
    QVERIFY(q.tryPut("low-1", 5));
    QVERIFY(q.tryPut("high-1", 1));
    QVERIFY(q.tryPut("low-2", 5));
    QVERIFY(q.tryPut("high-2", 1));
    QVERIFY(q.tryPut("mid", 3));
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        for (const char *want : {"high-1", "high-2", "mid", "low-1", "low-2"})
            QTAIO_COMPARE(co_await q.get(), std::string(want));
    }));
}

void tst_PriorityQueue::getWithPriorityReturnsBoth()
{
    PriorityQueue<QString> q;
    QVERIFY(q.tryPut(QStringLiteral("b"), 2));
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto [value, priority] = co_await q.getWithPriority();
        QTAIO_COMPARE(value, QStringLiteral("b"));
        QTAIO_COMPARE(priority, 2);
    }));
    QVERIFY(q.tryPut(QStringLiteral("c"), 7));
    const auto item = q.tryGetWithPriority();
    QVERIFY(item);
    QCOMPARE(item->priority, 7);
}

void tst_PriorityQueue::fractionalAndNegativePriorities()
{
    PriorityQueue<int, double> q;
    QVERIFY(q.tryPut(1, 0.5));
    QVERIFY(q.tryPut(2, -1.25));
    QVERIFY(q.tryPut(3, 0.25));
    QVERIFY(q.tryPut(4, -1.25));
    QCOMPARE(q.tryGet(), std::optional<int>(2));
    QCOMPARE(q.tryGet(), std::optional<int>(4));
    QCOMPARE(q.tryGet(), std::optional<int>(3));
    QCOMPARE(q.tryGet(), std::optional<int>(1));
}

void tst_PriorityQueue::sizeByPriority()
{
    PriorityQueue<int> q;
    for (int i = 0; i < 10; ++i)
        QVERIFY(q.tryPut(i, i % 3));
    const auto counts = q.sizeByPriority();
    QCOMPARE(counts.size(), std::size_t(3));
    QCOMPARE(counts.at(0), 4);
    QCOMPARE(counts.at(1), 3);
    QCOMPARE(counts.at(2), 3);
    QCOMPARE(q.sizeOfPriority(1), 3);
    QCOMPARE(q.sizeOfPriority(9), 0);
    (void)q.tryGet();
    QCOMPARE(q.sizeOfPriority(0), 3);
}

void tst_PriorityQueue::timeoutFormTakesPriorityFirst()
{
    PriorityQueue<int> q(1);
    QVERIFY(q.tryPut(1, 0));
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        QTAIO_VERIFY_THROWS(QtAio::TimeoutError, co_await q.put(2, 3, 5ms), "timed out");
        QTAIO_COMPARE(q.size(), 1);
    }));
}

void tst_PriorityQueue::blockedPutterKeepsItsPriority()
{
    PriorityQueue<int> q(2);
    QVERIFY(q.tryPut(10, 5));
    QVERIFY(q.tryPut(20, 5));
    bool done = false;
    auto putter = [&]() -> QCoro::Task<> {
        co_await q.put(30, 0);
        done = true;
    };
    auto task = putter();
    QCOMPARE(q.tryGet(), std::optional<int>(10)); // admits the urgent putter
    QCOMPARE(q.tryGet(), std::optional<int>(30));
    QCOMPARE(q.tryGet(), std::optional<int>(20));
    QTRY_VERIFY(done);
}

void tst_PriorityQueue::moveOnlyItems()
{
    PriorityQueue<std::unique_ptr<int>> q;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        auto a = std::make_unique<int>(1);
        co_await q.put(std::move(a), 2);
        QTAIO_VERIFY(a == nullptr);
        QTAIO_VERIFY(q.tryPut(std::make_unique<int>(2), 1));
        auto first = co_await q.get();
        QTAIO_COMPARE(*first, 2);
    }));
}

void tst_PriorityQueue::closeAndErrors()
{
    PriorityQueue<int> q;
    QVERIFY(q.tryPut(1, 1));
    QSignalSpy closed(&q, &PriorityQueue<int>::closedChanged);
    QVERIFY(closed.isValid());
    q.close(QtAio::CloseMode::Immediate);
    QCOMPARE(closed.count(), 1);
    QCOMPARE(q.sizeOfPriority(1), 0);
    QTAIO_VERIFY_THROWS_SYNC(QtAio::QueueClosedError, (void)q.tryPut(2, 0), "closed");
    QTAIO_VERIFY_THROWS_SYNC(QtAio::QueueClosedError, (void)q.tryGet(), "closed");
}

void tst_PriorityQueue::modelBasedRandomized()
{
    QVERIFY((QtAioTest::runModel<PriorityModel, PriorityAdapter>(100000)));
}

namespace {

//! An enumeration whose own operator< reverses the order of its values.
enum class Urgency { Later = 0, Now = 1 };
bool operator<(Urgency a, Urgency b)
{
    return int(a) > int(b);
}

//! Random bursts of puts and gets checked against a model (per priority, a FIFO); \a toKey
//! maps a small random integer onto the priority type.
template<typename P, typename ToKey>
void checkBursts(std::mt19937 &random, ToKey toKey)
{
    PriorityQueue<int, P> q;
    std::map<P, std::deque<int>> model;
    int modelSize = 0;
    int nextValue = 0;
    auto takeFirst = [&] {
        const auto first = model.begin();
        const auto got = q.tryGetWithPriority();
        QVERIFY(got);
        QCOMPARE(got->priority, first->first);
        QCOMPARE(got->value, first->second.front());
        first->second.pop_front();
        if (first->second.empty())
            model.erase(first);
        --modelSize;
    };
    for (int round = 0; round < 200; ++round) {
        const int puts = int(random() % 2000);
        const int priorities = 1 + int(random() % 50); // few priorities: many ties
        for (int i = 0; i < puts; ++i) {
            const P priority = toKey(int(random() % unsigned(priorities)) - 10);
            QVERIFY(q.tryPut(nextValue, priority));
            model[priority].push_back(nextValue++);
            ++modelSize;
        }
        const int gets = int(random() % unsigned(modelSize + 1));
        for (int i = 0; i < gets && !QTest::currentTestFailed(); ++i)
            takeFirst();
        QCOMPARE(q.size(), modelSize);
        if (round % 50 == 0) {
            std::map<P, int> counts;
            for (const auto &[priority, values] : model)
                counts[priority] = int(values.size());
            QCOMPARE(q.sizeByPriority(), counts);
        }
    }
    while (modelSize > 0 && !QTest::currentTestFailed())
        takeFirst();
    QCOMPARE(q.tryGet(), std::optional<int>());
}

} // namespace

void tst_PriorityQueue::largeBurstsKeepPriorityAndArrivalOrder()
{
    // Bursts of every size, so that gets run on the sorted run, on the heap of recent puts and
    // across merges of one into the other; for priorities sorted by radix (32 and 64 bits,
    // negative ones included) and by comparison.
    const auto seed = std::random_device{}();
    qInfo("seed %u", seed);
    std::mt19937 random(seed);
    checkBursts<int>(random, [](int k) { return k; });
    if (QTest::currentTestFailed())
        return;
    checkBursts<qint64>(random, [](int k) { return qint64(k) * 1'000'000'007LL; });
    if (QTest::currentTestFailed())
        return;
    checkBursts<double>(random, [](int k) { return k / 3.0; });
    if (QTest::currentTestFailed())
        return;
    checkBursts<bool>(random, [](int k) { return k % 2 == 0; });
    if (QTest::currentTestFailed())
        return;
    checkBursts<Urgency>(random, [](int k) { return k % 2 == 0 ? Urgency::Now : Urgency::Later; });
}

QTEST_GUILESS_MAIN(tst_PriorityQueue)
#include "tst_priorityqueue.moc"
