// SPDX-License-Identifier: MIT
import QtQuick

//! The colours of the Inspector's views; one is made per view (InspectorView.theme).
QtObject {
    readonly property color background: "#f7f8fa"
    readonly property color panel: "#ffffff"
    readonly property color border: "#d5d9e0"
    readonly property color text: "#1d232b"
    readonly property color secondaryText: "#5b6573"
    readonly property color selection: "#e3edf9"
    readonly property color reference: "#c0392b"
    readonly property color grid: "#33000000"
    //! The colours of a chart's lines, in order (priorities: the lowest value first).
    readonly property var series: ["#d63b3b", "#e08a00", "#2b7bd6", "#7a8494", "#2e9e5b", "#8e44ad"]
    readonly property var kinds: ({
            "Queue": "#2b7bd6",
            "Latch": "#8e44ad",
            "Semaphore": "#e08a00",
            "Executor": "#2e9e5b"
        })
}
