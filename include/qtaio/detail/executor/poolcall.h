// SPDX-License-Identifier: MIT
#pragma once

// A call run on the executor's thread pool and awaited on the caller's thread, without a
// coroutine of its own: the job lives in the awaiting coroutine's frame.

#include <qtaio/detail/executorcore.h>
#include <qtaio/detail/waitcore.h>

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace QtAio::detail {

//! A call to run on the thread pool (ExecutorCore::submit()), and where its outcome goes. It
//! lives in the awaiting coroutine's frame, which waits for it whatever happens.
template<typename R, typename Fn>
class PoolJob final : public PoolTask {
public:
    explicit PoolJob(Fn function) : m_fn(std::move(function)) {}

    void run() noexcept override
    {
        try {
            if constexpr (std::is_void_v<R>)
                m_fn();
            else
                m_value.emplace(m_fn());
        } catch (...) {
            m_error = std::current_exception();
        }
        m_done.complete(); // the last touch: the awaiting side may destroy the job now
    }

    //! Awaitable: completes once the call has run.
    [[nodiscard]] OneShot::Wait done() noexcept { return m_done.wait(); }
    //! After done(): what the call threw, or nullptr.
    [[nodiscard]] std::exception_ptr error() const noexcept { return m_error; }
    //! After done(), without error: the value (once).
    R take()
    {
        if constexpr (!std::is_void_v<R>)
            return std::move(*m_value);
    }

private:
    Fn m_fn;
    std::conditional_t<std::is_void_v<R>, std::monostate, std::optional<R>> m_value{};
    std::exception_ptr m_error;
    OneShot m_done;
};

//! Awaitable that runs \a fn on an executor's thread pool and yields its result on the
//! awaiting thread. co_await builds the job right in the awaiting coroutine's frame: a pool call
//! costs no coroutine of its own. Await it once.
template<typename R, typename Fn>
class PoolCall {
public:
    PoolCall(ExecutorCore *core, Fn fn) : m_core(core), m_fn(std::move(fn)) {}

    class Awaiter {
    public:
        Awaiter(ExecutorCore *core, Fn fn) : m_core(core), m_job(std::move(fn)) {}
        [[nodiscard]] bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<> handle)
        {
            m_core->submit(&m_job);
            return m_job.done().await_suspend(handle); // false: the job is done already
        }
        R await_resume()
        {
            if (auto error = m_job.error())
                std::rethrow_exception(error);
            return m_job.take();
        }

    private:
        ExecutorCore *m_core;
        PoolJob<R, Fn> m_job;
    };

    Awaiter operator co_await() { return {m_core, std::move(m_fn)}; }

private:
    ExecutorCore *m_core;
    Fn m_fn;
};

} // namespace QtAio::detail
