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
    //! The colours of the view.
    readonly property InspectorTheme theme: InspectorTheme {}
    //! The primitiveId of the selected row, or -1.
    property real selectedId: -1
    //! The width of the list of primitives.
    property real listWidth: Math.max(300, root.width * 0.36)

    // The list, with what its delegates need: a delegate is a component of its own and reaches
    // the view through ListView.view.
    component PrimitiveList: ListView {
        required property InspectorTheme theme
        required property InspectorModel inspector
    }

    InspectorModel {
        id: inspectorModel
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
            Layout.preferredWidth: root.listWidth
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

            PrimitiveList {
                id: primitiveList
                objectName: "primitiveList"
                theme: root.theme
                inspector: inspectorModel
                anchors.fill: parent
                anchors.topMargin: listTitle.y + listTitle.height + 6
                anchors.margins: 1
                clip: true
                model: inspectorModel
                boundsBehavior: Flickable.StopAtBounds
                ScrollBar.vertical: ScrollBar {}
                currentIndex: -1
                onCountChanged: if (currentIndex < 0 && count > 0) currentIndex = 0
                onCurrentIndexChanged: root.selectedId = currentIndex >= 0
                    ? inspectorModel.data(inspectorModel.index(currentIndex, 0), InspectorModel.IdRole) : -1

                delegate: Rectangle {
                    id: entry
                    required property int index
                    required property real primitiveId
                    required property string kind
                    required property string name
                    required property string threadName
                    required property string summary
                    required property string primaryKey
                    required property string referenceKey
                    readonly property var list: ListView.view

                    width: entry.list.width
                    height: 54
                    color: entry.ListView.isCurrentItem ? entry.list.theme.selection : "transparent"

                    Rectangle {
                        id: badge
                        x: 8
                        anchors.verticalCenter: parent.verticalCenter
                        width: 26
                        height: 26
                        radius: 13
                        color: entry.list.theme.kinds[entry.kind] || "#777"
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
                            // The name first: the thread gives way (down to "on wo…") before it does.
                            Label {
                                id: nameLabel
                                width: Math.min(implicitWidth, parent.width - threadLabel.width - 8)
                                text: entry.name !== "" ? entry.name : qsTr("unnamed %1").arg(entry.kind.toLowerCase())
                                font.pixelSize: 14
                                font.bold: true
                                font.italic: entry.name === ""
                                color: entry.list.theme.text
                                elide: Text.ElideRight
                            }
                            Label {
                                id: threadLabel
                                width: Math.min(implicitWidth, Math.max(parent.width * 0.3,
                                                parent.width - nameLabel.implicitWidth - 8))
                                elide: Text.ElideRight
                                anchors.baseline: nameLabel.baseline
                                text: qsTr("on %1").arg(entry.threadName)
                                font.pixelSize: 12
                                color: entry.list.theme.secondaryText
                            }
                        }
                        Label {
                            width: parent.width
                            text: entry.summary
                            font.pixelSize: 12
                            color: entry.list.theme.secondaryText
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
                        model: entry.list.inspector
                        primitiveId: entry.primitiveId
                        series: [entry.primaryKey]
                        referenceKey: entry.referenceKey
                        colors: [entry.list.theme.kinds[entry.kind] || "#777"]
                        referenceColor: entry.list.theme.reference
                        gridColor: "transparent"
                        background: entry.ListView.isCurrentItem ? entry.list.theme.selection : entry.list.theme.panel
                        lineWidth: 1.5
                        visibleSamples: 150
                    }

                    Rectangle {
                        anchors.bottom: parent.bottom
                        width: parent.width
                        height: 1
                        color: entry.list.theme.border
                    }

                    MouseArea {
                        anchors.fill: parent
                        onClicked: entry.list.currentIndex = entry.index
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

            PrimitiveDetails {
                id: selectedDetails
                objectName: "selectedDetails"
                anchors.fill: parent
                anchors.margins: 10
                model: inspectorModel
                primitiveId: root.selectedId
                theme: root.theme
                chartBackground: root.theme.panel
            }
        }
    }
}
