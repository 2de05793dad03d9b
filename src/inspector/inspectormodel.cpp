// SPDX-License-Identifier: MIT
#include "inspectormodel.h"
#include "valueformat.h"

#include <qtaio/inspection.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QHash>
#include <QtCore/QMetaMethod>
#include <QtCore/QMetaProperty>
#include <QtCore/QPointer>
#include <QtCore/QThread>
#include <QtCore/QTimer>

#include <algorithm>
#include <array>
#include <deque>
#include <utility>
#include <vector>

namespace QtAio {

namespace {

// One value of a kind: its key in the model, which is also the name of the property that
// holds it.
struct ValueSpec {
    const char *key;
};

// What the model reads per kind. `throughput` is derived, not read.
struct KindSpec {
    const char *name;
    std::initializer_list<ValueSpec> values;
    const char *primary;
    const char *reference;
    const char *editable;
};

const KindSpec &specOf(Inspection::Kind kind)
{
    static const KindSpec queue{"Queue",
                                {{"size"},
                                 {"maxSize"},
                                 {"waitingGetters"},
                                 {"waitingPutters"},
                                 {"unfinishedTasks"},
                                 {"highWaterMark"},
                                 {"closed"}},
                                "size",
                                "maxSize",
                                "maxSize"};
    static const KindSpec latch{"Latch", {{"count"}, {"waiting"}, {"released"}}, "count", "", ""};
    static const KindSpec semaphore{"Semaphore",
                                    {{"capacity"}, {"available"}, {"held"}, {"waiting"}},
                                    "held",
                                    "capacity",
                                    "capacity"};
    static const KindSpec executor{
        "Executor",
        {{"limit"}, {"running"}, {"waiting"}, {"completed"}, {"failed"}, {"cancelled"}},
        "running",
        "limit",
        "limit"};
    switch (kind) {
    case Inspection::Kind::Queue:
        return queue;
    case Inspection::Kind::Latch:
        return latch;
    case Inspection::Kind::Semaphore:
        return semaphore;
    case Inspection::Kind::Executor:
        break;
    }
    return executor;
}

// A fixed-capacity ring of samples, oldest first.
class Ring {
public:
    explicit Ring(int capacity) : m_data(std::size_t(capacity)) {}
    void push(double value)
    {
        m_data[(m_head + m_size) % m_data.size()] = value;
        if (m_size < m_data.size())
            ++m_size;
        else
            m_head = (m_head + 1) % m_data.size();
    }
    [[nodiscard]] QList<qreal> toList() const
    {
        QList<qreal> out;
        out.reserve(qsizetype(m_size));
        for (std::size_t i = 0; i < m_size; ++i)
            out.append(m_data[(m_head + i) % m_data.size()]);
        return out;
    }
    void resize(int capacity)
    {
        const QList<qreal> kept = toList();
        m_data.assign(std::size_t(capacity), 0.0);
        m_head = m_size = 0;
        for (qsizetype i = std::max<qsizetype>(0, kept.size() - capacity); i < kept.size(); ++i)
            push(kept[i]);
    }

private:
    std::vector<double> m_data;
    std::size_t m_head = 0;
    std::size_t m_size = 0;
};

struct Series {
    QString key;
    int property = -1; // index in the primitive's meta-object; -1: derived or absent
    bool flag = false;
    Ring ring;
    double latest = 0;
};

// When each number a primitive gives out (a queue's arrivals, an executor's task starts) was
// given out, from the samples alone: one mark per sample at which the next number changed. The
// numbers from one mark's `next` up to the following mark's were given out between the sample
// before that mark (`since`) and the mark itself. Without any timestamp in the primitive, an age
// is estimated from there, as if those numbers were given out evenly over that interval: it is
// off by at most one sampling interval, and never shrinks while its item stays.
class Marks {
public:
    void note(qint64 now, quint64 next)
    {
        const qint64 since = std::exchange(m_lastSample, now);
        if (!m_marks.empty() && m_marks.back().next == next)
            return;
        m_marks.push_back({now, next, since < 0 ? now : since});
        if (m_marks.size() <= capacity)
            return;
        // Full: the older half keeps every second entry, so that old ages lose precision
        // before recent ones do. A mark whose predecessor goes spans the interval from the
        // predecessor before it.
        std::deque<Mark> thinned;
        const std::size_t half = m_marks.size() / 2;
        for (std::size_t i = 0; i < m_marks.size(); ++i) {
            if (i < half && i % 2 == 1)
                continue;
            thinned.push_back(m_marks[i]);
            const bool predecessorGone = i > 0 && i - 1 < half && (i - 1) % 2 == 1;
            if (predecessorGone)
                thinned.back().since = thinned[thinned.size() - 2].time;
        }
        m_marks.swap(thinned);
    }
    //! The age in ms at \a now of the item numbered \a number; at least the age of the first
    //! sample when it is older than all of them, and 0 when it is not given out yet.
    [[nodiscard]] double age(quint64 number, qint64 now) const
    {
        const auto it = std::upper_bound(m_marks.begin(), m_marks.end(), number,
                                         [](quint64 n, const Mark &mark) { return n < mark.next; });
        if (it == m_marks.end())
            return 0.0;
        if (it == m_marks.begin())
            return double(now - it->time);
        // Given out in (since, time], as the (offset + 1/2)-th of `count` evenly spread ones.
        const quint64 first = std::prev(it)->next;
        const double offset = double(number - first) + 0.5;
        const double count = double(it->next - first);
        const double given = double(it->since) + double(it->time - it->since) * offset / count;
        return std::max(0.0, double(now) - given);
    }

private:
    struct Mark {
        qint64 time;  // the sample that saw `next`
        quint64 next; // the next number at that sample
        qint64 since; // the sample before it (or, once thinned, the previous mark's)
    };
    static constexpr std::size_t capacity = 4096;
    std::deque<Mark> m_marks;
    qint64 m_lastSample = -1;
};

// The values a PriorityQueue has per priority: its backlog, and the waits of its queued items
// (the oldest's, the median and the 95th percentile).
// (The probe writes them by position: keep this order.)
constexpr std::array levelValues{QLatin1String("backlog"), QLatin1String("oldestAge"),
                                 QLatin1String("waitP50"), QLatin1String("waitP95")};

// The key of a per-priority value: "backlog[2]", "oldestAge[2]".
QString levelKey(QLatin1String name, double priority)
{
    return name + QLatin1Char('[') + QString::number(priority) + QLatin1Char(']');
}

struct Row {
    quint64 id = 0;
    Inspection::Kind kind = Inspection::Kind::Queue;
    QString typeName;
    QString name;
    QString thread;
    bool sameThread = false;
    std::vector<Series> series;
    std::deque<std::pair<qint64, double>> totals; // (ms, cumulative events) over ~1 s
    double totalsBase = 0;                        // a latch's count at the previous sample
    QString editable;
    QVariantMap state;
    QString summary;
    Inspection::Probe probe = nullptr;
    Marks marks;
    std::vector<double> priorities; // of a PriorityQueue: every priority seen queued, in order
    // For each of `priorities`: the index in `series` of its first levelValues series (the
    // others follow it in levelValues' order), so that a sample builds no key.
    std::vector<std::size_t> levelSeries;
    qint64 samples = 0;

    Series *find(QStringView key)
    {
        for (auto &s : series) {
            if (s.key == key)
                return &s;
        }
        return nullptr;
    }
    void set(QStringView key, double value)
    {
        if (Series *s = find(key))
            s->latest = value;
    }
    double value(QStringView key)
    {
        const Series *s = find(key);
        return s ? s->latest : 0.0;
    }
};

// A primitive id given as a QML number; 0 (no primitive: ids start at 1) when it is none.
quint64 asId(double id)
{
    return id >= 1 && id < 9007199254740992.0 ? quint64(id) : 0;
}

} // namespace

class InspectorModel::Private {
public:
    explicit Private(InspectorModel *owner) : q(owner) {}

    InspectorModel *const q;
    QTimer timer;
    QElapsedTimer clock;
    int historyLength = 300;
    qint64 samples = 0;
    std::vector<std::unique_ptr<Row>> rows;
    QHash<quint64, int> rowById;
    QHash<const QThread *, int> threadNumbers;
    Inspection::Details details; // reused by every probe: no allocation per sample

    void reindex()
    {
        rowById.clear();
        for (int i = 0; i < int(rows.size()); ++i)
            rowById.insert(rows[std::size_t(i)]->id, i);
    }

    QString threadName(QThread *thread)
    {
        if (!thread)
            return QStringLiteral("none");
        // Before its name: Qt 6.8 names the main thread "Qt mainThread".
        if (QCoreApplication::instance() && thread == QCoreApplication::instance()->thread())
            return QStringLiteral("main");
        QString name = thread->objectName();
        if (!name.isEmpty())
            return name;
        auto it = threadNumbers.constFind(thread);
        if (it == threadNumbers.cend())
            it = threadNumbers.insert(thread, int(threadNumbers.size()) + 1);
        return QStringLiteral("thread #%1").arg(*it);
    }

    // Called in a forEach() visit: only the object's thread-safe getters.
    std::unique_ptr<Row> makeRow(const Inspection::Primitive &primitive)
    {
        auto row = std::make_unique<Row>();
        row->id = primitive.id;
        row->kind = primitive.kind;
        const QMetaObject *meta = primitive.object->metaObject();
        row->typeName =
            QString::fromLatin1(primitive.typeName ? primitive.typeName : meta->className());
        const KindSpec &spec = specOf(primitive.kind);
        for (const ValueSpec &value : spec.values) {
            Series s{QString::fromLatin1(value.key), meta->indexOfProperty(value.key), false,
                     Ring(historyLength)};
            if (s.property >= 0)
                s.flag = meta->property(s.property).metaType().id() == QMetaType::Bool;
            row->series.push_back(std::move(s));
        }
        if (primitive.kind != Inspection::Kind::Semaphore)
            row->series.push_back({QStringLiteral("throughput"), -1, false, Ring(historyLength)});
        const int editable = meta->indexOfProperty(spec.editable);
        if (editable >= 0 && meta->property(editable).isWritable())
            row->editable = QString::fromLatin1(spec.editable);
        row->probe = primitive.probe;
        if (row->probe) {
            // Ages only where the primitive numbers what it gives out (not a LifoQueue).
            details.reset();
            row->probe(primitive.object, details);
            if (details.numbered) {
                const bool queue = primitive.kind == Inspection::Kind::Queue;
                row->series.push_back(
                    {queue ? QStringLiteral("oldestAge") : QStringLiteral("oldestRunningAge"), -1,
                     false, Ring(historyLength)});
            }
        }
        QThread *thread = primitive.object->thread();
        row->thread = threadName(thread);
        row->sameThread = thread == q->thread();
        row->name = primitive.object->objectName();
        return row;
    }

    // Called in a forEach() visit.
    void read(Row &row, QObject *object, qint64 now)
    {
        // objectName() is not thread-safe: a primitive of another thread is named once, right
        // after its construction, so its name is read until it has one and then kept.
        if (row.sameThread || row.name.isEmpty())
            row.name = object->objectName();
        const QMetaObject *meta = object->metaObject();
        for (Series &s : row.series) {
            if (s.property >= 0)
                s.latest = meta->property(s.property).read(object).toDouble();
        }
        // The Details first: a queue's throughput comes from its count of items taken.
        details.reset();
        if (row.probe)
            probe(row, object, now);
        double total = -1;
        switch (row.kind) {
        case Inspection::Kind::Queue:
            if (details.taken >= 0)
                total = double(details.taken);
            break;
        case Inspection::Kind::Latch:
            // Count-downs: the count only falls.
            total = row.totals.empty() ? 0.0
                                       : row.totals.back().second +
                                             std::max(0.0, row.totalsBase - row.value(u"count"));
            row.totalsBase = row.value(u"count");
            break;
        case Inspection::Kind::Executor:
            total = row.value(u"completed") + row.value(u"failed") + row.value(u"cancelled");
            break;
        case Inspection::Kind::Semaphore:
            break;
        }
        if (total >= 0) {
            row.totals.emplace_back(now, total);
            while (row.totals.size() > 2 && now - row.totals[1].first >= 1000)
                row.totals.pop_front();
            const auto &[firstTime, firstTotal] = row.totals.front();
            if (Series *s = row.find(u"throughput")) {
                s->latest =
                    now > firstTime ? (total - firstTotal) * 1000.0 / double(now - firstTime) : 0;
            }
        }
        for (Series &s : row.series)
            s.ring.push(s.latest);
        ++row.samples;
    }

    // Called in a forEach() visit, with `details` reset: the primitive's Details, under its
    // own lock.
    void probe(Row &row, QObject *object, qint64 now)
    {
        row.probe(object, details);
        row.marks.note(now, details.next);
        if (row.kind == Inspection::Kind::Executor) {
            if (Series *s = row.find(u"oldestRunningAge"))
                s->latest = details.oldestRunning < 0
                                ? 0
                                : row.marks.age(quint64(details.oldestRunning), now);
            return;
        }
        // A priority seen before and not queued now reads 0.
        for (const std::size_t first : row.levelSeries) {
            for (std::size_t i = 0; i < levelValues.size(); ++i)
                row.series[first + i].latest = 0;
        }
        double oldest = 0;
        for (const Inspection::Details::Level &level : details.levels) {
            const auto at =
                std::lower_bound(row.priorities.begin(), row.priorities.end(), level.priority);
            const auto position = at - row.priorities.begin();
            if (at == row.priorities.end() || *at != level.priority) {
                // A priority seen for the first time: its history starts with zeros.
                row.priorities.insert(at, level.priority);
                row.levelSeries.insert(row.levelSeries.begin() + position, row.series.size());
                for (const QLatin1String name : levelValues) {
                    Series series{levelKey(name, level.priority), -1, false, Ring(historyLength)};
                    for (qint64 i = 0; i < std::min<qint64>(row.samples, historyLength); ++i)
                        series.ring.push(0);
                    row.series.push_back(std::move(series));
                }
            }
            // Ages need numbered arrivals (`next` 0: the queue does not number them).
            const bool aged = details.numbered && details.next > 0 && level.count > 0;
            const auto ageOf = [&](quint64 number) {
                return aged ? row.marks.age(number, now) : 0.0;
            };
            const double age = ageOf(level.oldest);
            Series *values = &row.series[row.levelSeries[std::size_t(position)]];
            values[0].latest = level.count;         // backlog
            values[1].latest = age;                 // oldestAge
            values[2].latest = ageOf(level.median); // waitP50
            values[3].latest = ageOf(level.p95);    // waitP95
            oldest = std::max(oldest, age);
        }
        if (details.numbered && details.oldest >= 0)
            oldest = std::max(oldest, row.marks.age(quint64(details.oldest), now));
        row.set(u"oldestAge", oldest);
    }

    void describe(Row &row)
    {
        QVariantMap state;
        for (const Series &s : row.series) {
            if (s.flag)
                state.insert(s.key, s.latest != 0);
            else
                state.insert(s.key, s.latest);
        }
        row.state = state;
        const auto n = [&](QStringView key) { return QString::number(qint64(row.value(key))); };
        switch (row.kind) {
        case Inspection::Kind::Queue:
            row.summary = row.value(u"maxSize") > 0
                              ? n(u"size") + QLatin1String(" / ") + n(u"maxSize")
                              : n(u"size") + QLatin1String(" queued");
            if (row.value(u"waitingPutters") > 0)
                row.summary +=
                    QStringLiteral(" · ") + n(u"waitingPutters") + QLatin1String(" blocked");
            if (row.value(u"oldestAge") >= 500) {
                row.summary += QStringLiteral(" · oldest ") +
                               formatInspectorValue(row.value(u"oldestAge"), QStringLiteral("ms"));
            }
            if (row.value(u"closed") != 0)
                row.summary += QLatin1String(" · closed");
            break;
        case Inspection::Kind::Latch:
            row.summary = row.value(u"count") > 0 ? QLatin1String("count ") + n(u"count")
                                                  : QStringLiteral("released");
            break;
        case Inspection::Kind::Semaphore:
            row.summary =
                n(u"held") + QLatin1String(" / ") + n(u"capacity") + QLatin1String(" held");
            break;
        case Inspection::Kind::Executor:
            row.summary =
                n(u"running") +
                (row.value(u"limit") > 0 ? QLatin1String(" / ") + n(u"limit") : QString()) +
                QLatin1String(" running");
            if (row.value(u"waiting") > 0)
                row.summary += QStringLiteral(" · ") + n(u"waiting") + QLatin1String(" waiting");
            break;
        }
        if (row.value(u"waiting") > 0 && row.kind != Inspection::Kind::Executor)
            row.summary += QStringLiteral(" · ") + n(u"waiting") + QLatin1String(" waiting");
    }

    void sample()
    {
        const qint64 now = clock.elapsed();
        std::vector<std::unique_ptr<Row>> added;
        std::vector<bool> seen(rows.size(), false);
        // The visit runs under the registry's lock: it only reads getters and builds rows; the
        // model's signals (and the bindings they run) wait until the lock is released.
        Inspection::forEach([&](const Inspection::Primitive &primitive) {
            const auto it = rowById.constFind(primitive.id);
            if (it != rowById.cend()) {
                seen[std::size_t(*it)] = true;
                read(*rows[std::size_t(*it)], primitive.object, now);
            } else {
                auto row = makeRow(primitive);
                read(*row, primitive.object, now);
                added.push_back(std::move(row));
            }
        });
        const int before = int(rows.size());
        for (int i = int(rows.size()) - 1; i >= 0; --i) {
            if (seen[std::size_t(i)])
                continue;
            int first = i;
            while (first > 0 && !seen[std::size_t(first - 1)])
                --first;
            q->beginRemoveRows({}, first, i);
            rows.erase(rows.begin() + first, rows.begin() + i + 1);
            q->endRemoveRows();
            i = first;
        }
        if (!added.empty()) {
            const int first = int(rows.size());
            q->beginInsertRows({}, first, first + int(added.size()) - 1);
            for (auto &row : added)
                rows.push_back(std::move(row));
            q->endInsertRows();
        }
        reindex();
        for (auto &row : rows)
            describe(*row);
        if (!rows.empty()) {
            Q_EMIT q->dataChanged(q->index(0), q->index(int(rows.size()) - 1),
                                  {NameRole, SummaryRole, StateRole, PrioritiesRole});
        }
        ++samples;
        if (int(rows.size()) != before)
            Q_EMIT q->countChanged();
        Q_EMIT q->sampled();
    }

    Row *rowFor(double id) const
    {
        const auto it = rowById.constFind(asId(id));
        return it == rowById.cend() ? nullptr : rows[std::size_t(*it)].get();
    }
};

InspectorModel::InspectorModel(QObject *parent)
    : QAbstractListModel(parent), d(std::make_unique<Private>(this))
{
    Inspection::setEnabled(true);
    d->clock.start();
    d->timer.setInterval(100);
    connect(&d->timer, &QTimer::timeout, this, [this] { d->sample(); });
    d->timer.start();
    // The first sample at once, so that a view is not empty for one interval.
    QMetaObject::invokeMethod(
        this, [this] { d->sample(); }, Qt::QueuedConnection);
}

InspectorModel::~InspectorModel() = default;

int InspectorModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(d->rows.size());
}

QVariant InspectorModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &row = *d->rows[std::size_t(index.row())];
    const KindSpec &spec = specOf(row.kind);
    switch (role) {
    case IdRole:
        return double(row.id);
    case KindRole:
        return QString::fromLatin1(spec.name);
    case TypeNameRole:
        return row.typeName;
    case Qt::DisplayRole:
    case NameRole:
        return row.name;
    case ThreadRole:
        return row.thread;
    case SummaryRole:
        return row.summary;
    case StateRole:
        return row.state;
    case PrimaryKeyRole:
        return QString::fromLatin1(spec.primary);
    case ReferenceKeyRole:
        return QString::fromLatin1(spec.reference);
    case EditableKeyRole:
        return row.editable;
    case PrioritiesRole: {
        QVariantList priorities;
        for (const double priority : row.priorities)
            priorities.append(priority);
        return priorities;
    }
    default:
        return {};
    }
}

QHash<int, QByteArray> InspectorModel::roleNames() const
{
    return {{IdRole, "primitiveId"},
            {KindRole, "kind"},
            {TypeNameRole, "typeName"},
            {NameRole, "name"},
            {ThreadRole, "threadName"},
            {SummaryRole, "summary"},
            {StateRole, "values"},
            {PrimaryKeyRole, "primaryKey"},
            {ReferenceKeyRole, "referenceKey"},
            {EditableKeyRole, "editableKey"},
            {PrioritiesRole, "priorities"}};
}

int InspectorModel::interval() const
{
    return d->timer.interval();
}

void InspectorModel::setInterval(int milliseconds)
{
    milliseconds = std::max(10, milliseconds);
    if (milliseconds == d->timer.interval())
        return;
    d->timer.setInterval(milliseconds);
    Q_EMIT intervalChanged();
}

int InspectorModel::historyLength() const
{
    return d->historyLength;
}

void InspectorModel::setHistoryLength(int samples)
{
    samples = std::max(2, samples);
    if (samples == d->historyLength)
        return;
    d->historyLength = samples;
    for (auto &row : d->rows) {
        for (Series &s : row->series)
            s.ring.resize(samples);
    }
    Q_EMIT historyLengthChanged();
}

bool InspectorModel::isActive() const
{
    return d->timer.isActive();
}

void InspectorModel::setActive(bool active)
{
    if (active == d->timer.isActive())
        return;
    if (active)
        d->timer.start();
    else
        d->timer.stop();
    Q_EMIT activeChanged();
}

int InspectorModel::count() const
{
    return int(d->rows.size());
}

qint64 InspectorModel::sampleCount() const
{
    return d->samples;
}

int InspectorModel::rowOf(double id) const
{
    return d->rowById.value(asId(id), -1);
}

double InspectorModel::find(const QString &name) const
{
    for (const auto &row : d->rows) {
        if (row->name == name)
            return double(row->id);
    }
    return -1;
}

QVariantMap InspectorModel::entry(double id) const
{
    const int row = rowOf(id);
    if (row < 0)
        return {};
    QVariantMap entry;
    const QModelIndex index = this->index(row);
    const QHash<int, QByteArray> roles = roleNames();
    for (auto it = roles.cbegin(); it != roles.cend(); ++it)
        entry.insert(QString::fromLatin1(it.value()), data(index, it.key()));
    return entry;
}

QVariantMap InspectorModel::state(double id) const
{
    const Row *row = d->rowFor(id);
    return row ? row->state : QVariantMap{};
}

QList<qreal> InspectorModel::history(double id, const QString &key) const
{
    Row *row = d->rowFor(id);
    if (!row)
        return {};
    const Series *s = row->find(key);
    return s ? s->ring.toList() : QList<qreal>{};
}

bool InspectorModel::write(double id, const QString &key, int value)
{
    bool written = false;
    const QByteArray name = key.toLatin1();
    Inspection::forEach([&](const Inspection::Primitive &primitive) {
        if (primitive.id != asId(id))
            return;
        const QMetaObject *meta = primitive.object->metaObject();
        const int index = meta->indexOfProperty(name.constData());
        if (index < 0 || !meta->property(index).isWritable())
            return;
        // Queued even in this thread: the setter emits signals, whose slots must not run
        // under the registry's lock. The event dies with the object.
        QObject *object = primitive.object;
        written = QMetaObject::invokeMethod(
            object, [object, name, value] { object->setProperty(name.constData(), value); },
            Qt::QueuedConnection);
    });
    return written;
}

void InspectorModel::sample()
{
    d->sample();
}

} // namespace QtAio
