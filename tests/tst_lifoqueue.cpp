// SPDX-License-Identifier: MIT
#include "qtaiotest.h"
#include "queuemodel.h"

#include <qtaio/errors.h>
#include <qtaio/lifoqueue.h>

#include <qcoro/qcorotask.h>

#include <memory>
#include <random>
#include <stop_token>
#include <vector>

using namespace std::chrono_literals;
using QtAio::LifoQueue;

class tst_LifoQueue : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void lastInFirstOut();
    void waitingGettersStayFifo();
    void boundedAndClosed();
    void modelBasedRandomized();
};

void tst_LifoQueue::lastInFirstOut()
{
    LifoQueue<int> q;
    QVERIFY(QtAioTest::runAsync([&]() -> QCoro::Task<> {
        for (int i = 0; i < 4; ++i)
            co_await q.put(i);
        for (int i = 3; i >= 0; --i)
            QTAIO_COMPARE(co_await q.get(), i);
    }));
}

void tst_LifoQueue::waitingGettersStayFifo()
{
    LifoQueue<int> q;
    std::vector<int> order;
    auto getter = [&](int id) -> QCoro::Task<> {
        const int v = co_await q.get();
        order.push_back(id * 100 + v);
    };
    auto a = getter(1);
    auto b = getter(2);
    QVERIFY(q.tryPut(7));
    QVERIFY(q.tryPut(8));
    QTRY_COMPARE(order.size(), std::size_t(2));
    QCOMPARE(order, (std::vector<int>{107, 208}));
}

void tst_LifoQueue::boundedAndClosed()
{
    LifoQueue<std::unique_ptr<int>> q(1);
    QVERIFY(q.tryPut(std::make_unique<int>(1)));
    auto item = std::make_unique<int>(2);
    QVERIFY(!q.tryPut(std::move(item)));
    QVERIFY(item);
    q.close();
    QTAIO_VERIFY_THROWS_SYNC(QtAio::QueueClosedError, (void)q.tryPut(std::move(item)), "closed");
    QVERIFY(item);
    QCOMPARE(*q.tryGet().value(), 1);
    QTAIO_VERIFY_THROWS_SYNC(QtAio::QueueClosedError, (void)q.tryGet(), "drained");
}

void tst_LifoQueue::modelBasedRandomized()
{
    QVERIFY((QtAioTest::runModel<QtAioTest::SequenceModel<true>,
                                 QtAioTest::SequenceAdapter<LifoQueue<int>>>(100000)));
}

QTEST_GUILESS_MAIN(tst_LifoQueue)
#include "tst_lifoqueue.moc"
