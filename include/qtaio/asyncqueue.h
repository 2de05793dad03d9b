// SPDX-License-Identifier: MIT
#pragma once

#include <qtaio/asyncqueuebase.h>
#include <qtaio/deadline.h>
#include <qtaio/detail/simplequeue.h>
#include <qtaio/inspection.h>

namespace QtAio {

//! A first-in, first-out queue: the QtAio form of asyncio.Queue / mtaio's AsyncQueue.
/*!
 * All operations are thread-safe. Awaiting operations resume the awaiting coroutine on the
 * thread where it suspended, through that thread's event loop; they never run another
 * coroutine's code before returning. Waiting getters and putters are served in FIFO order.
 *
 * Every waiting operation has two forms, `op(args, std::stop_token = {})` and
 * `op(args, Deadline, std::stop_token = {})` (a Deadline is any std::chrono duration or a
 * QDeadlineTimer): TimeoutError when the deadline passes first, CancelledError when the stop
 * is requested first, QueueClosedError on a closed queue (for get, once it is drained).
 *
 * - `co_await q.put(item)` waits for room, then puts \a item. A put that fails leaves the
 *   caller's item untouched: it is moved only when the put is admitted, so the awaitable
 *   refers to the caller's item and is awaited in the expression that creates it.
 *   put(const T&) copies the item.
 * - `co_await q.get()` waits for an item and yields it (an item that is there at once is
 *   taken even when the stop was already requested).
 * - `co_await q.next()` yields `std::optional<T>`, empty once the queue is closed and drained:
 *   `while (auto item = co_await q.next()) { ... }`.
 * - `tryPut(item)` → `bool` and `tryGet()` → `std::optional<T>` never wait.
 * - `putBlocking(item)` and `getBlocking()` block a thread without a running event loop
 *   (thread-pool jobs, std::thread), in the same FIFO as coroutine waiters.
 *
 * \code
 * QtAio::AsyncQueue<QString> lines(100); // at most 100 queued; 0 means unbounded
 * // producer, any thread with an event loop:   co_await lines.put(line);
 * // producer, a thread-pool job:               lines.putBlocking(line, 2s);
 * // consumer coroutine:                        QString line = co_await lines.get();
 * \endcode
 */
template<typename T>
class AsyncQueue : public detail::SimpleQueue<T, detail::FifoStorage<T>> {
public:
    //! \a maxSize <= 0 means unbounded.
    explicit AsyncQueue(int maxSize = 0, QObject *parent = nullptr)
        : detail::SimpleQueue<T, detail::FifoStorage<T>>(maxSize, parent)
    {
        Inspection::add(this, Inspection::Kind::Queue, "QtAio::AsyncQueue",
                        [](const QObject *queue, Inspection::Details &details) {
                            detail::QueueAccess::core(*static_cast<const AsyncQueueBase *>(queue))
                                .describe(details, true);
                        });
    }
    //! Waiters still waiting end with CancelledError.
    ~AsyncQueue() { Inspection::remove(this); }
};

} // namespace QtAio
