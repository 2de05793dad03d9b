#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs qtaio-demo headless in scripted scenarios and checks what it reports and shows.

Usage: check_demo.py DEMO_BINARY

Every check is about order and cause, not about how fast the machine is: the demo's summary
holds the Inspector's samples of the queue "jobs" and the executor "consumers" (--summary-json
"inspector") and, for every --at change, how many samples were taken before it was applied.

- The default scenario (400 jobs/s, mix 4,3,2,1, maxSize 200, limit 8, 40 ms jobs, and
  --at 3s:limit=4): back-pressure (the queue at maxSize with the producer blocked), starvation
  (the bulk priority P3 queued and its oldest age growing from sample to sample while P0-P2 are
  taken), and the limit change (every sample before it shows limit 8, the first one after it
  limit 4, and running falls to at most 4 afterwards). The screenshot is the window's size and
  not blank; no QML warning is printed.
- Starvation at rate 3000 with mix 5,5,5,1, as the issue that asked for the Inspector found it.
- Closing the window (--at ...:close) ends the run with a summary and exit status 0.
- Bad values of every scenario flag end with exit status 2 and a message naming the flag and
  the value.
- The extremes of the controls run and stop cleanly.
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


class Demo:
    def __init__(self, binary):
        self.binary = binary
        self.work = tempfile.mkdtemp(prefix="qtaio-demo-")
        self.env = dict(os.environ)
        self.env.pop("DISPLAY", None)
        self.env.pop("WAYLAND_DISPLAY", None)
        self.env.pop("QT_QPA_PLATFORM", None)  # the demo must fall back to offscreen by itself

    def run(self, name, args, timeout=180):
        """Runs the demo with args and a summary; returns (summary, output)."""
        summary_path = os.path.join(self.work, name + ".json")
        try:
            run = subprocess.run([self.binary, "--summary-json", summary_path] + args,
                                 env=self.env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            fail("%s: the demo did not exit (%s)" % (name, " ".join(args)))
        output = run.stdout + run.stderr
        if run.returncode != 0:
            fail("%s: the demo exited with %d:\n%s" % (name, run.returncode, output))
        if "rendering offscreen" not in output:
            fail("%s: the demo did not say that it fell back to the offscreen platform" % name)
        warnings = [line for line in output.splitlines()
                    if any(marker in line for marker in QML_WARNING_MARKERS)]
        if warnings:
            fail("%s: QML warnings:\n%s" % (name, "\n".join(warnings)))
        if "failed" in output:
            fail("%s: stopping reported a failure:\n%s" % (name, output))
        with open(summary_path) as f:
            return json.load(f), output


def samples_of(summary, name):
    """The Inspector's samples of the queue and the executor, from the first with both."""
    samples = [s for s in summary["inspector"] if "jobs" in s and "consumers" in s]
    if len(samples) < 10:
        fail("%s: only %d inspector samples" % (name, len(samples)))
    return samples


def check_back_pressure(name, samples):
    full = [s for s in samples if s["jobs"]["size"] >= s["jobs"]["maxSize"]
            and s["jobs"]["waitingPutters"] >= 1]
    if not full:
        fail("%s: no sample shows the queue at maxSize with the producer blocked" % name)
    print("%s: back-pressure in %d of %d samples" % (name, len(full), len(samples)))


def check_starvation(name, summary, samples):
    """P3 stays queued, its oldest age grows while P0-P2 are taken."""
    queued = [s for s in samples if s["jobs"].get("backlog[3]", 0) > 0]
    if len(queued) < 5:
        fail("%s: P3 was hardly ever queued" % name)
    first, last = queued[0], queued[-1]
    ages = [s["jobs"]["oldestAge[3]"] for s in queued]
    if not ages[-1] > ages[0]:
        fail("%s: P3's oldest age did not grow: %s" % (name, ages))
    # It only falls when the oldest P3 job is taken; while it grows, the others flow.
    rises = sum(1 for a, b in zip(ages, ages[1:]) if b > a)
    if rises < len(ages) // 2:
        fail("%s: P3's oldest age grew in only %d of %d samples: %s" % (name, rises, len(ages),
                                                                         ages))
    taken = last["consumers"]["completed"] - first["consumers"]["completed"]
    if taken <= 0:
        fail("%s: no job ended while P3 waited" % name)
    consumed = summary["consumedByPriority"]
    if min(consumed[:3]) <= 0:
        fail("%s: P0-P2 did not all flow: %s" % (name, consumed))
    if not consumed[3] < min(consumed[:3]):
        fail("%s: P3 was not the least served: %s" % (name, consumed))
    p95 = summary["waitP95MsByPriority"]
    oldest = summary["oldestWaitMsByPriority"]
    if not (p95[3] > p95[0] and oldest[3] > oldest[0]):
        fail("%s: the waits (queued jobs included) do not show P3 waiting longest: p95 %s, "
             "oldest %s" % (name, p95, oldest))
    print("%s: P3's oldest age %.0f -> %.0f ms over %d samples while %d jobs ended; p95 wait %s"
          % (name, ages[0], ages[-1], len(ages), taken, [round(v) for v in p95]))


def check_limit_change(name, summary, samples, old, new):
    changes = [c for c in summary["changes"] if c["key"] == "limit"]
    if len(changes) != 1 or int(changes[0]["value"]) != new:
        fail("%s: the limit change was not applied: %s" % (name, summary["changes"]))
    timeline = summary["inspector"]
    before = changes[0]["samplesBefore"]
    if before >= len(timeline):
        fail("%s: no inspector sample after the limit change" % name)
    for s in timeline[:before]:
        if "consumers" in s and s["consumers"]["limit"] != old:
            fail("%s: a sample before the change shows limit %s" % (name, s["consumers"]["limit"]))
    after = timeline[before:]
    if after[0]["consumers"]["limit"] != new:
        fail("%s: the first sample after the change shows limit %s, not %d"
             % (name, after[0]["consumers"]["limit"], new))
    if any(s["consumers"]["limit"] != new for s in after):
        fail("%s: the limit did not stay %d" % (name, new))
    if max(s["consumers"]["running"] for s in timeline[:before]) > old:
        fail("%s: more than %d running before the change" % (name, old))
    if not any(s["consumers"]["running"] <= new for s in after):
        fail("%s: running never fell to the new limit %d" % (name, new))
    print("%s: limit %d -> %d shown by the first sample after the change (sample %d)"
          % (name, old, new, before))


def check_screenshot(name, path, size):
    width, height, pixels = read_png(path)
    if (width, height) != size:
        fail("%s: screenshot is %dx%d, not %dx%d" % (name, width, height, size[0], size[1]))
    if len(set(pixels[::97])) < 32:
        fail("%s: the screenshot looks blank" % name)


def check_bad_values(demo):
    cases = [
        (["--rate", "0"], "--rate", "'0'"),
        (["--rate", "fast"], "--rate", "'fast'"),
        (["--limit", "65"], "--limit", "'65'"),
        (["--work-ms", "-1"], "--work-ms", "'-1'"),
        (["--max-size", "0"], "--max-size", "'0'"),
        (["--mix", "1,2"], "--mix", "'1,2'"),
        (["--mix", "0,0,0,0"], "--mix", "'0,0,0,0'"),
        (["--at", "5s:limit=abc"], "--at 5s:limit=abc", "'abc'"),
        (["--at", "5s:limit=0"], "--at 5s:limit=0", "'0'"),
        (["--at", "5s:speed=2"], "--at", "'5s:speed=2'"),
        (["--at", "soon:limit=2"], "--at", "'soon:limit=2'"),
        (["--at", "2s:close=1"], "--at", "'2s:close=1'"),
        (["--size", "10x10"], "--size", "'10x10'"),
    ]
    for args, flag, value in cases:
        run = subprocess.run([demo.binary] + args, env=demo.env, capture_output=True, text=True,
                             timeout=60)
        if run.returncode != 2:
            fail("%s: exit status %d, not 2" % (" ".join(args), run.returncode))
        if flag not in run.stderr or value not in run.stderr:
            fail("%s: the message does not name %s and %s: %s" % (" ".join(args), flag, value,
                                                                    run.stderr))
    print("bad values: %d cases end with status 2 and name the flag and the value" % len(cases))


EXTREMES = (
    ["--limit", "64", "--work-ms", "2", "--rate", "3000", "--mix", "5,5,5,1"],
    ["--limit", "64", "--work-ms", "2000", "--rate", "5000", "--max-size", "1000"],
    ["--limit", "1", "--work-ms", "2000", "--rate", "1"],
)


def main():
    demo = Demo(sys.argv[1])
    check_bad_values(demo)

    shot = os.path.join(demo.work, "default.png")
    summary, _ = demo.run("default", ["--duration", "6", "--size", "1024x640",
                                      "--screenshot", shot])
    samples = samples_of(summary, "default")
    check_back_pressure("default", samples)
    check_starvation("default", summary, samples)
    check_limit_change("default", summary, samples, 8, 4)
    check_screenshot("default", shot, (1024, 640))

    summary, _ = demo.run("starvation", ["--duration", "5", "--rate", "3000", "--mix", "5,5,5,1",
                                         "--at", "2s:max-size=100"])
    samples = samples_of(summary, "starvation")
    check_back_pressure("starvation", samples)
    check_starvation("starvation", summary, samples)
    if summary["maxSize"] != 100 or samples[-1]["jobs"]["maxSize"] != 100:
        fail("starvation: the maxSize change is not shown")

    summary, output = demo.run("close", ["--at", "2s:close"])
    if not summary["closedByWindow"] or "summary:" not in output:
        fail("closing the window did not end the run with its summary")
    print("close: closing the window ends the run (exit status 0, summary written)")

    for args in EXTREMES:
        summary, _ = demo.run("extreme", ["--duration", "1"] + args, timeout=60)
        if summary["peakRunning"] > summary["limit"]:
            fail("%s: %d running over the limit %d" % (" ".join(args), summary["peakRunning"],
                                                        summary["limit"]))
        print("exits cleanly with %s" % " ".join(args))
    print("demo check passed")


if __name__ == "__main__":
    main()
