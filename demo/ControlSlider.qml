// SPDX-License-Identifier: MIT
import QtQuick
import QtQuick.Controls
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
        Label { text: control.label; color: "#d0d4dc"; font.pixelSize: 13 }
        Item { Layout.fillWidth: true }
        Label {
            text: slider.value.toFixed(control.decimals) + (control.unit ? " " + control.unit : "")
            color: "#ffffff"; font.pixelSize: 13; font.bold: true
        }
    }
    Slider {
        id: slider
        Layout.fillWidth: true
        onMoved: control.moved(value)
    }
}
