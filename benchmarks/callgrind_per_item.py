#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Instructions per item of single-threaded workloads of qtaio-bench-all, from callgrind.

Each workload runs once under `valgrind --tool=callgrind`, collecting only inside its
workload function (--toggle-collect), at N and at 2N items. Reported per item:
  at N:        Ir(N) / N (fixed costs such as creating the queue and the event loop included)
  marginal:    (Ir(2N) - Ir(N)) / N (fixed costs cancelled out)

The cost of change signals with nothing connected is measured on a, per instruction
(--dump-instr=yes): WaitCore::markChangedLocked() is inline, so it has no function of its own
in the profile. Its check is found in the disassembly (objdump) at every call site of the
out-of-line WaitCore::markChangedSlow(): the load of the receiver count, its test and the
branch that skips the slow path. The instructions executed at those addresses are summed. As a
cross-check, the calls of markChangedSlow() per item are counted in signals_tracked (a with
closedChanged connected), where every check passes.

    python3 benchmarks/callgrind_per_item.py [--bin ...] [--items 20000] [--markdown]

compare.py imports measure_check() from here for the target row of the signals.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BIN = os.path.join(os.path.dirname(HERE), "build", "bench", "benchmarks",
                           "qtaio-bench-all")

# key for --only, function to collect in, label
WORKLOADS = [
    ("a", "bench::workloadA(int)", "a: 1P/1C coroutines, unbounded AsyncQueue<int>"),
    ("signals_tracked", "bench::workloadSignalsTracked(int)",
     "a, closedChanged connected (change tracking forced)"),
    ("signals_delivered", "bench::workloadSignalsDelivered(int)",
     "a, sizeChanged connected (signals delivered)"),
    ("a1", "bench::workloadA1(int)", "a1: 1P/1C coroutines, maxSize = 1"),
    ("a1_invoke", "bench::workloadInvokeChain(int)", "a1 baseline: queued invokeMethod chain"),
    ("e", "bench::workloadE(int)", "e: PriorityQueue<int> put + get, prio 0..999"),
    ("f", "bench::workloadF(int)", "f: Latch countDown (+ one wait)"),
    ("f_atomic", "bench::workloadFloorAtomic(int)", "f floor: one std::atomic fetch_sub"),
    ("pair_try", "bench::workloadPairTry(int)", "pair: tryPut + tryGet"),
    ("pair_deque", "bench::workloadPairDeque(int)", "pair baseline: std::deque + std::mutex"),
]

SLOW_PATH = "QtAio::detail::WaitCore::markChangedSlow()"


def have_valgrind():
    return shutil.which("valgrind") is not None and shutil.which("objdump") is not None


def callgrind(binary, key, function, items, out_file, per_instruction=False):
    """Runs one workload under callgrind; returns the total Ir collected in function."""
    command = ["valgrind", "--tool=callgrind", f"--toggle-collect={function}",
               f"--callgrind-out-file={out_file}"]
    if per_instruction:
        command += ["--dump-instr=yes", "--dump-line=no"]
    subprocess.run(command + [binary, "--only", key, "--repeat", "1", "--items", str(items)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out_file) as out:
        for line in out:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError(f"no totals in {out_file}")


def parse_profile(out_file):
    """Self Ir per (object, instruction address) and calls per callee name, from a callgrind
    output written with --dump-instr=yes --dump-line=no (positions: instr, events: Ir)."""
    names = {"ob": {}, "fl": {}, "fn": {}}

    def name(kind, text):
        match = re.match(r"\((\d+)\)(?:\s+(.*))?$", text.strip())
        if not match:
            return text.strip()
        if match.group(2) is not None:
            names[kind][match.group(1)] = match.group(2)
        return names[kind].get(match.group(1), text.strip())

    costs, calls = {}, {}
    obj, callee, position, call_line = None, None, 0, False
    with open(out_file) as out:
        for raw in out:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            head = line.split("=", 1)[0]
            if "=" in line and head.isalpha():
                value = line.split("=", 1)[1]
                if head == "ob":
                    obj = name("ob", value)
                elif head == "cob":
                    name("ob", value)
                elif head in ("fl", "fi", "fe", "cfi", "cfl"):
                    name("fl", value)
                elif head == "fn":
                    name("fn", value)
                elif head == "cfn":
                    callee = name("fn", value)
                elif head == "calls":
                    calls[callee] = calls.get(callee, 0) + int(value.split()[0])
                    call_line = True
                continue
            first = line.split()[0]
            if not (first[0].isdigit() or first[0] in "+-*"):
                continue  # header lines such as "events: Ir", "summary: ..."
            fields = line.split()
            if fields[0] == "*":
                pass
            elif fields[0].startswith(("+", "-")):
                position += int(fields[0], 0)
            else:
                position = int(fields[0], 0)
            if call_line:  # the inclusive cost of the call on the line before
                call_line = False
                continue
            if len(fields) > 1:
                costs[(obj, position)] = costs.get((obj, position), 0) + int(fields[1])
    return costs, calls


INSTRUCTION = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")


def check_sites(path):
    """The fast-path instructions of every inlined markChangedLocked() check in an object file:
    for each call of markChangedSlow(), the instructions before the branch that skips it when
    nothing is connected. Returns (list of lists of addresses, number of calls not matched)."""
    text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-C", path], check=True,
                          capture_output=True, text=True).stdout
    code = []
    for line in text.splitlines():
        match = INSTRUCTION.match(line)
        if match:
            code.append((int(match.group(1), 16), match.group(2), match.group(3)))
        elif line.endswith(">:"):
            code.append(None)  # function boundary
    sites, unmatched = [], 0

    def at(i):
        return code[i] if 0 <= i < len(code) and code[i] else (0, "", "")

    for i, instr in enumerate(code):
        if not instr or not instr[1].startswith("call") or SLOW_PATH not in instr[2]:
            continue
        j = i - 1
        if at(j)[1] == "mov" and at(j)[2].endswith(",%rdi"):
            j -= 1  # the argument
        fast = None
        # owner check (cmpq $0x0,owner; je) and, before it, the receiver-count check
        if at(j)[1] in ("je", "jz") and at(j - 1)[1] == "cmpq" and at(j - 1)[2].startswith("$0x0,"):
            j -= 2
            if at(j)[1] in ("je", "jz"):
                branch = at(j)
                flags = at(j - 1)
                if flags[1] == "test":
                    reg = flags[2].split(",")[0]
                    load = at(j - 2)
                    if flags[2] == f"{reg},{reg}" and load[1] == "mov" and load[2].endswith(
                            "," + reg):
                        fast = [load[0], flags[0], branch[0]]
                elif flags[1] == "cmpl" and flags[2].startswith("$0x0,"):
                    fast = [flags[0], branch[0]]
        if fast:
            sites.append(fast)
        else:
            unmatched += 1
    return sites, unmatched


def measure_check(binary, items=20000):
    """Instructions per item of a spent in the nothing-connected check of markChangedLocked().

    Returns a dict: check_ir and executions (per item, marginal between N and 2N items), a_ir
    (marginal Ir per item of a), instructions (per executed check), sites / unmatched (call
    sites of markChangedSlow found / not recognised), slow_calls (markChangedSlow calls per
    item of signals_tracked, marginal) and items."""
    with tempfile.TemporaryDirectory() as tmp:
        totals, profiles = {}, {}
        for n in (items, 2 * items):
            out = os.path.join(tmp, f"a.{n}.out")
            totals[n] = callgrind(binary, "a", "bench::workloadA(int)", n, out, True)
            profiles[n] = parse_profile(out)
        slow = {}
        for n in (items, 2 * items):
            out = os.path.join(tmp, f"tracked.{n}.out")
            callgrind(binary, "signals_tracked", "bench::workloadSignalsTracked(int)", n, out,
                      True)
            slow[n] = parse_profile(out)[1].get(SLOW_PATH, 0)

    objects = {obj for (obj, _addr) in profiles[items][0] if obj and (
        os.path.realpath(obj) == os.path.realpath(binary) or "libQtAio6" in obj)}
    found, unmatched = [], 0
    for obj in sorted(objects):
        sites, missing = check_sites(obj)
        found += [(obj, site) for site in sites]
        unmatched += missing

    def check_cost(n):
        costs = profiles[n][0]
        ir = sum(costs.get((obj, addr), 0) for obj, site in found for addr in site)
        runs = sum(costs.get((obj, site[-1]), 0) for obj, site in found)
        return ir, runs

    (ir_n, runs_n), (ir_2n, runs_2n) = check_cost(items), check_cost(2 * items)
    executed_sites = sum(1 for obj, site in found if profiles[items][0].get((obj, site[-1])))
    return {
        "items": items,
        "a_ir": (totals[2 * items] - totals[items]) / items,
        "check_ir": (ir_2n - ir_n) / items,
        "executions": (runs_2n - runs_n) / items,
        "instructions": (ir_2n - ir_n) / (runs_2n - runs_n) if runs_2n > runs_n else 0,
        "sites": len(found),
        "executed_sites": executed_sites,
        "unmatched": unmatched,
        "slow_calls": (slow[2 * items] - slow[items]) / items,
    }


def describe_check(check):
    share = check["check_ir"] / (check["a_ir"] - check["check_ir"])
    return (f"a, nothing connected: the markChangedLocked() check runs "
            f"{check['executions']:.2f} times per item at {check['instructions']:.1f} "
            f"instructions each = {check['check_ir']:.1f} Ir/item of {check['a_ir']:.0f} "
            f"(marginal), {share * 100:.2f}% overhead. {check['executed_sites']} of "
            f"{check['sites']} check sites executed ({check['unmatched']} calls of "
            f"markChangedSlow not recognised). With closedChanged connected, markChangedSlow() "
            f"runs {check['slow_calls']:.2f} times per item.")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=DEFAULT_BIN)
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()

    n = args.items
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for key, function, label in WORKLOADS:
            print(f"callgrind: {key} at {n} and {2 * n} items", file=sys.stderr, flush=True)
            small = os.path.join(tmp, f"{key}.{n}.out")
            large = os.path.join(tmp, f"{key}.{2 * n}.out")
            ir_n = callgrind(args.bin, key, function, n, small)
            ir_2n = callgrind(args.bin, key, function, 2 * n, large)
            rows.append((label, ir_n / n, (ir_2n - ir_n) / n))
    print("callgrind: the markChangedLocked() check in a, per instruction", file=sys.stderr,
          flush=True)
    check = measure_check(args.bin, n)

    if args.markdown:
        print(f"| workload | Ir/item at {n} | marginal Ir/item ({n} -> {2 * n}) |")
        print("|---|---|---|")
        for label, at_n, marginal in rows:
            print(f"| {label} | {at_n:.0f} | {marginal:.0f} |")
    else:
        print(f"{'workload':<52} {'Ir/item at ' + str(n):>16} {'marginal Ir/item':>18}")
        for label, at_n, marginal in rows:
            print(f"{label:<52} {at_n:>16.0f} {marginal:>18.0f}")
    print("\n" + describe_check(check))
    return 0


if __name__ == "__main__":
    sys.exit(main())
