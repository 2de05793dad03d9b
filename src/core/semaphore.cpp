// SPDX-License-Identifier: MIT
#include <qtaio/semaphore.h>

#include <qtaio/inspection.h>

#include "waitcore_p.h"

#include <QtCore/QEvent>
#include <QtCore/QMetaMethod>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace QtAio {

namespace detail {

class SemaphoreCore final : public WaitCore {
public:
    int capacity = 0;
    int held = 0;
    WaitList waiters;

    // Last values emitted; home thread only.
    int emittedCapacity = 0;
    int emittedAvailable = 0;
    int emittedHeld = 0;
    int emittedWaiting = 0;

    [[nodiscard]] int available() const { return std::max(0, capacity - held); }

    // Takes a permit for a newcomer: only when one is free and nobody is queued (FIFO).
    bool tryTakeLocked()
    {
        if (held < capacity && waiters.isEmpty()) {
            ++held;
            return true;
        }
        return false;
    }

    // Hands free permits to waiters, oldest first.
    void admitLocked(WakeList &wake)
    {
        while (held < capacity && !waiters.isEmpty()) {
            Waiter *w = waiters.popFront();
            w->status = WaitStatus::Completed;
            ++held;
            wake.add(w);
        }
    }

    void flush() override { static_cast<Semaphore *>(ownerOnHomeThread())->emitChanges(); }
};

bool SemaphoreAcquire::await_ready()
{
    const auto &core = m_semaphore->d;
    bool flushNow = false;
    {
        const auto lock = core->lock();
        if (!core->tryTakeLocked())
            return false;
        status = WaitStatus::Completed;
        flushNow = core->markChangedLocked();
    }
    if (flushNow)
        core->flush();
    return true;
}

bool SemaphoreAcquire::await_suspend(std::coroutine_handle<> handle)
{
    const auto &core = m_semaphore->d;
    bool flushNow = false;
    bool suspended = false;
    {
        const auto lock = core->lock();
        if (core->tryTakeLocked())
            status = WaitStatus::Completed;
        else
            suspended = enqueueLocked(core, core->waiters, handle);
        flushNow = core->markChangedLocked();
    }
    if (flushNow)
        core->flush();
    if (suspended)
        arm();
    return suspended;
}

SemaphorePermit SemaphoreAcquire::await_resume()
{
    disarm();
    if (status != WaitStatus::Completed)
        throwFor(status, "Semaphore::acquire");
    return SemaphorePermit(m_semaphore);
}

} // namespace detail

// ---------------------------------------------------------------------------------------------

Semaphore::Semaphore(int capacity, QObject *parent)
    : QObject(parent), d(std::make_shared<detail::SemaphoreCore>())
{
    if (capacity < 0) {
        throw std::invalid_argument("Semaphore: capacity must not be negative, got " +
                                    std::to_string(capacity));
    }
    d->capacity = d->emittedCapacity = d->emittedAvailable = capacity;
    d->attachOwner(this);
    Inspection::add(this, Inspection::Kind::Semaphore);
}

Semaphore::~Semaphore()
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

int Semaphore::capacity() const
{
    const auto lock = d->lock();
    return d->capacity;
}

void Semaphore::setCapacity(int capacity)
{
    if (capacity < 0) {
        throw std::invalid_argument("Semaphore::setCapacity: capacity must not be negative, got " +
                                    std::to_string(capacity));
    }
    detail::WakeList wake;
    bool flushNow = false;
    {
        const auto lock = d->lock();
        if (d->capacity == capacity)
            return;
        d->capacity = capacity;
        d->admitLocked(wake);
        flushNow = d->markChangedLocked();
    }
    if (flushNow)
        emitChanges();
    wake.wakeAll();
}

int Semaphore::available() const
{
    const auto lock = d->lock();
    return d->available();
}

int Semaphore::held() const
{
    const auto lock = d->lock();
    return d->held;
}

int Semaphore::waiting() const
{
    const auto lock = d->lock();
    return static_cast<int>(d->waiters.size());
}

std::optional<SemaphorePermit> Semaphore::tryAcquire()
{
    bool flushNow = false;
    {
        const auto lock = d->lock();
        if (!d->tryTakeLocked())
            return std::nullopt;
        flushNow = d->markChangedLocked();
    }
    if (flushNow)
        emitChanges();
    return SemaphorePermit(this);
}

Semaphore::AcquireOperation Semaphore::acquire(std::stop_token stop)
{
    return acquire(Deadline(), std::move(stop));
}

Semaphore::AcquireOperation Semaphore::acquire(Deadline deadline, std::stop_token stop)
{
    return {this, {std::move(stop), deadline.timer()}};
}

namespace {
class SemaphoreBlockingAcquire : public detail::WaitOperation {
public:
    using WaitOperation::WaitOperation;
    void run(const std::shared_ptr<detail::SemaphoreCore> &core)
    {
        bool flushNow = false;
        {
            auto lock = core->lock();
            if (core->tryTakeLocked()) {
                flushNow = core->markChangedLocked();
                status = detail::WaitStatus::Completed;
            } else {
                blockLocked(core, core->waiters, lock);
            }
        }
        if (flushNow)
            core->flush();
        if (status != detail::WaitStatus::Completed)
            throwFor(status, "Semaphore::acquireBlocking");
    }
};
} // namespace

SemaphorePermit Semaphore::acquireBlocking(std::stop_token stop)
{
    return acquireBlocking(Deadline(), std::move(stop));
}

SemaphorePermit Semaphore::acquireBlocking(Deadline deadline, std::stop_token stop)
{
    SemaphoreBlockingAcquire op({std::move(stop), deadline.timer()});
    op.run(d);
    return SemaphorePermit(this);
}

void Semaphore::release(int n)
{
    if (n < 1) {
        throw std::invalid_argument("Semaphore::release: n must be at least 1, got " +
                                    std::to_string(n));
    }
    detail::WakeList wake;
    bool flushNow = false;
    {
        const auto lock = d->lock();
        if (n > d->held) {
            throw std::logic_error("Semaphore::release: releasing " + std::to_string(n) +
                                   " permit(s) but only " + std::to_string(d->held) + " are held");
        }
        d->held -= n;
        d->admitLocked(wake);
        flushNow = d->markChangedLocked();
    }
    if (flushNow)
        emitChanges();
    wake.wakeAll();
}

void Semaphore::connectNotify(const QMetaMethod &signal)
{
    d->receiverConnected(signal);
}

void Semaphore::disconnectNotify(const QMetaMethod &signal)
{
    d->receiverDisconnected(signal);
}

bool Semaphore::event(QEvent *event)
{
    return d->deliverFlush(event) || QObject::event(event);
}

void Semaphore::emitChanges()
{
    d->report.run([this](detail::ChangeReport &report) {
        struct {
            int capacity, held, available, waiting;
        } now{};
        {
            const auto lock = d->lock();
            now = {d->capacity, d->held, d->available(), static_cast<int>(d->waiters.size())};
        }
        report.value(now.capacity, d->emittedCapacity,
                     [&](int v) { Q_EMIT capacityChanged(v, QPrivateSignal()); });
        report.value(now.held, d->emittedHeld,
                     [&](int v) { Q_EMIT heldChanged(v, QPrivateSignal()); });
        report.value(now.available, d->emittedAvailable,
                     [&](int v) { Q_EMIT availableChanged(v, QPrivateSignal()); });
        report.value(now.waiting, d->emittedWaiting,
                     [&](int v) { Q_EMIT waitingChanged(v, QPrivateSignal()); });
    });
}

} // namespace QtAio
