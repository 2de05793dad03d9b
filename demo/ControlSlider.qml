// SPDX-License-Identifier: MIT
import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts

// A labelled slider showing its value and unit.
ColumnLayout {
    id: control
    property alias from: slider.from
    property alias to: slider.to
    property alias stepSize: slider.stepSize
    property alias value: slider.value
    property string label
    property string unit
    property int decimals: 0
    signal moved(real value)

    spacing: 0
    Layout.fillWidth: true

    RowLayout {
        Layout.fillWidth: true
        Label { text: control.label; color: "#1d232b"; font.pixelSize: 13 }
        Item { Layout.fillWidth: true }
        Label {
            text: slider.value.toFixed(control.decimals) + (control.unit ? " " + control.unit : "")
            color: "#1d232b"; font.pixelSize: 13; font.bold: true
        }
    }
    Slider {
        id: slider
        Layout.fillWidth: true
        implicitWidth: 100 // the layout gives it the panel's width
        onMoved: control.moved(value)
    }
}
