// SPDX-License-Identifier: MIT
#include "serieschart.h"

#include "inspectormodel.h"
#include "valueformat.h"

#include <QtGui/QPainter>
#include <QtGui/QPainterPath>
#include <QtQuick/QQuickWindow>
#include <QtQuick/QSGFlatColorMaterial>
#include <QtQuick/QSGGeometryNode>
#include <QtQuick/QSGImageNode>
#include <QtQuick/QSGRendererInterface>

#include <algorithm>
#include <cmath>

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

SeriesChart::SeriesChart(QQuickItem *parent) : QQuickItem(parent)
{
    setFlag(ItemHasContents);
}

SeriesChart::~SeriesChart() = default;

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
    update();
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
    update();
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
    update();
    Q_EMIT gridColorChanged();
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
    update();
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
    update();
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

// The software scene graph (Qt Quick without a GPU, as on the offscreen platform) draws no
// custom geometry: there, the chart is painted into an image with QPainter.
QSGNode *SeriesChart::paintImageNode(QSGNode *oldNode)
{
    const qreal ratio = window()->effectiveDevicePixelRatio();
    const QSize pixels = (size() * ratio).toSize();
    if (pixels.isEmpty()) {
        delete oldNode;
        return nullptr;
    }
    QImage image(pixels, QImage::Format_ARGB32_Premultiplied);
    image.setDevicePixelRatio(ratio);
    image.fill(Qt::transparent);
    QPainter painter(&image);
    // Antialiasing for the wide lines of detail charts; thin sparklines cost less without.
    const bool smooth = m_lineWidth >= 2;
    painter.setRenderHint(QPainter::Antialiasing, smooth);
    const Mapper map{width(), std::ceil(m_lineWidth), height() - 1, m_yMax, m_span};
    painter.setPen(QPen(m_gridColor, 1));
    for (const qreal fraction : {0.0, 0.5, 1.0}) {
        const qreal y = std::round(map.bottom - fraction * (map.bottom - map.top)) - 0.5;
        painter.drawLine(QPointF(0, y), QPointF(width(), y));
    }
    const auto polyline = [&](const QList<qreal> &values) {
        QPolygonF points;
        for (qsizetype i = 0; i < values.size(); ++i)
            points.append(map.at(i, values.size(), values[i]));
        return points;
    };
    for (std::size_t i = 0; i < m_data.size(); ++i) {
        const QPolygonF points = polyline(m_data[i]);
        if (points.size() < 2)
            continue;
        QColor area = seriesColor(i);
        area.setAlphaF(0.18f);
        QPolygonF below = points;
        below.append(QPointF(points.last().x(), map.bottom));
        below.append(QPointF(points.first().x(), map.bottom));
        // The area without antialiasing: its edge is under the line, and it halves the cost.
        painter.setRenderHint(QPainter::Antialiasing, false);
        painter.setPen(Qt::NoPen);
        painter.setBrush(area);
        painter.drawPolygon(below);
        painter.setBrush(Qt::NoBrush);
        painter.setRenderHint(QPainter::Antialiasing, smooth);
        painter.setPen(
            QPen(seriesColor(i), m_lineWidth, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
        painter.drawPolyline(points);
    }
    // The reference, in pieces where it is set (> 0).
    painter.setPen(QPen(m_referenceColor, std::max<qreal>(1.5, m_lineWidth), Qt::DashLine));
    QPolygonF piece;
    for (qsizetype i = 0; i <= m_reference.size(); ++i) {
        if (i < m_reference.size() && m_reference[i] > 0) {
            piece.append(map.at(i, m_reference.size(), m_reference[i]));
            continue;
        }
        if (piece.size() >= 2)
            painter.drawPolyline(piece);
        piece.clear();
    }
    painter.end();

    auto *node = static_cast<QSGImageNode *>(oldNode);
    if (!node) {
        node = window()->createImageNode();
        node->setOwnsTexture(true);
    }
    node->setTexture(window()->createTextureFromImage(image));
    node->setRect(boundingRect());
    return node;
}

QSGNode *SeriesChart::updatePaintNode(QSGNode *oldNode, UpdatePaintNodeData *)
{
    if (window()->rendererInterface()->graphicsApi() == QSGRendererInterface::Software)
        return paintImageNode(oldNode);
    // Children: the grid, then an area and a line per series, then the reference on top.
    const int needed = 2 + 2 * int(m_data.size());
    QSGNode *root = oldNode;
    if (root && root->childCount() != needed) {
        delete root;
        root = nullptr;
    }
    if (!root) {
        root = new QSGNode;
        root->appendChildNode(makeNode(QSGGeometry::DrawTriangles));
        for (std::size_t i = 0; i < m_data.size(); ++i) {
            root->appendChildNode(makeNode(QSGGeometry::DrawTriangleStrip));
            root->appendChildNode(makeNode(QSGGeometry::DrawTriangleStrip));
        }
        root->appendChildNode(makeNode(QSGGeometry::DrawTriangles));
    }
    const Mapper map{width(), std::ceil(m_lineWidth), height() - 1, m_yMax, m_span};
    auto *child = static_cast<QSGGeometryNode *>(root->firstChild());
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
