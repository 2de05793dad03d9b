// SPDX-License-Identifier: MIT
#pragma once

#include <qtaio/qtaiocore_export.h>

#include <QtCore/QtGlobal>

#include <functional>
#include <vector>

QT_BEGIN_NAMESPACE
class QObject;
QT_END_NAMESPACE

namespace QtAio {

//! The opt-in registry of every live QtAio primitive in the process: what the QtAio Inspector
//! lists and samples.
/*!
 * Off by default, and then it costs a primitive nothing but one relaxed atomic load when it is
 * created. Once enabled (setEnabled(true), or the environment variable `QTAIO_INSPECTOR=1` at
 * start-up), every queue, latch, semaphore and executor created afterwards is listed from its
 * construction to its destruction, whatever thread it lives on. Primitives created before
 * stay unlisted.
 */
class QTAIO_CORE_EXPORT Inspection {
public:
    //! What a listed primitive is.
    enum class Kind {
        Queue,     //!< AsyncQueue, PriorityQueue or LifoQueue (an AsyncQueueBase)
        Latch,     //!< Latch
        Semaphore, //!< Semaphore
        Executor,  //!< TaskExecutor
    };

    //! What a primitive tells about itself beyond its properties, read under its own lock when
    //! an inspector samples it (see Primitive::probe). Nothing of it is kept or counted
    //! between samples: a queue and an executor number their arrivals and starts anyway, and
    //! an inspector turns those numbers into ages by noting, at each sample, which number
    //! came next (an age is then exact to within one sampling interval).
    struct Details {
        //! One priority of a PriorityQueue.
        struct Level {
            //! The priority (its rank in the order of priorities when it is not a number).
            double priority = 0;
            //! How many items with this priority are queued.
            int count = 0;
            //! The arrival number of the oldest of them (see `next`).
            quint64 oldest = 0;
            //! The arrival number at the median of their ages: half of them have waited longer
            //! than the item with that number. So a view shows the waits of the items still
            //! queued, which no count of taken items tells (0 when the queue does not number
            //! its arrivals).
            quint64 median = 0;
            //! The arrival number at the 95th percentile of their ages: 5% of them have waited
            //! longer than the item with that number (0 when the queue does not number its
            //! arrivals).
            quint64 p95 = 0;
        };
        //! Whether the primitive numbers its arrivals (an AsyncQueue, a PriorityQueue whose
        //! priorities compare without throwing) or its task starts (a TaskExecutor), so that
        //! `next`, `oldest`, a level's `oldest` and `oldestRunning` tell ages. A LifoQueue does
        //! not: the oldest of a stack is the one at its bottom, which nothing counts.
        bool numbered = false;
        //! The number the next arrival (a queue) or the next task start (a TaskExecutor) will
        //! get: every number below it was given out before this sample.
        quint64 next = 0;
        //! The arrival number of an AsyncQueue's oldest queued item (its head), or -1 when none
        //! is queued or the queue tells it per priority (`levels`).
        qint64 oldest = -1;
        //! A queue's items handed out since it was made: by get() and its forms, and by put()
        //! straight into a waiting getter's hands. -1 for the other kinds. A view's throughput
        //! comes from it, so that sampling a queue needs no connection to its signals.
        qint64 taken = -1;
        //! A PriorityQueue's queued items per priority, in priority order (a scan of the queue,
        //! as PriorityQueue::sizeByPriority() is).
        std::vector<Level> levels;
        //! A TaskExecutor's start number of the task that has been running longest, or -1
        //! when none runs.
        qint64 oldestRunning = -1;

        //! Back to "nothing told", keeping the levels' storage for the next sample.
        void reset() noexcept
        {
            numbered = false;
            next = 0;
            oldest = -1;
            taken = -1;
            levels.clear();
            oldestRunning = -1;
        }
    };
    //! Fills a Details of \a object; thread-safe (it takes the object's own lock).
    using Probe = void (*)(const QObject *object, Details &details);

    //! One listed primitive, as forEach() shows it.
    struct Primitive {
        //! Unique for the process's lifetime: an id is never reused, even after its primitive
        //! is gone.
        quint64 id = 0;
        //! What the primitive is.
        Kind kind = Kind::Queue;
        //! The primitive. Valid only during the forEach() visit that shows it.
        QObject *object = nullptr;
        //! Reads the primitive's Details, or null when it has none to tell. Call it only during
        //! the forEach() visit that shows the primitive.
        Probe probe = nullptr;
        //! The primitive's class as a user wrote it ("QtAio::PriorityQueue"), for the class
        //! templates whose QMetaObject names only their QObject base; null: use the
        //! QMetaObject's class name.
        const char *typeName = nullptr;
    };

    Inspection() = delete;

    //! Starts (or stops) listing primitives created from now on. Stopping forgets every
    //! listed primitive. Thread-safe.
    static void setEnabled(bool enabled);
    //! Whether primitives are being listed. Thread-safe.
    [[nodiscard]] static bool isEnabled() noexcept;

    //! Calls \a visit for every listed primitive, oldest first, while the registry is locked:
    //! a primitive is not destroyed during the call that shows it (its destructor waits), so
    //! \a visit may read its thread-safe getters from any thread. \a visit must not create or
    //! destroy a QtAio primitive, nor call forEach().
    static void forEach(const std::function<void(const Primitive &)> &visit);

    //! Changes whenever a primitive is listed or unlisted: a view compares it with the value
    //! it saw last to know whether its list is still current. Thread-safe.
    [[nodiscard]] static quint64 generation() noexcept;

    //! \cond INTERNAL
    // Called by every primitive's constructor (after it is complete) and destructor (first).
    static void add(QObject *object, Kind kind, const char *typeName = nullptr,
                    Probe probe = nullptr);
    static void remove(QObject *object) noexcept;
    //! \endcond
};

} // namespace QtAio
