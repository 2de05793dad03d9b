// SPDX-License-Identifier: MIT
#pragma once

#include <qtaio/deadline.h>
#include <qtaio/detail/waitcore.h>
#include <qtaio/qtaiocore_export.h>

#include <QtCore/QDeadlineTimer>
#include <QtCore/QObject>

#include <coroutine>
#include <memory>
#include <optional>
#include <stop_token>
#include <utility>

namespace QtAio {

class Semaphore;
namespace detail {
class SemaphoreAcquire;
}

//! One permit of a Semaphore, released when the permit is destroyed (RAII).
/*!
 * Yielded by `co_await semaphore.acquire()` and returned by acquireBlocking() and
 * tryAcquire(). Move-only. A default-constructed, moved-from, released or detached permit
 * holds nothing. The permit must not outlive its semaphore. [[nodiscard]]: a permit that is
 * not kept is released at once.
 */
class [[nodiscard]] SemaphorePermit {
public:
    //! A permit object that holds nothing.
    SemaphorePermit() noexcept = default;
    //! Takes over the permit of \a other, which then holds nothing.
    SemaphorePermit(SemaphorePermit &&other) noexcept
        : m_semaphore(std::exchange(other.m_semaphore, nullptr))
    {
    }
    //! Releases the permit this object holds, if any, and takes over the one of \a other,
    //! which then holds nothing.
    SemaphorePermit &operator=(SemaphorePermit &&other) noexcept
    {
        if (this != &other) {
            release();
            m_semaphore = std::exchange(other.m_semaphore, nullptr);
        }
        return *this;
    }
    SemaphorePermit(const SemaphorePermit &) = delete;
    SemaphorePermit &operator=(const SemaphorePermit &) = delete;
    //! Releases the permit, if one is held.
    ~SemaphorePermit() { release(); }

    //! Whether this object holds a permit.
    [[nodiscard]] bool isHeld() const noexcept { return m_semaphore != nullptr; }
    //! Same as isHeld().
    explicit operator bool() const noexcept { return isHeld(); }
    //! Gives the permit back now instead of at destruction. Does nothing if none is held.
    inline void release() noexcept;
    //! Lets go of the permit without releasing it: it stays held until someone calls
    //! Semaphore::release() (for code that releases elsewhere). Does nothing if none is held.
    void detach() noexcept { m_semaphore = nullptr; }

private:
    friend class Semaphore;
    friend class detail::SemaphoreAcquire;
    explicit SemaphorePermit(Semaphore *semaphore) noexcept : m_semaphore(semaphore) {}
    Semaphore *m_semaphore = nullptr;
};

namespace detail {
class SemaphoreCore;

//! Awaitable returned by Semaphore::acquire(): yields a SemaphorePermit.
class QTAIO_CORE_EXPORT SemaphoreAcquire : public WaitOperation {
public:
    SemaphoreAcquire(Semaphore *semaphore, WaitOptions options) noexcept
        : WaitOperation(std::move(options)), m_semaphore(semaphore)
    {
    }

    bool await_ready();
    bool await_suspend(std::coroutine_handle<> handle);
    SemaphorePermit await_resume();

private:
    Semaphore *m_semaphore;
};
} // namespace detail

//! An async counting semaphore: the concurrency limit behind TaskExecutor.
/*!
 * Modelled on Trio's CapacityLimiter. Acquirers, coroutine and blocking alike, are served in
 * FIFO order; a new acquire never overtakes a waiting one. Every member function is
 * thread-safe; signals are emitted in the home thread (coalesced for changes made on other
 * threads, as for every QtAio object).
 *
 * The capacity can change at run time: raising it admits waiters at once; lowering it revokes
 * nothing, held permits stay held and new acquires wait until fewer than the new capacity
 * are held. Semaphore(0) is a closed gate.
 *
 * \code
 * QtAio::Semaphore limit(4);
 * {
 *     auto permit = co_await limit.acquire(); // resumes on this thread's event loop
 *     co_await doWork();
 * } // permit released here, also when doWork() throws
 * \endcode
 *
 * A permit that must be given back elsewhere is detached (`permit.detach()`) and returned
 * with release().
 */
class QTAIO_CORE_EXPORT Semaphore : public QObject {
    Q_OBJECT
    //! How many permits may be held at once. Writable at run time; negative is rejected.
    Q_PROPERTY(int capacity READ capacity WRITE setCapacity NOTIFY capacityChanged)
    //! How many permits can be acquired now without waiting (never below 0).
    Q_PROPERTY(int available READ available NOTIFY availableChanged)
    //! How many permits are held.
    Q_PROPERTY(int held READ held NOTIFY heldChanged)
    //! How many acquirers are waiting.
    Q_PROPERTY(int waiting READ waiting NOTIFY waitingChanged)

public:
    //! Throws std::invalid_argument if \a capacity is negative.
    explicit Semaphore(int capacity, QObject *parent = nullptr);
    //! Acquirers still waiting end with CancelledError.
    ~Semaphore() override;

    //! \name Property accessors
    //!@{

    //! Getter of the property of the same name; thread-safe.
    [[nodiscard]] int capacity() const;
    //! Throws std::invalid_argument if \a capacity is negative. Raising it admits waiters.
    void setCapacity(int capacity);
    [[nodiscard]] int available() const;
    [[nodiscard]] int held() const;
    [[nodiscard]] int waiting() const;
    //!@}

    //! The awaitable that acquire() returns; `co_await` yields a SemaphorePermit.
    using AcquireOperation = detail::SemaphoreAcquire;

    //! Takes a permit if one is free and nobody waits; std::nullopt otherwise. Never waits.
    [[nodiscard]] std::optional<SemaphorePermit> tryAcquire();

    //! Waits for a permit: `co_await` yields a SemaphorePermit that gives it back when
    //! destroyed. Resumes on the awaiting thread through its event loop. Throws CancelledError
    //! if \a stop is requested first; a permit that is free at once is taken even then.
    [[nodiscard]] AcquireOperation acquire(std::stop_token stop = {});
    //! As acquire(std::stop_token), throwing TimeoutError if \a deadline passes first.
    [[nodiscard]] AcquireOperation acquire(Deadline deadline, std::stop_token stop = {});

    //! Blocks the calling thread (one without a running event loop) until a permit is taken,
    //! in the same FIFO as coroutine acquirers, and returns it. Throws CancelledError if
    //! \a stop is requested first.
    [[nodiscard]] SemaphorePermit acquireBlocking(std::stop_token stop = {});
    //! As acquireBlocking(std::stop_token), throwing TimeoutError if \a deadline passes first.
    [[nodiscard]] SemaphorePermit acquireBlocking(Deadline deadline, std::stop_token stop = {});

    //! Gives back \a n permits, handing them to waiters first. Never re-entrant: waiters
    //! resume later in their own threads. Throws std::invalid_argument if \a n < 1 and
    //! std::logic_error if fewer than \a n permits are held.
    void release(int n = 1);

Q_SIGNALS:
    //! \name Change signals
    //!@{

    //! Emitted in the home thread when the property of the same name changes.
    /*! Coalesced (one emission carrying the latest value) when the change was made on another
     * thread. */
    void capacityChanged(int capacity, QPrivateSignal);
    void availableChanged(int available, QPrivateSignal);
    void heldChanged(int held, QPrivateSignal);
    void waitingChanged(int waiting, QPrivateSignal);
    //!@}

protected:
    //! \cond INTERNAL
    bool event(QEvent *event) override;
    void connectNotify(const QMetaMethod &signal) override;
    void disconnectNotify(const QMetaMethod &signal) override;
    //! \endcond

private:
    friend class detail::SemaphoreAcquire;
    friend class detail::SemaphoreCore;
    void emitChanges();

    // Shared with suspended acquirers, which may outlive the Semaphore object.
    const std::shared_ptr<detail::SemaphoreCore> d;
};

void SemaphorePermit::release() noexcept
{
    if (Semaphore *semaphore = std::exchange(m_semaphore, nullptr))
        semaphore->release(1); // cannot throw: this permit is held, so held >= 1
}

} // namespace QtAio
