// SPDX-License-Identifier: MIT
import QtQuick
import QtCharts

// A dark chart with a title, used for every view of the demo.
ChartView {
    antialiasing: true
    theme: ChartView.ChartThemeDark
    backgroundColor: "#1d2129"
    plotAreaColor: "#1d2129"
    titleColor: "#e8eaf0"
    titleFont.pixelSize: 15
    titleFont.bold: true
    legend.alignment: Qt.AlignBottom
    legend.labelColor: "#c0c4cc"
    legend.font.pixelSize: 11
    margins.top: 4
    margins.bottom: 4
    margins.left: 4
    margins.right: 4
}
