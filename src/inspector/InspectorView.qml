// SPDX-License-Identifier: MIT
import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import QtAio.Inspector

//! The QtAio Inspector: every live primitive with a sparkline, and charts and controls for the
//! selected one. Embed it in an application's own window, or use InspectorWindow.
Item {
    id: root

    //! The sampling model (interval, historyLength and active are its properties).
    readonly property alias model: inspectorModel
    component Theme: QtObject {
        readonly property color background: "#f7f8fa"
        readonly property color panel: "#ffffff"
        readonly property color border: "#d5d9e0"
        readonly property color text: "#1d232b"
        readonly property color secondaryText: "#5b6573"
        readonly property color selection: "#e3edf9"
        readonly property color reference: "#c0392b"
        readonly property color grid: "#33000000"
        readonly property var series: ["#2b7bd6", "#e08a00", "#2e9e5b", "#8e44ad"]
        readonly property var kinds: ({
                "Queue": "#2b7bd6",
                "Latch": "#8e44ad",
                "Semaphore": "#e08a00",
                "Executor": "#2e9e5b"
            })
    }
    //! The colours of the view.
    readonly property Theme theme: Theme {}
    //! The primitiveId of the selected row, or -1.
    property real selectedId: -1
    readonly property var selected: primitiveList.currentItem

    // What the detail charts show, per kind: title, series keys, reference key, unit.
    readonly property var chartsByKind: ({
            "Queue": [
                { title: qsTr("Depth (size) and maxSize"), series: ["size"], reference: "maxSize", unit: "" },
                { title: qsTr("Throughput: items taken per second"), series: ["throughput"], reference: "", unit: "/s" },
                { title: qsTr("Waiting getters and blocked putters"), series: ["waitingGetters", "waitingPutters"], reference: "", unit: "" }
            ],
            "Executor": [
                { title: qsTr("Running against limit"), series: ["running"], reference: "limit", unit: "" },
                { title: qsTr("Throughput: tasks ended per second"), series: ["throughput"], reference: "", unit: "/s" },
                { title: qsTr("Waiting for a slot"), series: ["waiting"], reference: "", unit: "" }
            ],
            "Semaphore": [
                { title: qsTr("Held against capacity"), series: ["held"], reference: "capacity", unit: "" },
                { title: qsTr("Waiting"), series: ["waiting"], reference: "", unit: "" }
            ],
            "Latch": [
                { title: qsTr("Count"), series: ["count"], reference: "", unit: "" },
                { title: qsTr("Count-downs per second"), series: ["throughput"], reference: "", unit: "/s" },
                { title: qsTr("Waiting"), series: ["waiting"], reference: "", unit: "" }
            ]
        })

    function valueText(value) {
        if (typeof value === "boolean")
            return value ? qsTr("yes") : qsTr("no");
        return chartFormatter.format(value);
    }

    InspectorModel {
        id: inspectorModel
    }

    // Formatters only: charts that draw nothing.
    SeriesChart {
        id: chartFormatter
        visible: false
    }
    SeriesChart {
        id: durationFormatter
        visible: false
        unit: "ms"
    }

    Rectangle {
        anchors.fill: parent
        color: root.theme.background
    }

    RowLayout {
        anchors.fill: parent
        anchors.margins: 8
        spacing: 8

        // The list of live primitives.
        Rectangle {
            Layout.fillHeight: true
            Layout.preferredWidth: Math.max(330, root.width * 0.38)
            color: root.theme.panel
            border.color: root.theme.border
            radius: 4

            Label {
                id: listTitle
                x: 10
                y: 8
                text: qsTr("%1 live primitives").arg(inspectorModel.count)
                font.pixelSize: 15
                font.bold: true
                color: root.theme.text
            }

            ListView {
                id: primitiveList
                objectName: "primitiveList"
                anchors.fill: parent
                anchors.topMargin: listTitle.y + listTitle.height + 6
                anchors.margins: 1
                clip: true
                model: inspectorModel
                boundsBehavior: Flickable.StopAtBounds
                ScrollBar.vertical: ScrollBar {}
                currentIndex: -1
                onCountChanged: if (currentIndex < 0 && count > 0) currentIndex = 0
                onCurrentItemChanged: root.selectedId = currentItem ? currentItem.primitiveId : -1

                delegate: Rectangle {
                    id: entry
                    required property int index
                    required property real primitiveId
                    required property string kind
                    required property string name
                    required property string threadName
                    required property string typeName
                    required property string summary
                    required property string primaryKey
                    required property string referenceKey
                    required property string editableKey
                    required property var values

                    width: ListView.view.width
                    height: 54
                    color: ListView.isCurrentItem ? root.theme.selection : "transparent"

                    Rectangle {
                        id: badge
                        x: 8
                        anchors.verticalCenter: parent.verticalCenter
                        width: 26
                        height: 26
                        radius: 13
                        color: root.theme.kinds[entry.kind] || "#777"
                        Label {
                            anchors.centerIn: parent
                            text: entry.kind.charAt(0)
                            color: "white"
                            font.bold: true
                            font.pixelSize: 13
                        }
                    }

                    Column {
                        anchors.left: badge.right
                        anchors.leftMargin: 8
                        anchors.right: spark.left
                        anchors.rightMargin: 8
                        anchors.verticalCenter: parent.verticalCenter
                        spacing: 2
                        Row {
                            width: parent.width
                            spacing: 8
                            Label {
                                id: nameLabel
                                width: Math.min(implicitWidth, parent.width - threadLabel.implicitWidth - 8)
                                text: entry.name !== "" ? entry.name : qsTr("unnamed %1").arg(entry.kind.toLowerCase())
                                font.pixelSize: 14
                                font.bold: true
                                font.italic: entry.name === ""
                                color: root.theme.text
                                elide: Text.ElideRight
                            }
                            Label {
                                id: threadLabel
                                anchors.baseline: nameLabel.baseline
                                text: qsTr("on %1").arg(entry.threadName)
                                font.pixelSize: 12
                                color: root.theme.secondaryText
                            }
                        }
                        Label {
                            width: parent.width
                            text: entry.summary
                            font.pixelSize: 12
                            color: root.theme.secondaryText
                            elide: Text.ElideRight
                        }
                    }

                    SeriesChart {
                        id: spark
                        anchors.right: parent.right
                        anchors.rightMargin: 10
                        anchors.verticalCenter: parent.verticalCenter
                        width: Math.min(130, entry.width * 0.35)
                        height: 34
                        model: inspectorModel
                        primitiveId: entry.primitiveId
                        series: [entry.primaryKey]
                        referenceKey: entry.referenceKey
                        colors: [root.theme.kinds[entry.kind] || "#777"]
                        referenceColor: root.theme.reference
                        gridColor: "transparent"
                        lineWidth: 1.5
                        visibleSamples: 150
                    }

                    Rectangle {
                        anchors.bottom: parent.bottom
                        width: parent.width
                        height: 1
                        color: root.theme.border
                    }

                    MouseArea {
                        anchors.fill: parent
                        onClicked: primitiveList.currentIndex = entry.index
                    }
                }

                Label {
                    anchors.centerIn: parent
                    width: parent.width - 40
                    visible: primitiveList.count === 0
                    horizontalAlignment: Text.AlignHCenter
                    wrapMode: Text.WordWrap
                    text: qsTr("No live QtAio primitives. Queues, latches, semaphores and executors created from now on appear here.")
                    color: root.theme.secondaryText
                    font.pixelSize: 13
                }
            }
        }

        // The selected primitive.
        Rectangle {
            Layout.fillHeight: true
            Layout.fillWidth: true
            color: root.theme.panel
            border.color: root.theme.border
            radius: 4

            ColumnLayout {
                anchors.fill: parent
                anchors.margins: 10
                spacing: 6
                visible: root.selected !== null

                RowLayout {
                    Layout.fillWidth: true
                    spacing: 10
                    Column {
                        Layout.fillWidth: true
                        Label {
                            width: parent.width
                            text: root.selected ? (root.selected.name !== "" ? root.selected.name : qsTr("unnamed %1").arg(root.selected.kind.toLowerCase())) : ""
                            font.pixelSize: 16
                            font.bold: true
                            color: root.theme.text
                            elide: Text.ElideRight
                        }
                        Label {
                            width: parent.width
                            text: root.selected ? qsTr("%1 on thread %2").arg(root.selected.typeName).arg(root.selected.threadName) : ""
                            font.pixelSize: 12
                            color: root.theme.secondaryText
                            elide: Text.ElideRight
                        }
                    }
                    Label {
                        visible: editor.visible
                        text: root.selected ? root.selected.editableKey : ""
                        font.pixelSize: 13
                        color: root.theme.secondaryText
                    }
                    SpinBox {
                        id: editor
                        objectName: "boundEditor"
                        visible: root.selected !== null && root.selected.editableKey !== ""
                        from: 0
                        to: 1000000
                        editable: true
                        font.pixelSize: 13
                        implicitWidth: 130
                        property real forId: -1
                        // Follows the sampled value until the user changes it, then keeps the
                        // user's value until it is applied or another primitive is selected.
                        property bool edited: false
                        onValueModified: edited = true
                        function load() {
                            const item = primitiveList.currentItem;
                            if (!item || item.editableKey === "")
                                return;
                            if (forId !== item.primitiveId)
                                edited = false;
                            forId = item.primitiveId;
                            if (!edited)
                                value = item.values[item.editableKey] || 0;
                        }
                        Connections {
                            target: root
                            function onSelectedIdChanged() { editor.load() }
                        }
                        Connections {
                            target: inspectorModel
                            function onSampled() { editor.load() }
                        }
                        Component.onCompleted: load()
                    }
                    Button {
                        visible: editor.visible
                        text: qsTr("Apply")
                        font.pixelSize: 13
                        onClicked: {
                            inspectorModel.write(editor.forId, root.selected.editableKey, editor.value);
                            editor.edited = false;
                        }
                    }
                }

                // Every value of the latest sample.
                Flow {
                    Layout.fillWidth: true
                    spacing: 14
                    Repeater {
                        model: root.selected ? Object.keys(root.selected.values) : []
                        delegate: Label {
                            required property string modelData
                            text: modelData + " <b>" + root.valueText(root.selected.values[modelData]) + "</b>"
                            textFormat: Text.StyledText
                            font.pixelSize: 13
                            color: root.theme.text
                        }
                    }
                }

                Repeater {
                    model: root.selected ? (root.chartsByKind[root.selected.kind] || []) : []
                    delegate: ColumnLayout {
                        id: panel
                        required property var modelData
                        Layout.fillWidth: true
                        Layout.fillHeight: true
                        spacing: 2

                        RowLayout {
                            Layout.fillWidth: true
                            spacing: 12
                            Label {
                                Layout.fillWidth: true
                                text: panel.modelData.title
                                font.pixelSize: 13
                                font.bold: true
                                color: root.theme.text
                                elide: Text.ElideRight
                            }
                            Repeater {
                                model: panel.modelData.series
                                delegate: Label {
                                    required property string modelData
                                    required property int index
                                    text: "■ " + modelData + " " + (chart.latest.length > index
                                          ? chart.format(chart.latest[index]) : "")
                                    color: root.theme.series[index % root.theme.series.length]
                                    font.pixelSize: 12
                                }
                            }
                            Label {
                                visible: panel.modelData.reference !== ""
                                text: "- - " + panel.modelData.reference + " "
                                      + (root.selected ? root.valueText(root.selected.values[panel.modelData.reference]) : "")
                                color: root.theme.reference
                                font.pixelSize: 12
                            }
                        }

                        Item {
                            Layout.fillWidth: true
                            Layout.fillHeight: true
                            Layout.minimumHeight: 60

                            // Labels of the grid lines at yMax, yMax / 2 and 0.
                            Repeater {
                                model: [1, 0.5, 0]
                                delegate: Label {
                                    required property real modelData
                                    x: 0
                                    width: 48
                                    y: chart.y + (1 - modelData) * chart.height - height / 2
                                    horizontalAlignment: Text.AlignRight
                                    text: chart.format(chart.yMax * modelData)
                                    font.pixelSize: 11
                                    color: root.theme.secondaryText
                                }
                            }

                            SeriesChart {
                                id: chart
                                anchors.left: parent.left
                                anchors.leftMargin: 54
                                anchors.right: parent.right
                                anchors.top: parent.top
                                anchors.bottom: parent.bottom
                                anchors.topMargin: 6
                                anchors.bottomMargin: 14
                                model: inspectorModel
                                primitiveId: root.selectedId
                                series: panel.modelData.series
                                referenceKey: panel.modelData.reference
                                unit: panel.modelData.unit
                                colors: root.theme.series
                                referenceColor: root.theme.reference
                                gridColor: root.theme.grid
                            }
                            Label {
                                anchors.left: chart.left
                                anchors.leftMargin: 4
                                anchors.top: chart.bottom
                                text: "−" + durationFormatter.format(inspectorModel.historyLength * inspectorModel.interval)
                                font.pixelSize: 11
                                color: root.theme.secondaryText
                            }
                            Label {
                                anchors.right: chart.right
                                anchors.top: chart.bottom
                                text: qsTr("now")
                                font.pixelSize: 11
                                color: root.theme.secondaryText
                            }
                        }
                    }
                }
            }

            Label {
                anchors.centerIn: parent
                visible: root.selected === null
                text: qsTr("Select a primitive")
                color: root.theme.secondaryText
                font.pixelSize: 14
            }
        }
    }
}
