#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs the QtAio benchmark binary and the asyncio baselines, then prints one side-by-side
table against the targets of DESIGN.md section 7.

    python3 benchmarks/compare.py [--bin build/bench/benchmarks/qtaio-bench-all] [--quick]
                                  [--threaded] [--markdown] [--raw results.json]
                                  [--no-callgrind]

The C++ binary runs first (then once more with --threaded for pair, a and e, reported as info
rows, unless --threaded is given), then the asyncio script (never both at once). Ratios:
"x faster" rows divide the baseline's time per item by QtAio's; "x cost" rows divide
QtAio's time per item by the baseline's. The target for signals with nothing connected is
checked in instructions, under callgrind (callgrind_per_item.measure_check), when valgrind is
installed. Always exits 0 when both programs ran: missed targets are reported, not failed.
"""

import argparse
import json
import os
import subprocess
import sys

import callgrind_per_item

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_BIN = os.path.join(ROOT, "build", "bench", "benchmarks", "qtaio-bench-all")

# (label, QtAio key, baseline side, baseline key, kind, target, target text)
#   kind "faster": ratio = baseline / QtAio time per item, met if >= target
#   kind "cost":   ratio = QtAio / baseline time per item, met if <= target
#   kind "bytes":  QtAio bytes per item, met if <= target (baseline shown for context)
#   kind "mb":     QtAio peak growth in MB, met if <= target
#   target None: for information only
ROWS = [
    ("a: 1P/1C, unbounded", "a", "py", "a", "faster", 20, ">= 20x faster"),
    ("a1: maxSize=1 hand-off", "a1", "py", "a1", "faster", 10, ">= 10x faster"),
    ("a1 vs queued invokeMethod (chain)", "a1", "cpp", "a1_invoke", "cost", 1.2, "<= 1.2x cost"),
    ("a1 vs queued invokeMethod (burst)", "a1", "cpp", "a1_invoke_burst", "cost", None, "info"),
    ("c: gather 100k, limit 100", "c", "py", "c", "faster", 20, ">= 20x faster"),
    ("e: PriorityQueue, prio 0..999", "e", "py", "e", "faster", 20, ">= 20x faster"),
    ("e: PriorityQueue, prio 0..2^30", "e_wide", "py", "e_wide", "faster", None, "info"),
    ("f: Latch(100k)", "f", "py", "f", "faster", 20, ">= 20x faster"),
    ("f floor: one atomic fetch_sub per item vs asyncio", "f_atomic", "py", "f", "faster", None,
     "info"),
    ("f: Latch countDown vs one atomic fetch_sub", "f", "cpp", "f_atomic", "cost", None, "info"),
    ("pair: tryPut+tryGet vs deque+mutex", "pair_try", "cpp", "pair_deque", "cost", 4,
     "<= 4x cost"),
    ("pair: co_await put+get vs deque+mutex", "pair_await", "cpp", "pair_deque", "cost", 4,
     "<= 4x cost"),
    ("g: runInThread seq vs QtConcurrent", "g_seq", "cpp", "g_seq_qtconcurrent", "faster", 1.0,
     ">= 1.0x faster"),
    ("g: runInThread gathered vs QtConcurrent", "g_gather", "cpp", "g_gather_qtconcurrent",
     "faster", 1.5, ">= 1.5x faster"),
    ("g: map(plain) vs QtConcurrent gathered", "g_map", "cpp", "g_gather_qtconcurrent",
     "faster", None, "info"),
    ("g: runInThread seq vs asyncio", "g_seq", "py", "g_seq", "faster", None, "info"),
    ("g: runInThread gathered vs asyncio", "g_gather", "py", "g_gather", "faster", None, "info"),
    ("h: 4 threads -> coroutine vs invokeMethod", "h", "cpp", "h_invoke", "faster", 5,
     ">= 5x faster"),
    ("m: AsyncQueue<int> 1M (vs std::deque)", "m_queue", "cpp", "m_deque", "bytes", 16,
     "<= 16 B/item"),
    ("m: AsyncQueue<int> 1M (vs asyncio.Queue)", "m_queue", "py", "m_queue", "bytes", None,
     "info"),
    ("m: map(coroutine) over iota(0, 1M), limit 100", "m_map", None, None, "mb", 32,
     "<= 32 MB"),
    ("m: map(plain, pool) over iota(0, 1M), limit 100", "m_map_pool", None, None, "mb", 32,
     "<= 32 MB"),
]


def run_json(command):
    print("$ " + " ".join(command), file=sys.stderr, flush=True)
    completed = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(completed.stdout)


def per_item(entry):
    return entry["seconds"] / entry["items"]


def fmt_time(seconds):
    ns = seconds * 1e9
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e4:
        return f"{ns / 1e3:.1f} us"
    if ns >= 100:
        return f"{ns:.0f} ns"
    return f"{ns:.1f} ns"


def fmt_ratio(ratio):
    return f"{ratio:.1f}x" if ratio >= 10 else f"{ratio:.2f}x"


# Info rows from a second, --threaded run (a thread started first, so glibc's mutexes use
# atomic instructions, as in any process with a second thread): (label, key, side, base key).
THREADED_ROWS = [
    ("a, a thread started", "a", "py", "a"),
    ("a, a thread started, vs deque+mutex (also threaded)", "a", "threaded", "pair_deque"),
    ("co_await put+get pair, a thread started, vs deque+mutex", "pair_await", "threaded",
     "pair_deque"),
    ("e: PriorityQueue 0..999, a thread started", "e", "py", "e"),
]


def build_rows(cpp, py, check=None, check_note=None, threaded=None):
    sides = {"cpp": cpp, "py": py}
    table = []
    for label, key, side, base_key, kind, target, target_text in ROWS:
        ours = cpp.get(key)
        theirs = sides[side].get(base_key) if side else None
        if ours is None or (side and theirs is None):
            table.append((label, "n/a", "n/a", "", target_text, "not run"))
            continue
        base_name = {"cpp": "", "py": "asyncio "}.get(side, "")
        if kind in ("faster", "cost"):
            a, b = per_item(ours), per_item(theirs)
            ratio = b / a if kind == "faster" else a / b
            met = None if target is None else (ratio >= target if kind == "faster"
                                                else ratio <= target)
            row = (label, fmt_time(a) + "/item", base_name + fmt_time(b) + "/item",
                   fmt_ratio(ratio) + (" faster" if kind == "faster" else " cost"), target_text)
        elif kind == "bytes":
            a = ours["bytes"] / ours["items"]
            b = theirs["bytes"] / theirs["items"]
            met = None if target is None else a <= target
            row = (label, f"{a:.2f} B/item", f"{base_name}{b:.2f} B/item",
                   f"{a / b:.2f}x size", target_text)
        else:  # mb
            a = ours["bytes"] / 1048576
            met = a <= target
            row = (label, f"{a:.1f} MB ({ours['bytes'] / ours['items']:.1f} B/input)", "-", "-",
                   target_text)
        verdict = "info" if met is None else ("met" if met else "MISSED")
        table.append(row + (verdict,))

    for label, key, side, base_key in THREADED_ROWS if threaded else []:
        ours = threaded.get(key)
        theirs = (threaded if side == "threaded" else py).get(base_key)
        if ours is None or theirs is None:
            continue
        a, b = per_item(ours), per_item(theirs)
        if side == "py":
            table.append((label, fmt_time(a) + "/item", "asyncio " + fmt_time(b) + "/item",
                          fmt_ratio(b / a) + " faster", "info", "info"))
        else:
            table.append((label, fmt_time(a) + "/item", fmt_time(b) + "/item",
                          fmt_ratio(a / b) + " cost", "info", "info"))

    # Signals, timed: a with nothing connected (the shipping configuration), a with one receiver
    # on closedChanged (never fires during a, but forces the change tracking and flush on every
    # operation: what the signals would cost if they were not skipped), a with sizeChanged
    # connected (signals delivered). The three ran interleaved in one process.
    none = cpp.get("signals_none")
    tracked, delivered = cpp.get("signals_tracked"), cpp.get("signals_delivered")
    if none and tracked:
        avoided = per_item(tracked) / per_item(none) - 1
        table.append(("signals: a nothing connected vs change tracking forced (closedChanged)",
                      fmt_time(per_item(none)) + "/item", fmt_time(per_item(tracked)) + "/item",
                      f"{fmt_ratio(per_item(none) / per_item(tracked))} cost; tracking "
                      f"avoided: {avoided * 100:.0f}% of a", "info", "info"))
    if none and delivered:
        emits = cpp.get("signals_delivered_emits")
        label = "signals: a with sizeChanged connected vs nothing connected"
        if emits:
            label += f" ({emits['per_item']:.1f} received/item)"
        table.append((label, fmt_time(per_item(delivered)) + "/item",
                      fmt_time(per_item(none)) + "/item",
                      fmt_ratio(per_item(delivered) / per_item(none)) + " cost", "info", "info"))

    # The target: what signals cost a while nothing is connected. There is no build without
    # signals to time against; what remains is the inline check in markChangedLocked(), counted
    # per instruction under callgrind (see callgrind_per_item.py).
    label = "signals, nothing connected, on a: markChangedLocked() check (callgrind)"
    if check is None:
        table.append((label, "n/a", "n/a", "", "<= 10% overhead", check_note or "not run"))
    else:
        share = check["check_ir"] / (check["a_ir"] - check["check_ir"])
        table.append((label,
                      f"{check['check_ir']:.1f} Ir/item ({check['executions']:.1f} x "
                      f"{check['instructions']:.0f} Ir)",
                      f"a: {check['a_ir']:.0f} Ir/item", f"{share * 100:.1f}% overhead",
                      "<= 10% overhead", "met" if share <= 0.10 else "MISSED"))
    return table


def print_table(table, markdown):
    headers = ("workload", "QtAio", "baseline", "ratio", "target (DESIGN.md 7)", "result")
    if markdown:
        print("| " + " | ".join(headers) + " |")
        print("|" + "|".join("---" for _ in headers) + "|")
        for row in table:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(str(row[i])) for row in table + [headers]) for i in range(len(headers))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*headers))
    print("  ".join("-" * w for w in widths))
    for row in table:
        print(line.format(*row))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=DEFAULT_BIN, help="the qtaio-bench-all binary")
    parser.add_argument("--python", default=sys.executable, help="the CPython to compare with")
    parser.add_argument("--quick", action="store_true", help="sizes divided by 100 (smoke run)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per workload (best wins)")
    parser.add_argument("--threaded", action="store_true",
                        help="pass --threaded to qtaio-bench-all (no single-threaded mutexes)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--raw", help="also write all results (JSON) to this file")
    parser.add_argument("--callgrind-items", type=int, default=20000,
                        help="items of a under callgrind for the signals target (--quick: / 100)")
    parser.add_argument("--no-callgrind", action="store_true",
                        help="skip the callgrind measurement of the signals target")
    args = parser.parse_args()

    extra = ["--repeat", str(args.repeat)] + (["--quick"] if args.quick else [])
    cpp = run_json([args.bin, "--json"] + extra + (["--threaded"] if args.threaded else []))
    threaded = None
    if not args.threaded:
        threaded = run_json([args.bin, "--json", "--threaded", "--only", "pair,a,e"] + extra)
    py = run_json([args.python, os.path.join(HERE, "asyncio_baseline.py"), "--json"] + extra)
    cm, pm = cpp.get("_meta", {}), py.get("_meta", {})
    print(f"QtAio (Qt {cm.get('qt')}, QThreadPool {cm.get('pool_threads')} threads) vs "
          f"{pm.get('implementation')} {pm.get('python')} asyncio "
          f"(ThreadPoolExecutor {pm.get('pool_threads')} threads); best of {args.repeat}"
          f"{'; --quick: sizes / 100' if args.quick else ''}"
          f"{'; --threaded' if args.threaded else ''}\n")
    check, check_note = None, "not run (--no-callgrind)"
    if not args.no_callgrind:
        if callgrind_per_item.have_valgrind():
            items = max(1000, args.callgrind_items // (100 if args.quick else 1))
            print(f"$ callgrind: a and signals_tracked at {items} and {2 * items} items, "
                  "per instruction", file=sys.stderr, flush=True)
            check = callgrind_per_item.measure_check(args.bin, items)
            print(callgrind_per_item.describe_check(check), file=sys.stderr, flush=True)
            if not check["executions"]:
                check, check_note = None, "check not found"
        else:
            check_note = "not run (no valgrind/objdump)"
    if args.raw:
        with open(args.raw, "w") as raw:
            json.dump({"qtaio": cpp, "qtaio_threaded": threaded, "asyncio": py,
                       "callgrind_check": check}, raw, indent=2)
    table = build_rows(cpp, py, check, check_note, threaded)
    print_table(table, args.markdown)
    missed = sum(1 for row in table if row[-1] == "MISSED")
    print(f"\n{missed} target(s) missed." if missed else "\nAll targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
