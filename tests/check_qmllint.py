#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs qmllint on every QML file the project ships and fails on any warning.

Usage: check_qmllint.py QMLLINT SOURCE_DIR BUILD_DIR

The QtAio module and QtAio.Inspector are found in BUILD_DIR/qml and the demo's module in
BUILD_DIR/demo, as a
user's tooling (qmllint, Qt Creator) finds them through the import path. The only warnings
allowed are those that come from Qt's own type information, listed in QT_TYPE_INFO_GAPS with
the reason; each is allowed in the demo only.
"""
import glob
import os
import re
import subprocess
import sys

# Warnings that come from gaps in Qt's own type information, as regular expressions: none at
# present (the demo no longer uses QtCharts, whose ValueAxis Qt 6.4 describes to no tool).
QT_TYPE_INFO_GAPS = []


def main():
    qmllint, source, build = sys.argv[1:4]
    files = sorted(glob.glob(os.path.join(source, "tests", "qml", "*.qml"))
                   + glob.glob(os.path.join(source, "tests", "consumer", "*.qml"))
                   + glob.glob(os.path.join(source, "examples", "**", "*.qml"), recursive=True)
                   + glob.glob(os.path.join(source, "src", "inspector", "*.qml"))
                   + glob.glob(os.path.join(source, "demo", "*.qml")))
    if not files:
        print("FAIL: no QML files found")
        return 1
    imports = ["-I", os.path.join(build, "qml"), "-I", os.path.join(build, "demo")]
    failures = 0
    for path in files:
        run = subprocess.run([qmllint] + imports + [path], capture_output=True, text=True)
        output = (run.stdout + run.stderr).splitlines()
        in_demo = os.sep + "demo" + os.sep in path
        warnings = [line for line in output if line.startswith(("Warning", "Error", "Critical"))]
        allowed = [w for w in warnings
                   if in_demo and any(re.search(gap, w) for gap in QT_TYPE_INFO_GAPS)]
        bad = [w for w in warnings if w not in allowed]
        relative = os.path.relpath(path, source)
        if bad or (run.returncode != 0 and not allowed):
            failures += 1
            print("FAIL: %s\n  %s" % (relative, "\n  ".join(bad or output)))
        else:
            note = " (%d warnings from Qt's own type information)" % len(allowed) if allowed else ""
            print("ok: %s%s" % (relative, note))
    print("%d passed, %d failed" % (len(files) - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
