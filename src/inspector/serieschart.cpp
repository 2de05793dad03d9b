// SPDX-License-Identifier: MIT
#include "serieschart.h"

#include "inspectormodel.h"
#include "valueformat.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QPointer>
#include <QtCore/QThreadPool>
#include <QtGui/QPainter>
#include <QtGui/QPainterPath>
#include <QtQuick/QQuickWindow>
#include <QtQuick/QSGFlatColorMaterial>
#include <QtQuick/QSGGeometryNode>
#include <QtQuick/QSGImageNode>
#include <QtQuick/QSGRendererInterface>

#include <algorithm>
#include <array>
#include <cmath>
#include <mutex>
#include <utility>

namespace QtAio {

namespace {

// The smallest of 1, 2, 5 × 10^n at or above `value` (at least 1): the top of an axis.
qreal roundUp(qreal value)
{
    if (!(value > 1))
        return 1;
    const qreal scale = std::pow(10.0, std::floor(std::log10(value)));
    for (const qreal step : {1.0, 2.0, 5.0, 10.0}) {
        if (step * scale >= value * (1 - 1e-9))
            return step * scale;
    }
    return 10 * scale;
}

QSGGeometryNode *makeNode(QSGGeometry::DrawingMode mode)
{
    auto *node = new QSGGeometryNode;
    auto *geometry = new QSGGeometry(QSGGeometry::defaultAttributes_Point2D(), 0);
    geometry->setDrawingMode(mode);
    geometry->setVertexDataPattern(QSGGeometry::StreamPattern);
    node->setGeometry(geometry);
    node->setFlag(QSGNode::OwnsGeometry);
    node->setMaterial(new QSGFlatColorMaterial);
    node->setFlag(QSGNode::OwnsMaterial);
    return node;
}

void setColor(QSGGeometryNode *node, const QColor &color)
{
    auto *material = static_cast<QSGFlatColorMaterial *>(node->material());
    if (material->color() != color) {
        material->setColor(color);
        node->markDirty(QSGNode::DirtyMaterial);
    }
}

// Points of one series in item coordinates, newest at the right edge.
struct Mapper {
    qreal width, top, bottom, yMax;
    int span;
    [[nodiscard]] QPointF at(qsizetype index, qsizetype count, qreal value) const
    {
        const qreal step = width / qreal(std::max(1, span - 1));
        const qreal x = width - qreal(count - 1 - index) * step;
        const qreal y = bottom - std::clamp(value / yMax, 0.0, 1.0) * (bottom - top);
        return {x, y};
    }
};

// A line of the given width as a triangle strip, each point offset along its normal.
void fillLine(QSGGeometryNode *node, const QList<qreal> &values, const Mapper &map, qreal width)
{
    QSGGeometry *geometry = node->geometry();
    const qsizetype n = values.size();
    geometry->allocate(n >= 2 ? int(2 * n) : 0);
    auto *v = geometry->vertexDataAsPoint2D();
    const qreal half = width / 2;
    for (qsizetype i = 0; n >= 2 && i < n; ++i) {
        const QPointF p = map.at(i, n, values[i]);
        const QPointF before =
            map.at(std::max<qsizetype>(0, i - 1), n, values[std::max<qsizetype>(0, i - 1)]);
        const QPointF after = map.at(std::min(n - 1, i + 1), n, values[std::min(n - 1, i + 1)]);
        QPointF direction = after - before;
        const qreal length = std::hypot(direction.x(), direction.y());
        direction = length > 0 ? direction / length : QPointF(1, 0);
        const QPointF normal(-direction.y() * half, direction.x() * half);
        v[2 * i].set(float(p.x() + normal.x()), float(p.y() + normal.y()));
        v[2 * i + 1].set(float(p.x() - normal.x()), float(p.y() - normal.y()));
    }
    node->markDirty(QSGNode::DirtyGeometry);
}

// The area between a series and the x-axis, as a triangle strip.
void fillArea(QSGGeometryNode *node, const QList<qreal> &values, const Mapper &map)
{
    QSGGeometry *geometry = node->geometry();
    const qsizetype n = values.size();
    geometry->allocate(n >= 2 ? int(2 * n) : 0);
    auto *v = geometry->vertexDataAsPoint2D();
    for (qsizetype i = 0; n >= 2 && i < n; ++i) {
        const QPointF p = map.at(i, n, values[i]);
        v[2 * i].set(float(p.x()), float(p.y()));
        v[2 * i + 1].set(float(p.x()), float(map.bottom));
    }
    node->markDirty(QSGNode::DirtyGeometry);
}

// A dashed line through the values, as separate quads (triangles); bounds <= 0 are skipped.
void fillDashes(QSGGeometryNode *node, const QList<qreal> &values, const Mapper &map, qreal width)
{
    constexpr qreal dash = 8, gap = 5;
    std::vector<QPointF> quads; // 4 corners per dash piece
    const qsizetype n = values.size();
    const qreal half = width / 2;
    for (qsizetype i = 0; i + 1 < n; ++i) {
        if (values[i] <= 0 || values[i + 1] <= 0)
            continue;
        const QPointF a = map.at(i, n, values[i]);
        const QPointF b = map.at(i + 1, n, values[i + 1]);
        if (std::fmod(std::max<qreal>(0, (a.x() + b.x()) / 2), dash + gap) > dash)
            continue;
        quads.insert(quads.end(), {QPointF(a.x(), a.y() - half), QPointF(a.x(), a.y() + half),
                                   QPointF(b.x(), b.y() - half), QPointF(b.x(), b.y() + half)});
        if (std::abs(b.y() - a.y()) > width) { // a step: its vertical edge
            const qreal top = std::min(a.y(), b.y()), bottom = std::max(a.y(), b.y());
            quads.insert(quads.end(),
                         {QPointF(b.x() - half, top), QPointF(b.x() + half, top),
                          QPointF(b.x() - half, bottom), QPointF(b.x() + half, bottom)});
        }
    }
    QSGGeometry *geometry = node->geometry();
    geometry->allocate(int(quads.size() / 4 * 6));
    auto *v = geometry->vertexDataAsPoint2D();
    for (std::size_t q = 0; q < quads.size() / 4; ++q) {
        const QPointF *c = &quads[4 * q];
        for (const int k : {0, 1, 2, 1, 3, 2})
            (v++)->set(float(c[k].x()), float(c[k].y()));
    }
    node->markDirty(QSGNode::DirtyGeometry);
}

// A filled rectangle as two triangles; none when `rect` is empty.
void fillRectangle(QSGGeometryNode *node, const QRectF &rect)
{
    const std::array corners{rect.topLeft(),  rect.topRight(),    rect.bottomLeft(),
                             rect.topRight(), rect.bottomRight(), rect.bottomLeft()};
    QSGGeometry *geometry = node->geometry();
    geometry->allocate(rect.isEmpty() ? 0 : int(corners.size()));
    auto *v = geometry->vertexDataAsPoint2D();
    for (int k = 0; k < geometry->vertexCount(); ++k)
        v[k].set(float(corners[std::size_t(k)].x()), float(corners[std::size_t(k)].y()));
    node->markDirty(QSGNode::DirtyGeometry);
}

// Horizontal grid lines at 0, half and full scale.
void fillGrid(QSGGeometryNode *node, const Mapper &map)
{
    QSGGeometry *geometry = node->geometry();
    geometry->allocate(18);
    auto *v = geometry->vertexDataAsPoint2D();
    for (const qreal fraction : {0.0, 0.5, 1.0}) {
        const float y = float(std::round(map.bottom - fraction * (map.bottom - map.top)));
        const float x1 = float(map.width);
        for (const auto &[x, dy] : {std::pair{0.0f, 0.0f},
                                    {x1, 0.0f},
                                    {0.0f, 1.0f},
                                    {x1, 0.0f},
                                    {x1, 1.0f},
                                    {0.0f, 1.0f}})
            (v++)->set(x, y - 0.5f + dy);
    }
    node->markDirty(QSGNode::DirtyGeometry);
}

// Everything a chart's image shows: a copy taken in the scene graph's sync, painted elsewhere.
struct ChartPicture {
    QSize pixels;
    qreal ratio = 1;
    qreal width = 0;
    qreal height = 0;
    qreal lineWidth = 2;
    qreal yMax = 1;
    int span = 2;
    std::vector<QList<qreal>> data;
    std::vector<QColor> colors; // one per series
    QList<qreal> reference;
    QColor referenceColor;
    QColor gridColor;
    QColor background;
};

// The image of a chart for the software scene graph, painted with QPainter (any thread).
QImage paintPicture(const ChartPicture &picture)
{
    // An opaque image when the background is: the scene graph then draws nothing beneath it.
    const bool opaque = picture.background.alpha() == 255;
    QImage image(picture.pixels,
                 opaque ? QImage::Format_RGB32 : QImage::Format_ARGB32_Premultiplied);
    image.setDevicePixelRatio(picture.ratio);
    image.fill(picture.background);
    QPainter painter(&image);
    const Mapper map{picture.width, std::ceil(picture.lineWidth), picture.height - 1, picture.yMax,
                     picture.span};
    // The grid as filled rows of pixels: no stroking.
    for (const qreal fraction : {0.0, 0.5, 1.0}) {
        const qreal y = std::round(map.bottom - fraction * (map.bottom - map.top)) - 1;
        painter.fillRect(QRectF(0, y, picture.width, 1), picture.gridColor);
    }
    // Antialiasing for the wide lines of detail charts; thin sparklines cost less without.
    const bool smooth = picture.lineWidth >= 2;
    const auto polyline = [&](const QList<qreal> &values) {
        QPolygonF points;
        points.reserve(values.size() + 2);
        for (qsizetype i = 0; i < values.size(); ++i)
            points.append(map.at(i, values.size(), values[i]));
        return points;
    };
    for (std::size_t i = 0; i < picture.data.size(); ++i) {
        QPolygonF points = polyline(picture.data[i]);
        if (points.size() < 2)
            continue;
        QColor area = picture.colors[i];
        area.setAlphaF(0.18f);
        // The area without antialiasing: its edge is under the line, and it halves the cost.
        painter.setRenderHint(QPainter::Antialiasing, false);
        painter.setPen(Qt::NoPen);
        painter.setBrush(area);
        points.append(QPointF(points.last().x(), map.bottom));
        points.append(QPointF(points.first().x(), map.bottom));
        painter.drawPolygon(points);
        points.resize(points.size() - 2);
        painter.setBrush(Qt::NoBrush);
        painter.setRenderHint(QPainter::Antialiasing, smooth);
        painter.setPen(
            QPen(picture.colors[i], picture.lineWidth, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
        painter.drawPolyline(points);
    }
    // The reference, in pieces where it is set (> 0).
    painter.setPen(
        QPen(picture.referenceColor, std::max<qreal>(1.5, picture.lineWidth), Qt::DashLine));
    const QList<qreal> &reference = picture.reference;
    QPolygonF piece;
    for (qsizetype i = 0; i <= reference.size(); ++i) {
        if (i < reference.size() && reference[i] > 0) {
            piece.append(map.at(i, reference.size(), reference[i]));
            continue;
        }
        if (piece.size() >= 2)
            painter.drawPolyline(piece);
        piece.clear();
    }
    return image;
}

} // namespace

namespace detail {

// Where the painting thread leaves a chart's image, shared by the chart and the batches that
// paint it, so that a chart may go while its image is painted.
struct ChartImage {
    SeriesChart *chart = nullptr; // GUI thread only; null once the chart is destroyed
    // Touched in the scene graph's sync only: what was last handed to the painter.
    quint64 generation = 0;
    QSize pixels;
    bool requested = false;
    QImage shown; // the image on screen, for a node made again (the scene graph was released)
    std::mutex mutex;
    QImage image; // painted and not yet shown (guarded by mutex)
};

} // namespace detail

namespace {

// Paints the software scene graph's chart images on a thread of its own, so that the GUI
// thread, where the application's coroutines resume, only shows them. The charts that change
// in one sync are painted as one batch and shown together, in one frame; while a batch is
// painted, newer pictures wait, the latest of each chart only.
class ChartPainter : public QObject {
public:
    // The painter of the application (created with the first chart, in the GUI thread).
    static ChartPainter *instance()
    {
        static QPointer<ChartPainter> painter;
        if (!painter && QCoreApplication::instance())
            painter = new ChartPainter(QCoreApplication::instance());
        return painter;
    }

    // Queues the picture of a chart (in the scene graph's sync, on the GUI or render thread).
    void submit(const std::shared_ptr<detail::ChartImage> &target, ChartPicture picture)
    {
        const std::scoped_lock lock(m_mutex);
        const auto same = [&](const Job &job) { return job.first == target; };
        if (const auto it = std::find_if(m_pending.begin(), m_pending.end(), same);
            it != m_pending.end())
            it->second = std::move(picture);
        else
            m_pending.emplace_back(target, std::move(picture));
        if (std::exchange(m_busy, true))
            return; // a flush is queued, or a batch is painted: it takes this one after
        QMetaObject::invokeMethod(this, &ChartPainter::paintPending, Qt::QueuedConnection);
    }

private:
    using Job = std::pair<std::shared_ptr<detail::ChartImage>, ChartPicture>;
    using Painted = std::vector<std::pair<std::shared_ptr<detail::ChartImage>, QImage>>;

    explicit ChartPainter(QObject *parent) : QObject(parent)
    {
        m_pool.setMaxThreadCount(1);
        m_pool.setExpiryTimeout(-1); // one thread for the application's lifetime
        m_pool.setObjectName(QStringLiteral("QtAio chart painter"));
    }

    // GUI thread: hands the pending pictures to the painting thread as one batch.
    void paintPending()
    {
        auto batch = std::make_shared<std::vector<Job>>();
        {
            const std::scoped_lock lock(m_mutex);
            if (m_pending.empty()) {
                m_busy = false;
                return;
            }
            batch->swap(m_pending);
        }
        m_pool.start([this, batch] {
            auto painted = std::make_shared<Painted>();
            for (const auto &[target, picture] : *batch)
                painted->emplace_back(target, paintPicture(picture));
            // Delivered in the GUI thread; dropped if the painter is destroyed first.
            QMetaObject::invokeMethod(
                this, [this, painted] { show(*painted); }, Qt::QueuedConnection);
        });
    }

    // GUI thread: leaves each image for its chart's next sync, then paints what came meanwhile.
    void show(Painted &painted)
    {
        for (auto &[target, image] : painted) {
            {
                const std::scoped_lock lock(target->mutex);
                target->image = std::move(image);
            }
            if (target->chart)
                target->chart->update();
        }
        paintPending();
    }

    std::mutex m_mutex;
    std::vector<Job> m_pending;
    bool m_busy = false; // a batch is queued or painted (guarded by m_mutex)
    QThreadPool m_pool;  // last: destroyed first, waiting for the batch it paints
};

// Assigns `value` to `member`; false when nothing changed (the setter returns early).
template<typename T>
bool change(T &member, const T &value)
{
    if (member == value)
        return false;
    member = value;
    return true;
}

} // namespace

SeriesChart::SeriesChart(QQuickItem *parent)
    : QQuickItem(parent), m_image(std::make_shared<detail::ChartImage>())
{
    setFlag(ItemHasContents);
    m_image->chart = this;
    ChartPainter::instance(); // created here, in the GUI thread
}

SeriesChart::~SeriesChart()
{
    m_image->chart = nullptr; // a batch being painted keeps the image and drops it
}

InspectorModel *SeriesChart::model() const
{
    return m_model;
}

void SeriesChart::setModel(InspectorModel *model)
{
    if (model == m_model)
        return;
    disconnect(m_sampled);
    m_model = model;
    if (model)
        m_sampled = connect(model, &InspectorModel::sampled, this, &SeriesChart::onSampled);
    refresh();
    Q_EMIT modelChanged();
}

double SeriesChart::primitiveId() const
{
    return m_id;
}

void SeriesChart::setPrimitiveId(double id)
{
    if (!change(m_id, id))
        return;
    refresh();
    Q_EMIT primitiveIdChanged();
}

QStringList SeriesChart::series() const
{
    return m_series;
}

void SeriesChart::setSeries(const QStringList &keys)
{
    if (!change(m_series, keys))
        return;
    refresh();
    Q_EMIT seriesChanged();
}

QVariantList SeriesChart::colors() const
{
    return m_colors;
}

void SeriesChart::setColors(const QVariantList &colors)
{
    if (!change(m_colors, colors))
        return;
    changed();
    Q_EMIT colorsChanged();
}

QString SeriesChart::referenceKey() const
{
    return m_referenceKey;
}

void SeriesChart::setReferenceKey(const QString &key)
{
    if (!change(m_referenceKey, key))
        return;
    refresh();
    Q_EMIT referenceKeyChanged();
}

QColor SeriesChart::referenceColor() const
{
    return m_referenceColor;
}

void SeriesChart::setReferenceColor(const QColor &color)
{
    if (!change(m_referenceColor, color))
        return;
    changed();
    Q_EMIT referenceColorChanged();
}

QColor SeriesChart::gridColor() const
{
    return m_gridColor;
}

void SeriesChart::setGridColor(const QColor &color)
{
    if (!change(m_gridColor, color))
        return;
    changed();
    Q_EMIT gridColorChanged();
}

QColor SeriesChart::background() const
{
    return m_background;
}

void SeriesChart::setBackground(const QColor &color)
{
    if (!change(m_background, color))
        return;
    changed();
    Q_EMIT backgroundChanged();
}

qreal SeriesChart::lineWidth() const
{
    return m_lineWidth;
}

void SeriesChart::setLineWidth(qreal width)
{
    if (qFuzzyCompare(width, m_lineWidth))
        return;
    m_lineWidth = width;
    changed();
    Q_EMIT lineWidthChanged();
}

int SeriesChart::visibleSamples() const
{
    return m_visibleSamples;
}

void SeriesChart::setVisibleSamples(int samples)
{
    if (!change(m_visibleSamples, samples))
        return;
    refresh();
    Q_EMIT visibleSamplesChanged();
}

QString SeriesChart::unit() const
{
    return m_unit;
}

void SeriesChart::setUnit(const QString &unit)
{
    if (!change(m_unit, unit))
        return;
    Q_EMIT unitChanged();
}

qreal SeriesChart::yMax() const
{
    return m_yMax;
}

QVariantList SeriesChart::latest() const
{
    return m_latest;
}

QString SeriesChart::format(qreal value) const
{
    return formatInspectorValue(value, m_unit);
}

void SeriesChart::refresh()
{
    m_span = std::max(2, m_visibleSamples > 0 ? m_visibleSamples
                         : m_model            ? m_model->historyLength()
                                              : 300);
    const auto visible = [&](const QString &key) {
        QList<qreal> values =
            m_model && !key.isEmpty() ? m_model->history(m_id, key) : QList<qreal>{};
        if (values.size() > m_span)
            values.remove(0, values.size() - m_span);
        return values;
    };
    m_data.clear();
    qreal top = 0;
    QVariantList latest;
    for (const QString &key : std::as_const(m_series)) {
        m_data.push_back(visible(key));
        for (const qreal value : std::as_const(m_data.back()))
            top = std::max(top, value);
        latest.append(m_data.back().isEmpty() ? QVariant() : QVariant(m_data.back().last()));
    }
    m_reference = visible(m_referenceKey);
    for (const qreal value : std::as_const(m_reference))
        top = std::max(top, value);
    const qreal yMax = roundUp(top);
    if (yMax != m_yMax) {
        m_yMax = yMax;
        Q_EMIT yMaxChanged();
    }
    if (latest != m_latest) {
        m_latest = latest;
        Q_EMIT latestChanged();
    }
    changed();
}

// The software scene graph paints a chart into an image and composes the window on the CPU,
// in the GUI thread: there a chart follows at most about ten samples a second, the same ones
// for every chart (by the model's sample count), so that all charts repaint in one frame. At
// the default interval of 100 ms that is every sample. GPU backends follow every sample.
void SeriesChart::onSampled()
{
    const QQuickWindow *w = window();
    if (w && w->rendererInterface()->graphicsApi() == QSGRendererInterface::Software) {
        const qint64 every =
            std::max<qint64>(1, (80 + m_model->interval() - 1) / m_model->interval());
        if (m_model->sampleCount() % every != 0)
            return;
    }
    refresh();
}

QColor SeriesChart::seriesColor(std::size_t index) const
{
    if (m_colors.isEmpty())
        return QColor(0x29, 0x80, 0xb9);
    return m_colors.value(std::min<qsizetype>(qsizetype(index), m_colors.size() - 1))
        .value<QColor>();
}

void SeriesChart::changed()
{
    ++m_generation;
    update();
}

// The software scene graph (Qt Quick without a GPU, as on the offscreen platform) draws no
// custom geometry: there the chart shows an image painted with QPainter by the ChartPainter.
// A new picture is handed over when anything drawn changed (the generation) or the size did;
// the image shown is the latest one painted.
QSGNode *SeriesChart::imageNode(QSGNode *oldNode)
{
    const qreal ratio = window()->effectiveDevicePixelRatio();
    const QSize pixels = (size() * ratio).toSize();
    if (pixels.isEmpty()) {
        delete oldNode;
        return nullptr;
    }
    detail::ChartImage &target = *m_image;
    ChartPainter *painter = ChartPainter::instance();
    if (painter &&
        (!target.requested || target.generation != m_generation || target.pixels != pixels)) {
        target.requested = true;
        target.generation = m_generation;
        target.pixels = pixels;
        ChartPicture picture;
        picture.pixels = pixels;
        picture.ratio = ratio;
        picture.width = width();
        picture.height = height();
        picture.lineWidth = m_lineWidth;
        picture.yMax = m_yMax;
        picture.span = m_span;
        picture.data = m_data;
        picture.reference = m_reference;
        picture.referenceColor = m_referenceColor;
        picture.gridColor = m_gridColor;
        picture.background = m_background;
        for (std::size_t i = 0; i < m_data.size(); ++i)
            picture.colors.push_back(seriesColor(i));
        painter->submit(m_image, std::move(picture));
    }
    QImage image;
    {
        const std::scoped_lock lock(target.mutex);
        std::swap(image, target.image);
    }
    auto *node = static_cast<QSGImageNode *>(oldNode);
    if (!image.isNull())
        target.shown = image;
    else if (!node)
        image = target.shown;
    if (!image.isNull()) {
        if (!node) {
            node = window()->createImageNode();
            node->setOwnsTexture(true);
        }
        node->setTexture(window()->createTextureFromImage(image));
    }
    if (node)
        node->setRect(boundingRect());
    return node;
}

QSGNode *SeriesChart::updatePaintNode(QSGNode *oldNode, UpdatePaintNodeData *)
{
    if (window()->rendererInterface()->graphicsApi() == QSGRendererInterface::Software)
        return imageNode(oldNode);
    // Children: the background, the grid, an area and a line per series, the reference on top.
    const int needed = 3 + 2 * int(m_data.size());
    QSGNode *root = oldNode;
    if (root && root->childCount() != needed) {
        delete root;
        root = nullptr;
    }
    if (!root) {
        root = new QSGNode;
        root->appendChildNode(makeNode(QSGGeometry::DrawTriangles));
        root->appendChildNode(makeNode(QSGGeometry::DrawTriangles));
        for (std::size_t i = 0; i < m_data.size(); ++i) {
            root->appendChildNode(makeNode(QSGGeometry::DrawTriangleStrip));
            root->appendChildNode(makeNode(QSGGeometry::DrawTriangleStrip));
        }
        root->appendChildNode(makeNode(QSGGeometry::DrawTriangles));
    }
    const Mapper map{width(), std::ceil(m_lineWidth), height() - 1, m_yMax, m_span};
    auto *child = static_cast<QSGGeometryNode *>(root->firstChild());
    setColor(child, m_background);
    fillRectangle(child, m_background.alpha() > 0 ? boundingRect() : QRectF());
    child = static_cast<QSGGeometryNode *>(child->nextSibling());
    setColor(child, m_gridColor);
    fillGrid(child, map);
    for (std::size_t i = 0; i < m_data.size(); ++i) {
        const QColor color = seriesColor(i);
        QColor area = color;
        area.setAlphaF(0.18f);
        child = static_cast<QSGGeometryNode *>(child->nextSibling());
        setColor(child, area);
        fillArea(child, m_data[i], map);
        child = static_cast<QSGGeometryNode *>(child->nextSibling());
        setColor(child, color);
        fillLine(child, m_data[i], map, m_lineWidth);
    }
    child = static_cast<QSGGeometryNode *>(child->nextSibling());
    setColor(child, m_referenceColor);
    fillDashes(child, m_reference, map, std::max<qreal>(1.5, m_lineWidth));
    return root;
}

} // namespace QtAio
