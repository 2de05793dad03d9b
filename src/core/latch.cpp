// SPDX-License-Identifier: MIT
#include <qtaio/latch.h>

#include <qtaio/inspection.h>

#include "waitcore_p.h"

#include <QtCore/QEvent>
#include <QtCore/QMetaMethod>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace QtAio {

namespace detail {

// The latch's state. Shared with suspended waiters, which may outlive the Latch object.
// Its count is in LatchCount (latch.h), which the inline Latch::countDown() reads.
class LatchCore final : public LatchCount {
public:
    WaitList waiters;

    // Last values emitted; home thread only.
    int emittedCount = 0;
    int emittedWaiting = 0;
    bool releasedEmitted = false;

    void flush() override { static_cast<Latch *>(ownerOnHomeThread())->emitChanges(); }
};

bool LatchWait::await_ready()
{
    if (m_latch->d->count.load(std::memory_order_acquire) != 0)
        return false;
    status = WaitStatus::Completed;
    return true;
}

bool LatchWait::await_suspend(std::coroutine_handle<> handle)
{
    const auto &core = m_latch->d;
    bool flushNow = false;
    {
        const auto lock = core->lock();
        if (core->count == 0) {
            status = WaitStatus::Completed;
            return false;
        }
        if (!enqueueLocked(core, core->waiters, handle))
            return false;
        flushNow = core->markChangedLocked();
    }
    if (flushNow)
        core->flush();
    arm();
    return true;
}

bool LatchWait::await_resume()
{
    disarm();
    switch (status) {
    case WaitStatus::Completed:
        return true;
    case WaitStatus::TimedOut:
        return false;
    default:
        throwFor(status, "Latch::wait");
    }
}

} // namespace detail

Latch::Latch(int count, QObject *parent)
    : QObject(parent), d(std::make_shared<detail::LatchCore>()), m_count(d.get())
{
    if (count < 0) {
        throw std::invalid_argument("Latch: count must not be negative, got " +
                                    std::to_string(count));
    }
    d->count.store(count);
    d->emittedCount = count;
    d->releasedEmitted = (count == 0);
    d->attachOwner(this);
    Inspection::add(this, Inspection::Kind::Latch);
}

Latch::~Latch()
{
    Inspection::remove(this);
    detail::Waiter *chain = nullptr;
    {
        const auto lock = d->lock();
        d->detachOwnerLocked();
        chain = d->waiters.finishAll(detail::WaitStatus::Destroyed);
    }
    detail::wakeChain(chain);
}

int Latch::count() const
{
    return d->count.load(std::memory_order_acquire);
}

bool Latch::isReleased() const
{
    return count() == 0;
}

int Latch::waiting() const
{
    const auto lock = d->lock();
    return static_cast<int>(d->waiters.size());
}

// The out-of-line part of countDown() (the inline fast path is in latch.h).
void Latch::countDownSlow(int n)
{
    if (n < 0) {
        throw std::invalid_argument("Latch::countDown: n must not be negative, got " +
                                    std::to_string(n));
    }
    if (n == 0)
        return;
    // Whoever brings the count to zero may see the latch destroyed as soon as its waiters
    // resume. So a countDown that does not is done with the latch once its decrement is
    // visible: the lock-free forms (here and inline in latch.h) return right after it, and the
    // form that reports the change decrements under the lock, which the final countDown takes
    // before it wakes anybody.
    const auto decrement = [n](detail::LatchCore &core) {
        int current = core.count.load(std::memory_order_acquire);
        int next = 0;
        do {
            if (current == 0)
                return -1; // already released: nothing changes
            next = std::max(0, current - n);
        } while (!core.count.compare_exchange_weak(current, next, std::memory_order_acq_rel));
        return next;
    };
    detail::Waiter *released = nullptr;
    bool flushNow = false;
    if (!d->hasReceiversLocked()) { // a hint without the lock, as everywhere
        if (d->count.load(std::memory_order_acquire) == 0)
            return; // already released
        // The final countDown, too, may see the latch destroyed before it takes the lock: by a
        // wait that starts just then and finds the count at zero without suspending. So it
        // holds the core, and touches nothing else of the latch after its decrement.
        const std::shared_ptr<detail::LatchCore> core = d;
        if (decrement(*core) != 0)
            return; // nobody to wake and nobody listening: no lock needed
        const auto lock = core->lock();
        released = core->waiters.finishAll(detail::WaitStatus::Completed);
        flushNow = core->markChangedLocked(); // false once the latch is being destroyed
    } else {
        const auto lock = d->lock();
        const int next = decrement(*d);
        if (next < 0)
            return;
        if (next == 0)
            released = d->waiters.finishAll(detail::WaitStatus::Completed);
        flushNow = d->markChangedLocked();
    }
    // Signals first, then wake-ups: both happen after the state is final, and the waiters
    // only resume from their event loops, never inside this call. (flushNow is true only on
    // the latch's home thread, where nobody can destroy it meanwhile.)
    if (flushNow)
        emitChanges();
    detail::wakeChain(released);
}

bool Latch::tryWait() const
{
    return count() == 0;
}

Latch::WaitOperation Latch::wait(std::stop_token stop)
{
    return wait(Deadline(), std::move(stop));
}

Latch::WaitOperation Latch::wait(Deadline deadline, std::stop_token stop)
{
    return detail::LatchWait(this, {std::move(stop), deadline.timer()});
}

namespace {
class LatchBlockingWait : public detail::WaitOperation {
public:
    using WaitOperation::WaitOperation;
    detail::WaitStatus run(const std::shared_ptr<detail::LatchCore> &core)
    {
        auto lock = core->lock();
        if (core->count.load(std::memory_order_acquire) == 0)
            return detail::WaitStatus::Completed;
        return blockLocked(core, core->waiters, lock);
    }
    using WaitOperation::throwFor;
};
} // namespace

bool Latch::waitBlocking(std::stop_token stop)
{
    return waitBlocking(Deadline(), std::move(stop));
}

bool Latch::waitBlocking(Deadline deadline, std::stop_token stop)
{
    LatchBlockingWait op({std::move(stop), deadline.timer()});
    const auto status = op.run(d);
    if (status == detail::WaitStatus::Completed)
        return true;
    if (status == detail::WaitStatus::TimedOut)
        return false;
    LatchBlockingWait::throwFor(status, "Latch::waitBlocking");
}

void Latch::connectNotify(const QMetaMethod &signal)
{
    d->receiverConnected(signal);
}

void Latch::disconnectNotify(const QMetaMethod &signal)
{
    d->receiverDisconnected(signal);
}

bool Latch::event(QEvent *event)
{
    return d->deliverFlush(event) || QObject::event(event);
}

void Latch::emitChanges()
{
    d->report.run([this](detail::ChangeReport &report) {
        struct {
            int count, waiting;
            bool release;
        } now{};
        {
            const auto lock = d->lock();
            now = {d->count.load(), static_cast<int>(d->waiters.size()), false};
            if (now.count == 0 && !d->releasedEmitted)
                now.release = d->releasedEmitted = true; // an event: taken out here
        }
        report.value(now.count, d->emittedCount,
                     [&](int v) { Q_EMIT countChanged(v, QPrivateSignal()); });
        report.value(now.waiting, d->emittedWaiting,
                     [&](int v) { Q_EMIT waitingChanged(v, QPrivateSignal()); });
        if (now.release)
            Q_EMIT releasedChanged(true, QPrivateSignal());
    });
}

} // namespace QtAio
