// SPDX-License-Identifier: MIT
#include <qtaio/detail/executor/gate.h>

#include <mutex>

namespace QtAio::detail {

// The state lives in a WaitCore so that a waiter's stop callback can finish its wait under the
// same mutex as release() (completion wins), as every primitive of the waiting core does.
class Gate::Core final : public WaitCore {
public:
    int free = 0;
    WaitList waiters;
    void flush() override {} // no owner, no signals
};

Gate::Gate(int permits) : d(std::make_shared<Core>())
{
    d->free = permits;
}

Gate::~Gate()
{
    Waiter *chain = nullptr;
    {
        const auto lock = d->lock();
        chain = d->waiters.finishAll(WaitStatus::Destroyed);
    }
    wakeChain(chain);
}

void Gate::release(int count)
{
    WakeList wake;
    const auto lock = d->lock();
    d->free += count;
    while (d->free > 0 && !d->waiters.isEmpty()) {
        Waiter *waiter = d->waiters.popFront();
        --d->free;
        waiter->status = WaitStatus::Completed;
        wake.add(waiter);
    }
    // The lock goes before `wake` wakes (declared first, destroyed last).
}

bool Gate::Acquire::await_ready()
{
    const auto lock = m_gate->d->lock();
    // FIFO: a free permit goes to a new caller only when nobody waits ahead of it.
    if (m_gate->d->free <= 0 || !m_gate->d->waiters.isEmpty())
        return false;
    --m_gate->d->free;
    status = WaitStatus::Completed;
    return true;
}

bool Gate::Acquire::await_suspend(std::coroutine_handle<> handle)
{
    const auto &core = m_gate->d;
    {
        const auto lock = core->lock();
        if (core->free > 0 && core->waiters.isEmpty()) {
            --core->free; // released since await_ready()
            status = WaitStatus::Completed;
            return false;
        }
        if (!enqueueLocked(core, core->waiters, handle))
            return false; // stopped already (or the thread's loop ended)
    }
    arm();
    return true;
}

void Gate::Acquire::await_resume()
{
    disarm();
    if (status != WaitStatus::Completed)
        throwFor(status, "TaskExecutor: waiting for room under the call's limit");
}

} // namespace QtAio::detail
