// SPDX-License-Identifier: MIT
#pragma once

#include <qtaio/asyncqueuebase.h>
#include <qtaio/deadline.h>
#include <qtaio/detail/simplequeue.h>
#include <qtaio/inspection.h>

namespace QtAio {

//! A last-in, first-out queue (a stack): the QtAio form of asyncio.LifoQueue.
/*!
 * The same interface and guarantees as AsyncQueue<T>; get() yields the item put last.
 * Waiting getters and putters are still served in FIFO order among themselves.
 */
template<typename T>
class LifoQueue : public detail::SimpleQueue<T, detail::LifoStorage<T>> {
public:
    //! \a maxSize <= 0 means unbounded.
    explicit LifoQueue(int maxSize = 0, QObject *parent = nullptr)
        : detail::SimpleQueue<T, detail::LifoStorage<T>>(maxSize, parent)
    {
        Inspection::add(this, Inspection::Kind::Queue, "QtAio::LifoQueue",
                        [](const QObject *queue, Inspection::Details &details) {
                            detail::QueueAccess::core(*static_cast<const AsyncQueueBase *>(queue))
                                .describe(details, false);
                        });
    }
    //! Waiters still waiting end with CancelledError.
    ~LifoQueue() { Inspection::remove(this); }
};

} // namespace QtAio
