// SPDX-License-Identifier: MIT
import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import QtAio
import QtAio.Inspector
import QtAioDemo

ApplicationWindow {
    id: window
    required property Workload workload
    //! The queue and the executor of the workload, as a QML front end declares them: the
    //! controls below bind to their maxSize and limit; the workload feeds and drains them.
    readonly property PriorityQueue jobQueue: PriorityQueue {
        objectName: "jobs"
        maxSize: 200
    }
    readonly property TaskExecutor jobExecutor: TaskExecutor {
        objectName: "consumers"
        limit: 8
    }

    width: 1280
    height: 800
    visible: true
    color: theme.background
    title: qsTr("QtAio demo — the Inspector on a live workload")

    readonly property InspectorTheme theme: InspectorTheme {}
    readonly property var priorityNames: ["P0 urgent", "P1 high", "P2 normal", "P3 bulk"]

    // The demo's own samples of the queue and the executor; the Inspector's views draw them.
    InspectorModel {
        id: inspector
        objectName: "inspector"
        interval: 100
        historyLength: 200 // 20 s
    }
    // Formatters only: charts that draw nothing.
    SeriesChart {
        id: durationFormat
        visible: false
        unit: "ms"
    }
    SeriesChart {
        id: rateFormat
        visible: false
        unit: "/s"
    }

    RowLayout {
        anchors.fill: parent
        anchors.margins: 8
        spacing: 8

        // --- Controls ---------------------------------------------------------------------
        Rectangle {
            Layout.preferredWidth: Math.max(250, Math.min(330, window.width * 0.22))
            Layout.fillHeight: true
            color: window.theme.panel
            border.color: window.theme.border
            radius: 4

            Flickable {
                id: controlsView
                anchors.fill: parent
                anchors.margins: 12
                contentHeight: controls.implicitHeight
                clip: true
                boundsBehavior: Flickable.StopAtBounds

                // A Column, not a layout: its rows get the panel's width whatever their content.
                Column {
                    id: controls
                    width: controlsView.width
                    spacing: 6

                    Label {
                        width: parent.width
                        text: qsTr("QtAio live workload")
                        color: window.theme.text; font.pixelSize: 17; font.bold: true
                    }
                    Label {
                        width: parent.width
                        wrapMode: Text.WordWrap
                        color: window.theme.secondaryText; font.pixelSize: 12
                        text: qsTr("A producer thread fills the PriorityQueue “jobs”; the TaskExecutor “consumers” runs each job under its limit. Lower priorities go first: P3 waits while others are queued.")
                    }


                    GridLayout {
                        width: parent.width
                        columns: 2
                        columnSpacing: 10
                        rowSpacing: 2
                        Label { text: qsTr("Produced"); color: window.theme.secondaryText; font.pixelSize: 12 }
                        Label {
                            Layout.fillWidth: true
                            wrapMode: Text.WordWrap
                            font.pixelSize: 12
                            color: window.theme.text
                            text: qsTr("%1 of %2 requested").arg(rateFormat.format(window.workload.producedRate))
                                  .arg(rateFormat.format(window.workload.producerRate))
                        }
                        Label { text: qsTr("Producer"); color: window.theme.secondaryText; font.pixelSize: 12 }
                        Label {
                            Layout.fillWidth: true
                            font.pixelSize: 12
                            // Sampled: the queue's waitingPutters changes with every job at saturation.
                            readonly property int blockedPercent: Math.round(window.workload.producerBlocked * 100)
                            wrapMode: Text.WordWrap
                            font.bold: blockedPercent > 0
                            color: blockedPercent > 0 ? window.theme.reference : window.theme.text
                            text: blockedPercent > 0 ? qsTr("blocked %1% of the time (queue full)").arg(blockedPercent)
                                                     : qsTr("putting")
                        }
                        Label { text: qsTr("Consumed"); color: window.theme.secondaryText; font.pixelSize: 12 }
                        Label {
                            Layout.fillWidth: true
                            wrapMode: Text.WordWrap
                            font.pixelSize: 12
                            color: window.theme.text
                            text: qsTr("%1 of %2 ideal").arg(rateFormat.format(window.workload.throughput))
                                  .arg(rateFormat.format(window.workload.idealThroughput))
                        }
                        Label { text: qsTr("Phase"); color: window.theme.secondaryText; font.pixelSize: 12 }
                        Label {
                            Layout.fillWidth: true
                            font.pixelSize: 12
                            color: window.theme.text
                            text: qsTr("%1 · latch %2 of %3 left").arg(window.workload.phase)
                                  .arg(window.workload.batchRemaining).arg(window.workload.batchSize)
                        }
                    }

                    Label {
                        width: parent.width
                        wrapMode: Text.WordWrap
                        text: qsTr("Wait per priority, queued jobs included")
                        color: window.theme.text; font.pixelSize: 13; font.bold: true
                    }
                    GridLayout {
                        width: parent.width
                        columns: 4
                        columnSpacing: 8
                        rowSpacing: 1
                        Label { text: ""; font.pixelSize: 12 }
                        Label { text: "p50"; color: window.theme.secondaryText; font.pixelSize: 12 }
                        Label { text: "p95"; color: window.theme.secondaryText; font.pixelSize: 12 }
                        Label { text: qsTr("oldest"); color: window.theme.secondaryText; font.pixelSize: 12 }
                        Repeater {
                            // One label per cell: the priority, then its p50, p95 and oldest wait.
                            model: Array.from({ length: window.priorityNames.length * 4 }, (_, cell) => ({
                                level: Math.floor(cell / 4), column: cell % 4,
                                name: window.priorityNames[Math.floor(cell / 4)].split(" ")[0],
                                workload: window.workload, format: durationFormat,
                                color: cell % 4 === 0 ? window.theme.series[Math.floor(cell / 4)] : window.theme.text
                            }))
                            delegate: Label {
                                id: cell
                                required property var modelData
                                readonly property var waits: [cell.modelData.workload.waitP50, cell.modelData.workload.waitP95,
                                                              cell.modelData.workload.oldestWait]
                                font.pixelSize: 12
                                font.bold: cell.modelData.column === 0
                                color: cell.modelData.color
                                text: cell.modelData.column === 0 ? cell.modelData.name
                                    : cell.modelData.format.format(cell.waits[cell.modelData.column - 1][cell.modelData.level] || 0)
                            }
                        }
                    }

                    Rectangle { width: parent.width; implicitHeight: 1; color: window.theme.border }

                    ControlSlider {
                        width: parent.width
                        label: qsTr("Producer rate"); unit: "jobs/s"
                        from: 10; to: 3000; stepSize: 10
                        value: window.workload.producerRate
                        onMoved: v => window.workload.producerRate = v
                    }
                    ControlSlider {
                        width: parent.width
                        label: qsTr("Queue maxSize"); unit: "jobs"
                        from: 10; to: 1000; stepSize: 10
                        value: window.jobQueue.maxSize
                        onMoved: v => window.jobQueue.maxSize = v
                    }
                    ControlSlider {
                        width: parent.width
                        label: qsTr("Executor limit"); unit: "tasks"
                        from: 1; to: 64; stepSize: 1
                        value: window.jobExecutor.limit
                        onMoved: v => window.jobExecutor.limit = v
                    }
                    ControlSlider {
                        width: parent.width
                        label: qsTr("Work per job"); unit: "ms"
                        from: 2; to: 500; stepSize: 2
                        value: window.workload.workMs
                        onMoved: v => window.workload.workMs = v
                    }

                    Label { text: qsTr("Priority mix (weights)"); color: window.theme.text; font.pixelSize: 13 }
                    Repeater {
                        // Everything a row needs comes with its model entry: a delegate is a
                        // component of its own and reaches nothing of the window by id.
                        model: window.priorityNames.map((name, level) => ({
                            name: name, color: window.theme.series[level], workload: window.workload,
                            textColor: window.theme.text
                        }))
                        delegate: RowLayout {
                            id: mixRow
                            width: mixRow.parent ? mixRow.parent.width : 0
                            required property int index
                            required property var modelData
                            Rectangle { implicitWidth: 10; implicitHeight: 10; radius: 5; color: mixRow.modelData.color }
                            Label {
                                text: mixRow.modelData.name
                                color: mixRow.modelData.textColor; font.pixelSize: 12
                                Layout.preferredWidth: 70
                            }
                            Slider {
                                id: mixSlider
                                Layout.fillWidth: true
                                implicitWidth: 60
                                from: 0; to: 10; stepSize: 1
                                value: mixRow.modelData.workload.priorityMix[mixRow.index]
                                onMoved: {
                                    const mix = mixRow.modelData.workload.priorityMix
                                    mix[mixRow.index] = mixSlider.value
                                    mixRow.modelData.workload.priorityMix = mix
                                }
                            }
                            Label {
                                text: mixRow.modelData.workload.priorityMix[mixRow.index]
                                color: mixRow.modelData.textColor; font.pixelSize: 12
                                Layout.preferredWidth: 18
                            }
                        }
                    }

                    RowLayout {
                        width: parent.width
                        Button {
                            Layout.fillWidth: true
                            text: window.workload.paused ? qsTr("Resume") : qsTr("Pause")
                            onClicked: window.workload.paused = !window.workload.paused
                        }
                        Button {
                            Layout.fillWidth: true
                            text: qsTr("Burst +300")
                            onClicked: window.workload.burst(300)
                        }
                    }
                }
            }
        }

        // --- The Inspector's views -------------------------------------------------------
        ColumnLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            spacing: 0

            TabBar {
                id: tabs
                Layout.fillWidth: true
                TabButton { text: qsTr("Queue and executor") }
                TabButton { text: qsTr("All primitives (Inspector)") }
            }
            StackLayout {
                Layout.fillWidth: true
                Layout.fillHeight: true
                currentIndex: tabs.currentIndex

                RowLayout {
                    spacing: 8
                    Repeater {
                        model: [
                            { name: window.jobQueue.objectName, inspector: inspector, theme: window.theme },
                            { name: window.jobExecutor.objectName, inspector: inspector, theme: window.theme }
                        ]
                        delegate: Rectangle {
                            id: pane
                            required property var modelData
                            Layout.fillWidth: true
                            Layout.fillHeight: true
                            Layout.topMargin: 8
                            color: pane.modelData.theme.panel
                            border.color: pane.modelData.theme.border
                            radius: 4
                            PrimitiveDetails {
                                anchors.fill: parent
                                anchors.margins: 10
                                model: pane.modelData.inspector
                                theme: pane.modelData.theme
                                chartBackground: pane.modelData.theme.panel
                                editable: false
                                // The row of the primitive with this name, once it is listed.
                                primitiveId: pane.modelData.inspector.count >= 0
                                             ? pane.modelData.inspector.find(pane.modelData.name) : -1
                            }
                        }
                    }
                }

                InspectorView {
                    model.active: tabs.currentIndex === 1
                    model.interval: 100
                }
            }
        }
    }
}
