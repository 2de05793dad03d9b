// SPDX-License-Identifier: MIT
#pragma once

#include "qtaioinspector_export.h"

#include <QtCore/QAbstractListModel>
#include <QtCore/QList>
#include <QtCore/QVariantMap>
#include <QtQml/qqmlregistration.h>

#include <memory>

namespace QtAio {

//! A list model of every live QtAio primitive, sampled on a timer: the data behind the
//! Inspector's views.
/*!
 * One row per primitive that Inspection lists (constructing a model enables Inspection), in
 * the order they were created, whatever thread they live on. Every `interval` milliseconds the
 * model, in its own thread, visits the registry and reads each primitive's state through its
 * thread-safe property getters, by property name: rows appear and disappear as primitives are
 * created and destroyed, and each row keeps the last `historyLength` samples of every value
 * for charts (history()). A sample never takes a primitive's own lock for longer than one
 * getter does.
 *
 * Ids are doubles, as QML numbers are: exact up to 2^53 primitives.
 *
 * The values of a row (state(), history() keys), by kind:
 * - `Queue`: `size`, `maxSize`, `waitingGetters`, `waitingPutters`, `unfinishedTasks`,
 *   `highWaterMark`, `closed`, `throughput` (items taken per second); an AsyncQueue and a
 *   PriorityQueue also `oldestAge` (ms the oldest queued item has waited; a LifoQueue does
 *   not number its items), and a PriorityQueue, for every priority p seen queued (the row's
 *   `priorities`), `backlog[p]` (items queued with it), `oldestAge[p]`, and `waitP50[p]` and
 *   `waitP95[p]` (the median and 95th percentile of how long its queued items have waited:
 *   the jobs still waiting, which no count of taken items shows);
 * - `Latch`: `count`, `waiting`, `released`, `throughput` (count-downs per second);
 * - `Semaphore`: `capacity`, `available`, `held`, `waiting`;
 * - `Executor`: `limit`, `running`, `waiting` (tasks waiting for a slot), `completed`,
 *   `failed`, `cancelled`, `throughput` (tasks ended per second), `oldestRunningAge` (ms
 *   the task running longest has run).
 *
 * Ages come from Inspection::Details: a queue numbers its arrivals and an executor its task
 * starts anyway, and the model notes at each sample which number comes next, so an age is
 * exact to within one sampling interval and costs the primitives nothing between samples: the
 * numbers given out between two samples are taken as given out evenly over that interval (a
 * task started and still running between two samples reads about half the interval, not 0).
 * An item older than the first sample reads as old as that sample. The probe that reads them scans
 * the queue (or the executor's tasks) under the primitive's lock, as
 * PriorityQueue::sizeByPriority() does.
 */
class QTAIO_INSPECTOR_EXPORT InspectorModel : public QAbstractListModel {
    Q_OBJECT
    QML_ELEMENT
    //! Milliseconds between two samples (default 100; at least 10).
    Q_PROPERTY(int interval READ interval WRITE setInterval NOTIFY intervalChanged)
    //! How many samples each row keeps per value (default 300: 30 s at the default interval).
    Q_PROPERTY(
        int historyLength READ historyLength WRITE setHistoryLength NOTIFY historyLengthChanged)
    //! Whether the model samples (default true). A stopped model keeps its rows as they were.
    Q_PROPERTY(bool active READ isActive WRITE setActive NOTIFY activeChanged)
    //! The number of rows.
    Q_PROPERTY(int count READ count NOTIFY countChanged)
    //! How many samples were taken: changes once per sample.
    Q_PROPERTY(qint64 sampleCount READ sampleCount NOTIFY sampled)

public:
    //! The roles of a row.
    enum Role {
        IdRole = Qt::UserRole + 1, //!< `primitiveId`: Inspection's id of the primitive (a double)
        KindRole,                  //!< `kind`: "Queue", "Latch", "Semaphore" or "Executor"
        TypeNameRole,              //!< `typeName`: the class name, e.g. "QtAio::PriorityQueue"
        NameRole,                  //!< `name`: its objectName
        ThreadRole,                //!< `threadName`: its home thread ("main" for the GUI's)
        SummaryRole,               //!< `summary`: its state in a few words
        StateRole,                 //!< `values`: a map of every value of the latest sample
        PrimaryKeyRole,            //!< `primaryKey`: the value a sparkline shows
        ReferenceKeyRole,          //!< `referenceKey`: its bound (maxSize, capacity, limit) or ""
        EditableKeyRole,           //!< `editableKey`: the writable bound, or ""
        PrioritiesRole, //!< `priorities`: a PriorityQueue's priorities seen queued, in order
    };
    Q_ENUM(Role)

    //! Creates a sampling model and enables Inspection.
    explicit InspectorModel(QObject *parent = nullptr);
    ~InspectorModel() override;

    //! The number of rows (0 under a valid \a parent: the model is a flat list).
    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    //! The value of \a role (see Role; Qt::DisplayRole is the name) for the row of \a index.
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    //! The QML names of the roles (see Role).
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    //! See the property `interval`.
    [[nodiscard]] int interval() const;
    //! Sets the sampling interval in milliseconds (clamped to at least 10).
    void setInterval(int milliseconds);
    //! See the property `historyLength`.
    [[nodiscard]] int historyLength() const;
    //! Sets how many samples each row keeps (at least 2); a shorter length drops the oldest.
    void setHistoryLength(int samples);
    //! See the property `active`.
    [[nodiscard]] bool isActive() const;
    //! Starts or stops sampling.
    void setActive(bool active);
    //! The number of rows.
    [[nodiscard]] int count() const;
    //! See the property `sampleCount`.
    [[nodiscard]] qint64 sampleCount() const;

    //! The id of the first listed primitive whose objectName is \a name, or -1.
    Q_INVOKABLE double find(const QString &name) const;
    //! The row of the primitive \a id, or -1.
    Q_INVOKABLE int rowOf(double id) const;
    //! Every role of the primitive \a id's row by its QML name (`kind`, `name`, `values`,
    //! `priorities`, ...; see Role), or an empty map when it is not listed.
    Q_INVOKABLE QVariantMap entry(double id) const;
    //! The latest sampled values of the primitive \a id (empty when it is not listed).
    Q_INVOKABLE QVariantMap state(double id) const;
    //! The sampled history of the value \a key of the primitive \a id, oldest first (at most
    //! historyLength values; empty for an unknown id or key).
    Q_INVOKABLE QList<qreal> history(double id, const QString &key) const;
    //! Writes \a value to the property \a key (e.g. "limit", "maxSize", "capacity") of the
    //! primitive \a id, in the primitive's own thread. Returns false when the primitive is
    //! gone or the property is not writable; the next samples show the effect.
    Q_INVOKABLE bool write(double id, const QString &key, int value);
    //! Takes a sample now, in addition to the timer's.
    Q_INVOKABLE void sample();

Q_SIGNALS:
    //! A sample was taken (after the rows and their data were updated).
    void sampled();
    //! See the property `interval`.
    void intervalChanged();
    //! See the property `historyLength`.
    void historyLengthChanged();
    //! See the property `active`.
    void activeChanged();
    //! See the property `count`.
    void countChanged();

private:
    class Private;
    std::unique_ptr<Private> const d;
};

} // namespace QtAio
