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
// Its raw count is in LatchCount (latch.h), which the inline Latch::countDown() reads.
//
// The protocol (see also Latch::countDown() in latch.h):
// - Every decrement of count is one atomic read-modify-write, so exactly one of them takes it
//   from above zero to zero or below. That count-down, and only it, releases the latch: it
//   holds the core (a copy of the shared_ptr, made before anybody can see the release), takes
//   the lock, sets released, finishes the waiters and reports the change.
// - released, written only under the lock, is what waiters, tryWait(), isReleased(), count()
//   and the change report go by; the raw count may read zero or below before it is set.
//   observedCount() is the count they all see: never 0 before the release, 0 after.
// - So nobody can see the latch released, and so nobody may destroy it, before the releasing
//   count-down has set the flag: that count-down may touch the latch up to then. Every other
//   count-down is done with the latch once its decrement is made.
class LatchCore final : public LatchCount {
public:
    WaitList waiters;
    //! Whether the latch is released. Written only with the mutex held (so that no waiter can
    //! miss the release); read without it by the accessors.
    std::atomic<bool> released{false};

    //! The count as everybody outside countDown() sees it: 0 once released, and until then
    //! the raw count, but never below 1 (the raw count may read 0 or below for a moment
    //! before the count-down that took it there has released the latch). Monotone, as the raw
    //! count is.
    [[nodiscard]] int observedCount() const noexcept
    {
        if (released.load(std::memory_order_acquire))
            return 0;
        return std::max(1, count.load(std::memory_order_acquire));
    }

    //! Sets released and finishes every waiter; returns the chain to wake once unlocked. Only
    //! the count-down whose decrement took the count from above zero to zero or below calls it,
    //! with the mutex held.
    [[nodiscard]] Waiter *releaseLocked() noexcept
    {
        released.store(true, std::memory_order_release);
        return waiters.finishAll(WaitStatus::Completed);
    }

    // Last values emitted; home thread only.
    int emittedCount = 0;
    int emittedWaiting = 0;
    bool releasedEmitted = false;

    void flush() override { static_cast<Latch *>(ownerOnHomeThread())->emitChanges(); }
};

bool LatchWait::await_ready()
{
    if (!m_latch->d->released.load(std::memory_order_acquire))
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
        if (core->released.load(std::memory_order_relaxed)) {
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
    d->released.store(count == 0); // Latch(0) is born released
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
    return d->observedCount();
}

bool Latch::isReleased() const
{
    return d->released.load(std::memory_order_acquire);
}

int Latch::waiting() const
{
    const auto lock = d->lock();
    return static_cast<int>(d->waiters.size());
}

namespace {
// Releases the latch: called by the count-down whose decrement took the count from above zero
// to zero or below, and by no other. It touches only \a core, its own copy of the latch's core:
// once released is set, a thread that sees it may destroy the latch, and the core with it
// unless held.
void releaseLatch(const std::shared_ptr<detail::LatchCore> &core)
{
    detail::Waiter *released = nullptr;
    bool flushNow = false;
    {
        const auto lock = core->lock();
        released = core->releaseLocked();
        flushNow = core->markChangedLocked(); // false once the latch is being destroyed
    }
    // Signals first, then wake-ups, as in countDownSlow(). flushNow is true only on the
    // latch's home thread, where nobody can destroy it meanwhile.
    if (flushNow)
        core->flush();
    detail::wakeChain(released);
}
} // namespace

// The inline fast path (latch.h) made the decrement that crossed zero.
void Latch::countedDownToZero()
{
    // Nobody can see the latch released before releaseLatch() sets the flag, so it is alive.
    const std::shared_ptr<detail::LatchCore> core = d;
    releaseLatch(core);
}

// The out-of-line part of countDown() (the inline fast path is in latch.h): n <= 0, n above
// maxFastCountDown, a listener, or a count at most n when read.
void Latch::countDownSlow(int n)
{
    if (n < 0) {
        throw std::invalid_argument("Latch::countDown: n must not be negative, got " +
                                    std::to_string(n));
    }
    if (n == 0)
        return;
    // This path decrements with a compare-and-swap that floors at zero (a raw count at zero or
    // below, which the fast path may leave, counts as zero: nothing changes). As on the fast
    // path, a count-down is done with the latch once its decrement is made unless it is the
    // one that crossed zero, which releases it. The core is held from before the decrement,
    // so that no lock is taken in a core that the latch's destruction may free.
    const std::shared_ptr<detail::LatchCore> core = d;
    // Returns the count before the decrement, or the raw count if it was already at zero or
    // below (then nothing changed).
    const auto decrement = [n, &core] {
        int current = core->count.load(std::memory_order_relaxed);
        do {
            if (current <= 0)
                return current;
        } while (!core->count.compare_exchange_weak(current, current > n ? current - n : 0,
                                                    std::memory_order_acq_rel,
                                                    std::memory_order_relaxed));
        return current;
    };
    if (!core->hasReceiversLocked()) { // a hint without the lock, as everywhere
        const int before = decrement();
        if (before > 0 && before <= n)
            releaseLatch(core);
        return; // otherwise nobody to wake and nobody listening: no lock needed
    }
    // Somebody listens: the change is decremented and reported under the lock.
    detail::Waiter *released = nullptr;
    bool flushNow = false;
    {
        const auto lock = core->lock();
        const int before = decrement();
        if (before <= 0)
            return; // already at zero: nothing changes
        if (before <= n)
            released = core->releaseLocked();
        flushNow = core->markChangedLocked();
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
    return isReleased();
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
        if (core->released.load(std::memory_order_relaxed))
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
            // The count that count() reads: 0 exactly once released.
            now = {d->observedCount(), static_cast<int>(d->waiters.size()), false};
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
