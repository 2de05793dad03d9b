// SPDX-License-Identifier: MIT
import QtQuick
import QtQuick.Window

//! The QtAio Inspector as a window of its own: an InspectorView filling it.
Window {
    id: root
    objectName: "QtAioInspectorWindow"
    title: qsTr("QtAio Inspector")
    width: 1024
    height: 640
    minimumWidth: 640
    minimumHeight: 400
    color: view.theme.background

    //! The view, for embedding code that wants its model.
    readonly property alias view: view

    InspectorView {
        id: view
        anchors.fill: parent
    }
}
