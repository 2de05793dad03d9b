#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs qtaio-demo headless for a few seconds and checks what it reports and shows.

Usage: check_demo.py DEMO_BINARY [SECONDS]
Then runs it at the extremes its controls offer (limit 64 with 2 ms jobs at 3000 jobs/s, 2 s jobs
with a full queue of 1000), several times each, and fails when it does not exit by itself, exits
with an error or reports a failed task while stopping.

Fails when the demo exits with an error, prints QML warnings, when jobs did not flow at every
priority, when higher priorities did not wait less than lower ones under load, when the number
of running tasks exceeded the executor's limit or never reached it, or when the screenshot is
not a non-blank image of the window's size.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

QML_WARNING_MARKERS = (
    ".qml:", "qml:", "Binding loop", "TypeError", "ReferenceError", "Unable to assign",
    "Cannot assign", "is not a type", "module \"", "QQmlApplicationEngine failed",
)


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def read_png(path):
    """Returns (width, height, decompressed pixel rows) of a PNG file."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(path + " is not a PNG file")
    pos, width, height, idat = 8, 0, 0, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def main():
    demo = sys.argv[1]
    seconds = sys.argv[2] if len(sys.argv) > 2 else "4"
    work = tempfile.mkdtemp(prefix="qtaio-demo-")
    shot = os.path.join(work, "shot.png")
    summary_path = os.path.join(work, "summary.json")
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env.pop("QT_QPA_PLATFORM", None)  # the demo must fall back to offscreen by itself
    run = subprocess.run([demo, "--duration", seconds, "--screenshot", shot,
                          "--summary-json", summary_path],
                         env=env, capture_output=True, text=True, timeout=300)
    output = run.stdout + run.stderr
    print(output)
    if run.returncode != 0:
        fail("the demo exited with %d" % run.returncode)
    if "rendering offscreen" not in output:
        fail("the demo did not say that it fell back to the offscreen platform")
    warnings = [line for line in output.splitlines()
                if any(marker in line for marker in QML_WARNING_MARKERS)]
    if warnings:
        fail("QML warnings:\n" + "\n".join(warnings))

    with open(summary_path) as f:
        s = json.load(f)
    print(json.dumps(s, indent=1))
    consumed = s["consumedByPriority"]
    if len(consumed) != 4 or min(consumed) <= 0:
        fail("jobs did not flow at every priority: %s" % consumed)
    if min(s["producedByPriority"]) <= 0:
        fail("jobs were not produced at every priority")
    if s["peakRunning"] > s["limit"]:
        fail("peak running %d exceeded the limit %d" % (s["peakRunning"], s["limit"]))
    if s["peakRunning"] != s["limit"]:
        fail("peak running %d never reached the limit %d" % (s["peakRunning"], s["limit"]))
    if s["peakDepth"] < s["maxSize"] // 2:
        fail("no load: the queue never filled (peak depth %d)" % s["peakDepth"])
    p50, p95 = s["waitP50MsByPriority"], s["waitP95MsByPriority"]
    for level in (0, 1, 2):
        if not p50[level] < p50[3]:
            fail("P%d did not wait less than P3 (p50 %s)" % (level, p50))
    if not p50[0] <= p50[2] or not p95[0] < p95[3]:
        fail("the most urgent jobs did not wait least (p50 %s, p95 %s)" % (p50, p95))

    width, height, pixels = read_png(shot)
    if (width, height) != (1280, 800):
        fail("screenshot is %dx%d, not the window's 1280x800" % (width, height))
    if len(set(pixels[::97])) < 32:
        fail("the screenshot looks blank")
    check_exits_at_the_extremes(demo, env, work)
    print("demo check passed")


EXTREMES = (
    ["--limit", "64", "--work-ms", "2", "--rate", "3000", "--mix", "5,5,5,1"],
    ["--limit", "64", "--work-ms", "2000", "--rate", "5000", "--max-size", "1000"],
    ["--limit", "1", "--work-ms", "2000", "--rate", "1"],
)


def check_exits_at_the_extremes(demo, env, work):
    summary_path = os.path.join(work, "extreme.json")
    for args in EXTREMES:
        for attempt in range(3):
            try:
                run = subprocess.run([demo, "--duration", "1", "--summary-json", summary_path]
                                     + args, env=env, capture_output=True, text=True,
                                     timeout=60)
            except subprocess.TimeoutExpired:
                fail("the demo did not exit after its run with %s" % " ".join(args))
            output = run.stdout + run.stderr
            if run.returncode != 0:
                fail("the demo exited with %d with %s:\n%s" % (run.returncode, " ".join(args),
                                                               output))
            if "failed" in output or "summary:" not in output:
                fail("stopping with %s reported a failure:\n%s" % (" ".join(args), output))
        print("exits cleanly with %s" % " ".join(args))


if __name__ == "__main__":
    main()
