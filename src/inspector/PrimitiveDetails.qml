// SPDX-License-Identifier: MIT
import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import QtAio.Inspector

//! One primitive of an InspectorModel in detail: its name and thread, an editor for its bound
//! (limit, maxSize or capacity), every value of the latest sample, and charts of its history.
//! InspectorView shows the selected primitive with it; an application may place several.
Item {
    id: details

    //! The model whose samples are shown.
    required property InspectorModel model
    //! The primitive (InspectorModel's `primitiveId`), or -1.
    property real primitiveId: -1
    //! The colours.
    property InspectorTheme theme: InspectorTheme {}
    //! The colour the charts are filled with: the colour of what lies behind them, or
    //! transparent. Opaque, it spares the software scene graph from drawing beneath the charts.
    property color chartBackground: "transparent"
    //! Whether the editor of the bound is shown (when the primitive has one).
    property bool editable: true
    //! The primitive's row, as InspectorModel.entry() gives it; {} when there is none.
    property var entry: ({})
    readonly property bool present: entry.kind !== undefined

    //! A value of the latest sample, formatted for a label (ages in ms read as durations).
    function valueText(key, value) {
        if (typeof value === "boolean")
            return value ? qsTr("yes") : qsTr("no");
        if (value === undefined)
            return "";
        const duration = key.indexOf("Age") >= 0 || key.startsWith("waitP");
        return duration ? durationFormatter.format(value) : countFormatter.format(value);
    }
    //! The charts of the primitive: title, series keys, their labels, reference key, unit.
    function charts() {
        const values = entry.values || {};
        const levels = (entry.priorities || []).map(p => ({ key: String(p), label: "P" + p }));
        switch (entry.kind) {
        case "Queue": {
            const charts = [{ title: qsTr("Depth (size) against maxSize"), series: ["size"], labels: ["size"], reference: "maxSize", unit: "" }];
            if (levels.length === 0 && values.oldestAge !== undefined)
                charts.push({ title: qsTr("Oldest waiting item"), series: ["oldestAge"], labels: ["age"], reference: "", unit: "ms" });
            if (levels.length > 0) {
                charts.push({ title: qsTr("Oldest waiting item per priority"), series: levels.map(l => "oldestAge[" + l.key + "]"),
                              labels: levels.map(l => l.label), reference: "", unit: "ms" });
                charts.push({ title: qsTr("Backlog per priority"), series: levels.map(l => "backlog[" + l.key + "]"),
                              labels: levels.map(l => l.label), reference: "", unit: "" });
            }
            charts.push({ title: qsTr("Items taken per second"), series: ["throughput"], labels: ["taken"], reference: "", unit: "/s" });
            charts.push({ title: qsTr("Waiting getters and blocked putters"), series: ["waitingGetters", "waitingPutters"],
                          labels: ["getters", "putters"], reference: "", unit: "" });
            return charts;
        }
        case "Executor": {
            const charts = [{ title: qsTr("Running against limit"), series: ["running"], labels: ["running"], reference: "limit", unit: "" }];
            charts.push({ title: qsTr("Tasks ended per second"), series: ["throughput"], labels: ["ended"], reference: "", unit: "/s" });
            charts.push({ title: qsTr("Waiting for a slot"), series: ["waiting"], labels: ["waiting"], reference: "", unit: "" });
            if (values.oldestRunningAge !== undefined)
                charts.push({ title: qsTr("Longest-running task"), series: ["oldestRunningAge"], labels: ["age"], reference: "", unit: "ms" });
            return charts;
        }
        case "Semaphore":
            return [{ title: qsTr("Held against capacity"), series: ["held"], labels: ["held"], reference: "capacity", unit: "" },
                    { title: qsTr("Waiting"), series: ["waiting"], labels: ["waiting"], reference: "", unit: "" }];
        case "Latch":
            return [{ title: qsTr("Count"), series: ["count"], labels: ["count"], reference: "", unit: "" },
                    { title: qsTr("Count-downs per second"), series: ["throughput"], labels: ["per second"], reference: "", unit: "/s" },
                    { title: qsTr("Waiting"), series: ["waiting"], labels: ["waiting"], reference: "", unit: "" }];
        }
        return [];
    }
    function refresh() {
        entry = model.entry(primitiveId);
        // The charts are made again only when what they show changes, not at every sample.
        const values = entry.values || {};
        const shape = [entry.kind, entry.priorities, values.oldestRunningAge !== undefined, values.oldestAge !== undefined].join("/");
        if (shape !== chartShape) {
            chartShape = shape;
            chartSpecs = present ? charts().map(chart => Object.assign(chart, {
                view: details, theme: details.theme, inspector: details.model
            })) : [];
        }
        editor.load();
    }
    property string chartShape: ""
    property var chartSpecs: []

    onPrimitiveIdChanged: refresh()
    Component.onCompleted: refresh()
    Connections {
        target: details.model
        function onSampled() { details.refresh() }
    }

    // Formatters only: charts that draw nothing.
    SeriesChart {
        id: countFormatter
        visible: false
    }
    SeriesChart {
        id: durationFormatter
        visible: false
        unit: "ms"
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 6
        visible: details.present

        RowLayout {
            Layout.fillWidth: true
            spacing: 10
            Column {
                Layout.fillWidth: true
                Label {
                    width: parent.width
                    text: details.entry.name ? details.entry.name : qsTr("unnamed %1").arg(String(details.entry.kind).toLowerCase())
                    font.pixelSize: 16
                    font.bold: true
                    color: details.theme.text
                    elide: Text.ElideRight
                }
                Label {
                    width: parent.width
                    text: qsTr("%1 on thread %2").arg(details.entry.typeName).arg(details.entry.threadName)
                    font.pixelSize: 12
                    color: details.theme.secondaryText
                    elide: Text.ElideRight
                }
            }
            Label {
                visible: editor.visible
                text: details.entry.editableKey || ""
                font.pixelSize: 13
                color: details.theme.secondaryText
            }
            SpinBox {
                id: editor
                objectName: "boundEditor"
                visible: details.editable && details.present && details.entry.editableKey !== ""
                from: 0
                to: 1000000
                editable: true
                font.pixelSize: 13
                implicitWidth: 120
                property real forId: -1
                // Follows the sampled value until the user changes it, then keeps the user's
                // value until it is applied or another primitive is shown.
                property bool edited: false
                onValueModified: edited = true
                function load() {
                    if (!details.present || details.entry.editableKey === "")
                        return;
                    if (forId !== details.primitiveId)
                        edited = false;
                    forId = details.primitiveId;
                    if (!edited)
                        value = details.entry.values[details.entry.editableKey] || 0;
                }
            }
            Button {
                visible: editor.visible
                text: qsTr("Apply")
                font.pixelSize: 13
                onClicked: {
                    details.model.write(editor.forId, details.entry.editableKey, editor.value);
                    editor.edited = false;
                }
            }
        }

        // Every value of the latest sample but the per-priority ones, which have their charts.
        Label {
            Layout.fillWidth: true
            wrapMode: Text.WordWrap
            textFormat: Text.StyledText
            font.pixelSize: 13
            color: details.theme.text
            text: {
                const values = details.entry.values || {};
                return Object.keys(values).filter(key => key.indexOf("[") < 0)
                    .map(key => key + "&nbsp;<b>" + details.valueText(key, values[key]).replace(/ /g, "&nbsp;") + "</b>").join(" &nbsp; ");
            }
        }

        // The waits of the items still queued, per priority: a starving priority reads as
        // waiting longest, where percentiles of the items taken would show it as the fastest.
        Label {
            objectName: "queuedWaits"
            Layout.fillWidth: true
            visible: (details.entry.priorities || []).length > 0
            wrapMode: Text.WordWrap
            textFormat: Text.StyledText
            font.pixelSize: 12
            color: details.theme.text
            text: {
                const values = details.entry.values || {};
                const theme = details.theme;
                const levels = (details.entry.priorities || []).map((priority, i) => {
                    const waits = ["waitP50", "waitP95", "oldestAge"].map(key => {
                        const name = key + "[" + priority + "]";
                        return details.valueText(name, values[name]).replace(/ /g, "&nbsp;");
                    });
                    return "<font color=\"" + theme.series[i % theme.series.length] + "\">■&nbsp;P" + priority + "</font>&nbsp;"
                           + waits.join("&nbsp;/&nbsp;");
                });
                return "<b>" + qsTr("Wait of the queued items") + "</b> " + qsTr("(p50 / p95 / oldest)") + " &nbsp;"
                       + levels.join(" &nbsp; ");
            }
        }

        Repeater {
            // A delegate is a component of its own: what it needs comes with its model entry.
            model: details.chartSpecs
            delegate: ColumnLayout {
                id: panel
                required property var modelData
                Layout.fillWidth: true
                Layout.fillHeight: true
                spacing: 2

                Label {
                    Layout.fillWidth: true
                    textFormat: Text.StyledText
                    wrapMode: Text.WordWrap
                    font.pixelSize: 12
                    color: panel.modelData.theme.text
                    // The title, then each series' latest value in its colour, then the bound.
                    text: {
                        const spec = panel.modelData;
                        const theme = spec.theme;
                        let text = "<b>" + spec.title + "</b>";
                        for (let i = 0; i < spec.series.length; ++i) {
                            const colour = theme.series[i % theme.series.length];
                            const value = chart.latest.length > i ? chart.format(chart.latest[i]) : "";
                            text += " &nbsp;<font color=\"" + colour + "\">■&nbsp;" + spec.labels[i] + "&nbsp;" + value.replace(/ /g, "&nbsp;") + "</font>";
                        }
                        if (spec.reference !== "") {
                            text += " &nbsp;<font color=\"" + theme.reference + "\">-&nbsp;-&nbsp;" + spec.reference + "&nbsp;"
                                    + spec.view.valueText(spec.reference, (spec.view.entry.values || {})[spec.reference]) + "</font>";
                        }
                        return text;
                    }
                }

                Item {
                    Layout.fillWidth: true
                    Layout.fillHeight: true
                    Layout.minimumHeight: 44

                    // Labels of the grid lines at yMax, yMax / 2 and 0.
                    Label {
                        x: 0
                        width: 52
                        y: chart.y - height / 2
                        horizontalAlignment: Text.AlignRight
                        text: chart.format(chart.yMax)
                        font.pixelSize: 11
                        color: panel.modelData.theme.secondaryText
                    }
                    Label {
                        x: 0
                        width: 52
                        y: chart.y + chart.height / 2 - height / 2
                        horizontalAlignment: Text.AlignRight
                        text: chart.format(chart.yMax / 2)
                        font.pixelSize: 11
                        color: panel.modelData.theme.secondaryText
                    }
                    Label {
                        x: 0
                        width: 52
                        y: chart.y + chart.height - height / 2
                        horizontalAlignment: Text.AlignRight
                        text: "0"
                        font.pixelSize: 11
                        color: panel.modelData.theme.secondaryText
                    }

                    SeriesChart {
                        id: chart
                        anchors.left: parent.left
                        anchors.leftMargin: 58
                        anchors.right: parent.right
                        anchors.top: parent.top
                        anchors.bottom: parent.bottom
                        anchors.topMargin: 6
                        anchors.bottomMargin: 14
                        model: panel.modelData.inspector
                        primitiveId: panel.modelData.view.primitiveId
                        series: panel.modelData.series
                        referenceKey: panel.modelData.reference
                        unit: panel.modelData.unit
                        colors: panel.modelData.theme.series
                        referenceColor: panel.modelData.theme.reference
                        gridColor: panel.modelData.theme.grid
                        background: panel.modelData.view.chartBackground
                    }
                    Label {
                        anchors.left: chart.left
                        anchors.top: chart.bottom
                        text: "−" + panel.modelData.view.historyText
                        font.pixelSize: 11
                        color: panel.modelData.theme.secondaryText
                    }
                    Label {
                        anchors.right: chart.right
                        anchors.top: chart.bottom
                        text: qsTr("now")
                        font.pixelSize: 11
                        color: panel.modelData.theme.secondaryText
                    }
                }
            }
        }
    }

    //! How far back the charts reach, e.g. "30 s".
    readonly property string historyText: durationFormatter.format(model.historyLength * model.interval)

    Label {
        anchors.centerIn: parent
        visible: !details.present
        text: qsTr("Select a primitive")
        color: details.theme.secondaryText
        font.pixelSize: 14
    }
}
