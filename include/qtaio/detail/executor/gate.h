// SPDX-License-Identifier: MIT
#pragma once

// The executor's internal gate: a counting gate on the waiting core, behind a call's own limit,
// inOrder()'s window and a stream's results. Not a public QObject: nothing observes it, so it
// has no signals, no home thread and no counters to report.

#include <qtaio/detail/waitcore.h>
#include <qtaio/qtaiocore_export.h>

#include <coroutine>
#include <memory>
#include <stop_token>
#include <utility>

namespace QtAio::detail {

//! Permits handed out in FIFO order to coroutines that wait for one.
/*!
 * release() is thread-safe and never resumes a waiter inline: a waiter resumes on the thread
 * on which it suspended, through its event loop (the waiting core's promise). A wait whose
 * stop is requested ends with CancelledError unless its permit was already handed over
 * (completion wins).
 */
class QTAIO_CORE_EXPORT Gate {
public:
    //! A gate with \a permits permits free (0: closed until release()).
    explicit Gate(int permits = 0);
    Gate(const Gate &) = delete;
    Gate &operator=(const Gate &) = delete;
    //! Waiters still waiting end with CancelledError.
    ~Gate();

    //! Gives back \a count permits, handing them to waiters first (FIFO).
    void release(int count = 1);

    //! Awaitable returned by acquire(): completes holding one permit.
    class QTAIO_CORE_EXPORT Acquire : public WaitOperation {
    public:
        Acquire(Gate *gate, std::stop_token stop) noexcept
            : WaitOperation({std::move(stop), QDeadlineTimer(QDeadlineTimer::Forever)}),
              m_gate(gate)
        {
        }
        bool await_ready();
        bool await_suspend(std::coroutine_handle<> handle);
        //! Throws CancelledError when the stop was requested first.
        void await_resume();

    private:
        Gate *m_gate;
    };
    //! Waits for a permit; the caller gives it back with release() (or a GatePermit).
    [[nodiscard]] Acquire acquire(std::stop_token stop = {}) noexcept
    {
        return {this, std::move(stop)};
    }

private:
    class Core;
    std::shared_ptr<Core> d;
};

//! One permit of a Gate, given back when it goes. The gate must outlive it.
class GatePermit {
public:
    explicit GatePermit(Gate *gate) noexcept : m_gate(gate) {}
    GatePermit(GatePermit &&other) noexcept : m_gate(std::exchange(other.m_gate, nullptr)) {}
    GatePermit &operator=(GatePermit &&) = delete;
    ~GatePermit()
    {
        if (m_gate)
            m_gate->release();
    }

private:
    Gate *m_gate;
};

} // namespace QtAio::detail
