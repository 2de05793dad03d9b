#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs the QtAio benchmark binary and the asyncio baselines in alternating rounds, then prints
one side-by-side table against the targets of DESIGN.md section 7 (and issue 16).

    python3 benchmarks/compare.py [--bin build/release/benchmarks/qtaio-bench-all] [--quick]
                                  [--rounds 3] [--repeat 3] [--unthreaded] [--markdown]
                                  [--raw results.json] [--no-callgrind]

Each round runs the C++ binary (every workload the best of --repeat runs), then the asyncio
script; there are --rounds rounds (at least 3 for a verdict), so that a change in the load of
the machine touches both sides alike. Every ratio is given for the best time per item of each
side over all rounds, with its spread: the lowest and highest ratio of a single round. The
verdict follows the best-of-rounds ratio; when some rounds fall on the other side of the
target, the verdict says in how many rounds the target was met. Memory rows take the largest
figure of the rounds.

The binary runs with an idle thread started first (its default), as in any Qt application;
--unthreaded passes its old mode on (no thread of its own until g: glibc and libstdc++ then
skip the locked instructions of mutexes and reference counts). "x faster" rows divide the
baseline's time per item by QtAio's; "x cost" rows divide QtAio's time per item by the
baseline's. A baseline given as several keys is the fastest of them (asyncio's fastest stock
idiom for c). The target for signals with nothing connected is checked in instructions, under
callgrind (callgrind_per_item.measure_check), when valgrind is installed. The CPU model (from
/proc/cpuinfo) heads the output: some ratios depend on it. Always exits 0 when both programs
ran: missed targets are reported, not failed.
"""

import argparse
import json
import os
import platform
import subprocess
import sys

import callgrind_per_item

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_BIN = os.path.join(ROOT, "build", "release", "benchmarks", "qtaio-bench-all")

# The fastest stock asyncio idioms for c (see asyncio_baseline.py): gather + Semaphore, 100
# workers over a shared iterator (gathered or in a TaskGroup), TaskGroup + Semaphore.
ASYNCIO_C = ("c", "c_pool", "c_taskgroup", "c_taskgroup_pool")

# h: (producer threads, in words, unbounded key, maxSize 1024 key, invokeMethod key)
H_RUNS = [
    (1, "1 thread", "h_1", "h_bounded_1", "h_invoke_1"),
    (2, "2 threads", "h_2", "h_bounded_2", "h_invoke_2"),
    (4, "4 threads", "h", "h_bounded_4", "h_invoke"),
]

# (label, QtAio key, baseline side, baseline key(s), kind, target, target text)
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
    ("c: gather 100k, limit 100, vs creating + awaiting one QCoro::Task", "c", "cpp", "c_task",
     "cost", 3, "<= 3x cost"),
    ("c: gather 100k, limit 100, vs asyncio's fastest idiom", "c", "py", ASYNCIO_C, "faster",
     1.5, ">= 1.5x faster"),
    ("c: gather 100k, limit 100, vs asyncio gather + Semaphore", "c", "py", "c", "faster", None,
     "info"),
    ("c: gather 100k, limit 100, vs asyncio 100 workers, shared iterator", "c", "py", "c_pool",
     "faster", None, "info"),
    ("c: gather 100k, limit 100, vs asyncio TaskGroup + Semaphore", "c", "py", "c_taskgroup",
     "faster", None, "info"),
    ("c: gather 100k, limit 100, vs asyncio TaskGroup, 100 workers", "c", "py",
     "c_taskgroup_pool", "faster", None, "info"),
    ("e: PriorityQueue, prio 0..999", "e", "py", "e", "faster", 20, ">= 20x faster"),
    ("e: PriorityQueue, prio 0..2^30", "e_wide", "py", "e_wide", "faster", None, "info"),
    ("f: Latch countDown vs one atomic fetch_sub", "f_countdown", "cpp", "f_atomic", "cost",
     1.3, "<= 1.3x cost"),
    ("f: Latch(100k) countDown + wait vs one atomic fetch_sub", "f", "cpp", "f_atomic", "cost",
     None, "info"),
    ("f: Latch(100k) vs asyncio", "f", "py", "f", "faster", None, "info"),
    ("pair: tryPut+tryGet vs deque+mutex", "pair_try", "cpp", "pair_deque", "cost", 4,
     "<= 4x cost"),
    ("pair: co_await put+get vs deque+mutex", "pair_await", "cpp", "pair_deque", "cost", 4,
     "<= 4x cost"),
    ("g: runInThread seq vs co_await QtConcurrent::run", "g_seq", "cpp", "g_seq_qtconcurrent",
     "faster", 1.0, ">= 1.0x faster"),
    ("g: runInThread gathered vs QtConcurrent::run gathered", "g_gather", "cpp",
     "g_gather_qtconcurrent", "faster", 1.0, ">= 1.0x faster"),
    ("g: map(plain) 20k vs QtConcurrent::mapped", "g_map", "cpp", "g_mapped", "cost", 1.5,
     "<= 1.5x cost"),
    ("g: map(plain) 1M vs QtConcurrent::mapped", "g_map_1m", "cpp", "g_mapped_1m", "cost", 1.5,
     "<= 1.5x cost"),
    ("g: map(plain) 20k vs QtConcurrent::blockingMapped", "g_map", "cpp", "g_blocking_mapped",
     "cost", None, "info"),
    ("g: map(plain) 1M vs QtConcurrent::blockingMapped", "g_map_1m", "cpp",
     "g_blocking_mapped_1m", "cost", None, "info"),
    ("g: runInThread seq vs asyncio", "g_seq", "py", "g_seq", "faster", None, "info"),
    ("g: runInThread gathered vs asyncio", "g_gather", "py", "g_gather", "faster", None, "info"),
] + [
    # h (the target is on 4 threads) and h-bounded, at each producer count
    (f"h: {threads} -> coroutine vs invokeMethod", unbounded, "cpp", invoke, "faster",
     5 if count == 4 else None, ">= 5x faster" if count == 4 else "info")
    for count, threads, unbounded, _bounded, invoke in H_RUNS
] + [
    (f"h-bounded: {threads}, maxSize 1024, vs {name}", bounded, "cpp", base, kind, target,
     text)
    for _count, threads, unbounded, bounded, invoke in H_RUNS
    for name, base, kind, target, text in (("unbounded", unbounded, "cost", 2, "<= 2x cost"),
                                           ("invokeMethod", invoke, "faster", 5,
                                            ">= 5x faster"))
] + [
    ("m: AsyncQueue<int> 1M (vs std::deque)", "m_queue", "cpp", "m_deque", "bytes", 16,
     "<= 16 B/item"),
    ("m: AsyncQueue<int> 1M (vs asyncio.Queue)", "m_queue", "py", "m_queue", "bytes", None,
     "info"),
    ("m: map(coroutine) over iota(0, 1M), limit 100", "m_map", None, None, "mb", 32,
     "<= 32 MB"),
    ("m: map(plain, pool) over iota(0, 1M), limit 100", "m_map_pool", None, None, "mb", 32,
     "<= 32 MB"),
]


def cpu_model():
    """The CPU model as /proc/cpuinfo names it (x86 "model name", else "Processor"/"Hardware"),
    and the number of logical CPUs."""
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            fields = dict(line.split(":", 1) for line in cpuinfo if ":" in line)
        fields = {key.strip(): value.strip() for key, value in fields.items()}
        model = next((fields[key] for key in ("model name", "Processor", "Hardware", "cpu model")
                      if fields.get(key)), model)
    except OSError:
        pass
    return f"{model} ({os.cpu_count()} logical CPUs)"


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


def fastest(results, keys):
    """(key, entry) of the fastest per item of \a keys in one run's results, or (None, None)."""
    found = [(per_item(results[key]), key) for key in keys if key in results]
    if not found:
        return None, None
    key = min(found)[1]
    return key, results[key]


def best_of(rounds):
    """Each timed workload's best (fastest) run over the rounds; memory: the largest figure."""
    best = {}
    for results in rounds:
        for key, entry in results.items():
            if key.startswith("_") or key not in best:
                best.setdefault(key, entry)
                continue
            if "seconds" in entry and per_item(entry) < per_item(best[key]):
                best[key] = entry
            elif "bytes" in entry and entry["bytes"] / entry["items"] > (
                    best[key]["bytes"] / best[key]["items"]):
                best[key] = entry
    return best


def meets(ratio, kind, target):
    return ratio >= target if kind == "faster" else ratio <= target


def time_ratio(ours, theirs, kind):
    a, b = per_item(ours), per_item(theirs)
    return b / a if kind == "faster" else a / b


def build_rows(cpp_rounds, py_rounds, check=None, check_note=None):
    """The table rows: (label, QtAio, baseline, ratio, spread, target, result)."""
    cpp, py = best_of(cpp_rounds), best_of(py_rounds)
    sides = {"cpp": (cpp, cpp_rounds), "py": (py, py_rounds)}
    table = []
    for label, key, side, base_keys, kind, target, target_text in ROWS:
        keys = base_keys if isinstance(base_keys, tuple) else (base_keys,)
        ours = cpp.get(key)
        base, base_rounds = sides[side] if side else ({}, [])
        base_key, theirs = fastest(base, keys) if side and kind in ("faster", "cost") else (
            keys[0], base.get(keys[0]))
        if ours is None or (side and theirs is None):
            table.append((label, "n/a", "n/a", "", "", target_text, "not run"))
            continue
        base_name = "asyncio " if side == "py" else ""
        if len(keys) > 1:
            base_name += base_key + " "
        if kind in ("faster", "cost"):
            ratio = time_ratio(ours, theirs, kind)
            per_round = []
            for own, other in zip(cpp_rounds, base_rounds):
                other_entry = fastest(other, keys)[1]
                if key in own and other_entry is not None:
                    per_round.append(time_ratio(own[key], other_entry, kind))
            spread = (f"{fmt_ratio(min(per_round))}-{fmt_ratio(max(per_round))}"
                      if per_round else "")
            met = None if target is None else meets(ratio, kind, target)
            verdict = "info" if met is None else ("met" if met else "MISSED")
            if met is not None and per_round:
                in_rounds = sum(1 for r in per_round if meets(r, kind, target))
                if in_rounds != (len(per_round) if met else 0):
                    verdict += f" (met in {in_rounds}/{len(per_round)} rounds)"
            table.append((label, fmt_time(per_item(ours)) + "/item",
                          base_name + fmt_time(per_item(theirs)) + "/item",
                          fmt_ratio(ratio) + (" faster" if kind == "faster" else " cost"),
                          spread, target_text, verdict))
            continue
        if kind == "bytes":
            a = ours["bytes"] / ours["items"]
            b = theirs["bytes"] / theirs["items"]
            met = None if target is None else a <= target
            row = (label, f"{a:.2f} B/item", f"{base_name}{b:.2f} B/item",
                   f"{a / b:.2f}x size", "", target_text)
        else:  # mb
            a = ours["bytes"] / 1048576
            met = a <= target
            row = (label, f"{a:.1f} MB ({ours['bytes'] / ours['items']:.1f} B/input)", "-", "-",
                   "", target_text)
        table.append(row + ("info" if met is None else ("met" if met else "MISSED"),))

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
                      f"avoided: {avoided * 100:.0f}% of a", "", "info", "info"))
    if none and delivered:
        emits = cpp.get("signals_delivered_emits")
        label = "signals: a with sizeChanged connected vs nothing connected"
        if emits:
            label += f" ({emits['per_item']:.1f} received/item)"
        table.append((label, fmt_time(per_item(delivered)) + "/item",
                      fmt_time(per_item(none)) + "/item",
                      fmt_ratio(per_item(delivered) / per_item(none)) + " cost", "", "info",
                      "info"))

    # The target: what signals cost a while nothing is connected. There is no build without
    # signals to time against; what remains is the inline check in markChangedLocked(), counted
    # per instruction under callgrind (see callgrind_per_item.py).
    label = "signals, nothing connected, on a: markChangedLocked() check (callgrind)"
    if check is None:
        table.append((label, "n/a", "n/a", "", "", "<= 10% overhead", check_note or "not run"))
    else:
        share = check["check_ir"] / (check["a_ir"] - check["check_ir"])
        table.append((label,
                      f"{check['check_ir']:.1f} Ir/item ({check['executions']:.1f} x "
                      f"{check['instructions']:.0f} Ir)",
                      f"a: {check['a_ir']:.0f} Ir/item", f"{share * 100:.1f}% overhead", "",
                      "<= 10% overhead", "met" if share <= 0.10 else "MISSED"))
    return table


def print_table(table, markdown):
    headers = ("workload", "QtAio", "baseline", "ratio (best of rounds)", "spread over rounds",
               "target (DESIGN.md 7)", "result")
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
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating rounds of both programs (default 3)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per workload within a round (best wins)")
    parser.add_argument("--unthreaded", action="store_true",
                        help="pass --unthreaded to qtaio-bench-all (no idle thread: glibc's "
                             "single-thread shortcut stays on until g)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--raw", help="also write all results (JSON, every round) to this file")
    parser.add_argument("--from-raw", metavar="FILE",
                        help="run nothing: print the table of a file that --raw wrote")
    parser.add_argument("--callgrind-items", type=int, default=20000,
                        help="items of a under callgrind for the signals target (--quick: / 100)")
    parser.add_argument("--no-callgrind", action="store_true",
                        help="skip the callgrind measurement of the signals target")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    if args.from_raw:
        with open(args.from_raw) as raw:
            saved = json.load(raw)
        print_report(args, saved["qtaio_rounds"], saved["asyncio_rounds"], saved["cpu"],
                     saved["callgrind_check"], saved.get("callgrind_note"))
        return 0

    extra = ["--repeat", str(args.repeat)] + (["--quick"] if args.quick else [])
    cpp_command = [args.bin, "--json"] + extra + (["--unthreaded"] if args.unthreaded else [])
    py_command = [args.python, os.path.join(HERE, "asyncio_baseline.py"), "--json"] + extra
    cpp_rounds, py_rounds = [], []
    for round_index in range(args.rounds):
        print(f"round {round_index + 1} of {args.rounds}", file=sys.stderr, flush=True)
        cpp_rounds.append(run_json(cpp_command))
        py_rounds.append(run_json(py_command))
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
            json.dump({"cpu": cpu_model(), "qtaio_rounds": cpp_rounds,
                       "asyncio_rounds": py_rounds, "callgrind_check": check,
                       "callgrind_note": check_note}, raw, indent=2)
    print_report(args, cpp_rounds, py_rounds, cpu_model(), check, check_note)
    return 0


def print_report(args, cpp_rounds, py_rounds, cpu, check, check_note):
    cm, pm = cpp_rounds[0].get("_meta", {}), py_rounds[0].get("_meta", {})
    rounds = len(cpp_rounds)
    mode = ("an idle thread started first, the default" if cm.get("threaded", True)
            else "--unthreaded: no thread started before g")
    quick = "; --quick: sizes / 100" if cm.get("quick") else ""
    header = [
        f"CPU: {cpu}",
        f"QtAio (Qt {cm.get('qt')}, QThreadPool {cm.get('pool_threads')} threads; {mode}) vs "
        f"{pm.get('implementation')} {pm.get('python')} asyncio (ThreadPoolExecutor "
        f"{pm.get('pool_threads')} threads)",
        f"{rounds} alternating round{'s' if rounds != 1 else ''} (C++, then asyncio), each "
        f"workload the best of "
        f"{cm.get('repeat')} runs per round; ratio: best of the rounds; spread: lowest-highest "
        f"ratio of one round{quick}",
    ]
    if rounds < 3:
        header.append("fewer than 3 rounds: the verdicts are not a measurement of record")
    for line in header:
        print(("- " if args.markdown else "") + line)
    print()
    table = build_rows(cpp_rounds, py_rounds, check, check_note)
    print_table(table, args.markdown)
    missed = [row[0] for row in table if row[-1].startswith("MISSED")]
    targets = [row for row in table if row[-1].startswith(("met", "MISSED"))]
    print(f"\n{len(targets) - len(missed)} of {len(targets)} targets met.")
    if missed:
        print("Missed: " + "; ".join(missed) + ".")


if __name__ == "__main__":
    sys.exit(main())
