// SPDX-License-Identifier: MIT
#pragma once

#include "qtaioinspector_export.h"

#include <QtCore/QPointer>
#include <QtGui/QColor>
#include <QtQml/qqmlregistration.h>
#include <QtQuick/QQuickItem>

#include <memory>
#include <vector>

namespace QtAio {

class InspectorModel;
namespace detail {
struct ChartImage;
}

//! A line chart of sampled values of one primitive, drawn with the Qt Quick scene graph.
/*!
 * Draws the history of the values `series` of the primitive `primitiveId` of `model`, the
 * newest sample at the right edge, each as a line over a translucent area, and the value
 * `referenceKey` (a bound such as maxSize or limit) as a dashed line drawn above the data.
 * The y-axis starts at 0 and ends at yMax: a round number at or above the largest value in
 * the visible window, the reference included, so that no part of the history is clipped.
 * It redraws once per sample of the model and costs the GUI thread one copy of the visible
 * history per redraw; labels are left to QML (yMax, format()). The software scene graph draws
 * no custom geometry: there the chart is painted into an image on a thread of its own, the
 * images of all charts of a window in one batch, following at most about ten samples per
 * second, and the window shows each image one frame after the sample it draws.
 */
class QTAIO_INSPECTOR_EXPORT SeriesChart : public QQuickItem {
    Q_OBJECT
    QML_ELEMENT
    //! The model whose samples are drawn.
    Q_PROPERTY(QtAio::InspectorModel *model READ model WRITE setModel NOTIFY modelChanged)
    //! The primitive (InspectorModel's `primitiveId`: a number, as in QML).
    Q_PROPERTY(double primitiveId READ primitiveId WRITE setPrimitiveId NOTIFY primitiveIdChanged)
    //! The keys of the values drawn as lines (see InspectorModel).
    Q_PROPERTY(QStringList series READ series WRITE setSeries NOTIFY seriesChanged)
    //! The line colours, one per series (the last one repeats).
    Q_PROPERTY(QVariantList colors READ colors WRITE setColors NOTIFY colorsChanged)
    //! The key of a bound drawn as a dashed line above the data; values <= 0 are not drawn.
    Q_PROPERTY(
        QString referenceKey READ referenceKey WRITE setReferenceKey NOTIFY referenceKeyChanged)
    //! The colour of the reference line.
    Q_PROPERTY(QColor referenceColor READ referenceColor WRITE setReferenceColor NOTIFY
                   referenceColorChanged)
    //! The colour of the grid lines (at 0, yMax / 2 and yMax).
    Q_PROPERTY(QColor gridColor READ gridColor WRITE setGridColor NOTIFY gridColorChanged)
    //! The colour filled behind the chart (default transparent). The colour the chart lies on,
    //! opaque, spares the software scene graph from drawing what the chart covers.
    Q_PROPERTY(QColor background READ background WRITE setBackground NOTIFY backgroundChanged)
    //! The line width in pixels (default 2).
    Q_PROPERTY(qreal lineWidth READ lineWidth WRITE setLineWidth NOTIFY lineWidthChanged)
    //! How many samples span the width (default 0: the model's historyLength).
    Q_PROPERTY(
        int visibleSamples READ visibleSamples WRITE setVisibleSamples NOTIFY visibleSamplesChanged)
    //! The unit of the values, for format(): "", "ms" or "/s".
    Q_PROPERTY(QString unit READ unit WRITE setUnit NOTIFY unitChanged)
    //! The top of the y-axis: a round number at or above every visible value.
    Q_PROPERTY(qreal yMax READ yMax NOTIFY yMaxChanged)
    //! The latest value of each series, in the order of `series`.
    Q_PROPERTY(QVariantList latest READ latest NOTIFY latestChanged)

public:
    //! Creates an empty chart.
    explicit SeriesChart(QQuickItem *parent = nullptr);
    ~SeriesChart() override;

    //! See the property `model`.
    [[nodiscard]] InspectorModel *model() const;
    //! Sets the model whose samples are drawn.
    void setModel(InspectorModel *model);
    //! See the property `primitiveId`.
    [[nodiscard]] double primitiveId() const;
    //! Sets the primitive whose samples are drawn.
    void setPrimitiveId(double id);
    //! See the property `series`.
    [[nodiscard]] QStringList series() const;
    //! Sets the keys of the values drawn.
    void setSeries(const QStringList &keys);
    //! See the property `colors`.
    [[nodiscard]] QVariantList colors() const;
    //! Sets the line colours.
    void setColors(const QVariantList &colors);
    //! See the property `referenceKey`.
    [[nodiscard]] QString referenceKey() const;
    //! Sets the key of the reference line ("" for none).
    void setReferenceKey(const QString &key);
    //! See the property `referenceColor`.
    [[nodiscard]] QColor referenceColor() const;
    //! Sets the colour of the reference line.
    void setReferenceColor(const QColor &color);
    //! See the property `gridColor`.
    [[nodiscard]] QColor gridColor() const;
    //! Sets the colour of the grid lines (transparent: none).
    void setGridColor(const QColor &color);
    //! See the property `background`.
    [[nodiscard]] QColor background() const;
    //! Sets the colour filled behind the chart (transparent: none).
    void setBackground(const QColor &color);
    //! See the property `lineWidth`.
    [[nodiscard]] qreal lineWidth() const;
    //! Sets the line width in pixels.
    void setLineWidth(qreal width);
    //! See the property `visibleSamples`.
    [[nodiscard]] int visibleSamples() const;
    //! Sets how many samples span the width (0: the model's historyLength).
    void setVisibleSamples(int samples);
    //! See the property `unit`.
    [[nodiscard]] QString unit() const;
    //! Sets the unit of the values.
    void setUnit(const QString &unit);
    //! See the property `yMax`.
    [[nodiscard]] qreal yMax() const;
    //! See the property `latest`.
    [[nodiscard]] QVariantList latest() const;

    //! \a value formatted for a label in this chart's unit (formatInspectorValue()).
    Q_INVOKABLE QString format(qreal value) const;

Q_SIGNALS:
    //! See the property `model`.
    void modelChanged();
    //! See the property `primitiveId`.
    void primitiveIdChanged();
    //! See the property `series`.
    void seriesChanged();
    //! See the property `colors`.
    void colorsChanged();
    //! See the property `referenceKey`.
    void referenceKeyChanged();
    //! See the property `referenceColor`.
    void referenceColorChanged();
    //! See the property `gridColor`.
    void gridColorChanged();
    //! See the property `background`.
    void backgroundChanged();
    //! See the property `lineWidth`.
    void lineWidthChanged();
    //! See the property `visibleSamples`.
    void visibleSamplesChanged();
    //! See the property `unit`.
    void unitChanged();
    //! See the property `yMax`.
    void yMaxChanged();
    //! See the property `latest`.
    void latestChanged();

protected:
    //! Builds the grid, the series and the reference line as scene-graph geometry.
    QSGNode *updatePaintNode(QSGNode *oldNode, UpdatePaintNodeData *data) override;

private:
    void refresh();
    void onSampled();
    [[nodiscard]] QColor seriesColor(std::size_t index) const;
    QSGNode *imageNode(QSGNode *oldNode);
    void changed();

    QPointer<InspectorModel> m_model;
    QMetaObject::Connection m_sampled;
    double m_id = 0;
    QStringList m_series;
    QVariantList m_colors;
    QString m_referenceKey;
    QColor m_referenceColor{0xc0, 0x39, 0x2b};
    QColor m_gridColor{0x80, 0x80, 0x80, 0x50};
    QColor m_background{Qt::transparent};
    qreal m_lineWidth = 2;
    int m_visibleSamples = 0;
    QString m_unit;
    qreal m_yMax = 1;
    QVariantList m_latest;
    // The visible samples, copied in the GUI thread, drawn in updatePaintNode().
    std::vector<QList<qreal>> m_data;
    QList<qreal> m_reference;
    int m_span = 2;
    // The software scene graph's image: the picture last handed to the painting thread, and
    // where that thread leaves the image (shared with it).
    quint64 m_generation = 0;
    std::shared_ptr<detail::ChartImage> m_image;
};

} // namespace QtAio
