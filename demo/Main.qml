// SPDX-License-Identifier: MIT
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtCharts
import QtAioDemo

ApplicationWindow {
    id: window
    required property Workload workload

    width: 1280
    height: 800
    visible: true
    color: "#14171d"
    title: qsTr("QtAio demo — queue depth, priorities and concurrency limits")

    readonly property var priorityNames: ["P0 urgent", "P1 high", "P2 normal", "P3 bulk"]
    readonly property var priorityColors: ["#ff5c5c", "#ffb347", "#5cc8ff", "#8f9bb3"]
    readonly property real windowSeconds: 20

    // Appends one sample to a time series and keeps the last windowSeconds of it.
    function appendPoint(series, axis, t, value) {
        series.append(t, value)
        while (series.count > 0 && series.at(0).x < t - windowSeconds)
            series.remove(0)
        axis.min = Math.max(0, t - windowSeconds)
        axis.max = Math.max(windowSeconds, t)
    }
    // Rescales a value axis to a round maximum (1, 2, 2.5 or 5 times a power of ten) when
    // the data outgrows it or shrinks well below it.
    function fitY(axis, value) {
        const target = Math.max(10, value * 1.15)
        const power = Math.pow(10, Math.floor(Math.log10(target)))
        const nice = [1, 2, 2.5, 5, 10].map(f => f * power).find(v => v >= target)
        if (nice > axis.max || nice < axis.max / 2)
            axis.max = nice
    }

    Connections {
        target: window.workload
        function onSampled() {
            const w = window.workload
            const t = w.elapsed
            window.appendPoint(depthSeries, depthTime, t, w.depth)
            window.appendPoint(maxSizeSeries, depthTime, t, w.maxSize)
            window.fitY(depthAxis, Math.max(w.maxSize, w.depth))
            window.appendPoint(runningSeries, runningTime, t, w.running)
            window.appendPoint(limitSeries, runningTime, t, w.limit)
            window.fitY(runningAxis, Math.max(w.limit, w.running))
            window.appendPoint(throughputSeries, throughputTime, t, w.throughput)
            window.fitY(throughputAxis, w.throughput)
            backlogSet.values = w.backlog
            window.fitY(backlogAxis, Math.max(...w.backlog))
            p50Set.values = w.waitP50
            p95Set.values = w.waitP95
            window.fitY(waitAxis, Math.max(...w.waitP95))
        }
    }

    RowLayout {
        anchors.fill: parent
        anchors.margins: 12
        spacing: 12

        // --- Controls ---------------------------------------------------------------------
        Rectangle {
            Layout.preferredWidth: 290
            Layout.fillHeight: true
            color: "#1d2129"
            radius: 6

            ColumnLayout {
                anchors.fill: parent
                anchors.margins: 14
                spacing: 10

                Label {
                    text: "QtAio live workload"
                    color: "#ffffff"; font.pixelSize: 18; font.bold: true
                }
                Label {
                    Layout.fillWidth: true
                    wrapMode: Text.WordWrap
                    color: "#9aa1ad"; font.pixelSize: 12
                    text: "A producer thread fills a bounded PriorityQueue; a TaskExecutor " +
                          "consumes it under its limit (half of each job on the thread pool); " +
                          "a Latch closes each batch of " + window.workload.batchSize + " jobs."
                }

                ControlSlider {
                    label: "Producer rate"; unit: "jobs/s"
                    from: 10; to: 3000; stepSize: 10
                    value: window.workload.producerRate
                    onMoved: v => window.workload.producerRate = v
                }
                ControlSlider {
                    label: "Queue maxSize"; unit: "jobs"
                    from: 10; to: 1000; stepSize: 10
                    value: window.workload.maxSize
                    onMoved: v => window.workload.maxSize = v
                }
                ControlSlider {
                    label: "Executor limit"; unit: "tasks"
                    from: 1; to: 64; stepSize: 1
                    value: window.workload.limit
                    onMoved: v => window.workload.limit = v
                }
                ControlSlider {
                    label: "Work per job"; unit: "ms"
                    from: 2; to: 500; stepSize: 2
                    value: window.workload.workMs
                    onMoved: v => window.workload.workMs = v
                }

                Label { text: "Priority mix (weights)"; color: "#d0d4dc"; font.pixelSize: 13 }
                Repeater {
                    // Everything a row needs comes with its model entry: a delegate is a
                    // component of its own and reaches nothing of the window by id.
                    model: window.priorityNames.map((name, level) => ({
                        name: name, color: window.priorityColors[level], workload: window.workload
                    }))
                    delegate: RowLayout {
                        id: mixRow
                        required property int index
                        required property var modelData
                        Layout.fillWidth: true
                        Rectangle { implicitWidth: 10; implicitHeight: 10; radius: 5; color: mixRow.modelData.color }
                        Label {
                            text: mixRow.modelData.name
                            color: "#c0c4cc"; font.pixelSize: 12
                            Layout.preferredWidth: 72
                        }
                        Slider {
                            id: mixSlider
                            Layout.fillWidth: true
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
                            color: "#ffffff"; font.pixelSize: 12
                            Layout.preferredWidth: 18
                        }
                    }
                }

                RowLayout {
                    Layout.fillWidth: true
                    Button {
                        Layout.fillWidth: true
                        text: window.workload.paused ? "Resume" : "Pause"
                        onClicked: window.workload.paused = !window.workload.paused
                    }
                    Button {
                        Layout.fillWidth: true
                        text: "Burst +300"
                        onClicked: window.workload.burst(300)
                    }
                }

                Rectangle { Layout.fillWidth: true; implicitHeight: 1; color: "#2e333d" }

                Label {
                    text: "Phase " + window.workload.phase + " — batch latch: " +
                          window.workload.batchRemaining + " of " + window.workload.batchSize + " left"
                    color: "#ffffff"; font.pixelSize: 13
                }
                ProgressBar {
                    Layout.fillWidth: true
                    from: 0; to: window.workload.batchSize
                    value: window.workload.batchSize - window.workload.batchRemaining
                }
                GridLayout {
                    columns: 2
                    columnSpacing: 16
                    rowSpacing: 2
                    Label { text: "Produced"; color: "#9aa1ad" }
                    Label { text: window.workload.produced; color: "#ffffff" }
                    Label { text: "Consumed"; color: "#9aa1ad" }
                    Label { text: window.workload.consumed; color: "#ffffff" }
                    Label { text: "Queue depth"; color: "#9aa1ad" }
                    Label { text: window.workload.depth + " / " + window.workload.maxSize; color: "#ffffff" }
                    Label { text: "Running"; color: "#9aa1ad" }
                    Label {
                        text: window.workload.running + " / " + window.workload.limit +
                              " (peak " + window.workload.peakRunning + ")"
                        color: "#ffffff"
                    }
                    Label { text: "Throughput"; color: "#9aa1ad" }
                    Label { text: window.workload.throughput.toFixed(0) + " jobs/s"; color: "#ffffff" }
                }
                Item { Layout.fillHeight: true }
            }
        }

        // --- Charts -----------------------------------------------------------------------
        GridLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            columns: 2
            rowSpacing: 10
            columnSpacing: 10

            ChartPanel {
                Layout.fillWidth: true; Layout.fillHeight: true
                title: "Queue depth over time"
                ValueAxis { id: depthTime; min: 0; max: window.windowSeconds; titleText: "time (s)"; labelFormat: "%d" }
                ValueAxis { id: depthAxis; tickCount: 6; min: 0; max: 250; titleText: "jobs"; labelFormat: "%d" }
                LineSeries { id: maxSizeSeries; name: "maxSize"; axisX: depthTime; axisY: depthAxis; color: "#ff5c5c"; style: Qt.DashLine; width: 2 }
                LineSeries { id: depthSeries; name: "queued"; axisX: depthTime; axisY: depthAxis; color: "#5cc8ff"; width: 3 }
            }

            ChartPanel {
                Layout.fillWidth: true; Layout.fillHeight: true
                title: "Backlog per priority"
                legend.visible: false
                BarSeries {
                    labelsVisible: true
                    labelsPosition: AbstractBarSeries.LabelsOutsideEnd
                    axisX: BarCategoryAxis { categories: window.priorityNames }
                    axisY: ValueAxis { id: backlogAxis; tickCount: 6; min: 0; max: 100; titleText: "jobs queued"; labelFormat: "%d" }
                    BarSet { id: backlogSet; label: "queued"; values: [0, 0, 0, 0]; color: "#ffb347" }
                }
            }

            ChartPanel {
                Layout.fillWidth: true; Layout.fillHeight: true
                title: "Running tasks against the limit"
                ValueAxis { id: runningTime; min: 0; max: window.windowSeconds; titleText: "time (s)"; labelFormat: "%d" }
                ValueAxis { id: runningAxis; tickCount: 6; min: 0; max: 10; titleText: "tasks"; labelFormat: "%d" }
                LineSeries { id: limitSeries; name: "limit"; axisX: runningTime; axisY: runningAxis; color: "#ff5c5c"; style: Qt.DashLine; width: 2 }
                LineSeries { id: runningSeries; name: "running"; axisX: runningTime; axisY: runningAxis; color: "#7ee081"; width: 3 }
            }

            ChartPanel {
                Layout.fillWidth: true; Layout.fillHeight: true
                title: "Throughput"
                legend.visible: false
                ValueAxis { id: throughputTime; min: 0; max: window.windowSeconds; titleText: "time (s)"; labelFormat: "%d" }
                ValueAxis { id: throughputAxis; tickCount: 6; min: 0; max: 100; titleText: "jobs/s"; labelFormat: "%d" }
                LineSeries { id: throughputSeries; name: "jobs/s"; axisX: throughputTime; axisY: throughputAxis; color: "#c792ea"; width: 2 }
            }

            ChartPanel {
                Layout.fillWidth: true; Layout.fillHeight: true
                Layout.columnSpan: 2
                title: "Wait from submission to start, per priority (last 200 jobs each)"
                BarSeries {
                    labelsVisible: true
                    labelsPosition: AbstractBarSeries.LabelsOutsideEnd
                    labelsPrecision: 4
                    axisX: BarCategoryAxis { categories: window.priorityNames }
                    axisY: ValueAxis { id: waitAxis; tickCount: 6; min: 0; max: 100; titleText: "ms"; labelFormat: "%d" }
                    BarSet { id: p50Set; label: "p50"; values: [0, 0, 0, 0]; color: "#5cc8ff" }
                    BarSet { id: p95Set; label: "p95"; values: [0, 0, 0, 0]; color: "#ff5c5c" }
                }
            }
        }
    }
}
