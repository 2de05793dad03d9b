#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Instructions per item of single-threaded workloads of qtaio-bench-all, from callgrind.

Each workload runs once under `valgrind --tool=callgrind`, collecting only inside its
workload function (--toggle-collect), at N and at 2N items. Reported per item:
  at N:        Ir(N) / N (fixed costs such as creating the queue and the event loop included)
  marginal:    (Ir(2N) - Ir(N)) / N (fixed costs cancelled out)
For a, the share of AsyncQueueBase::emitChanges (the change signals, nothing connected) in the
marginal cost is printed as well.

    python3 benchmarks/callgrind_per_item.py [--bin ...] [--items 20000] [--markdown]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BIN = os.path.join(os.path.dirname(HERE), "build", "bench", "benchmarks",
                           "qtaio-bench-all")

# key for --only, function to collect in, label
WORKLOADS = [
    ("a", "bench::workloadA(int)", "a: 1P/1C coroutines, unbounded AsyncQueue<int>"),
    ("a1", "bench::workloadA1(int)", "a1: 1P/1C coroutines, maxSize = 1"),
    ("a1_invoke", "bench::workloadInvokeChain(int)", "a1 baseline: queued invokeMethod chain"),
    ("e", "bench::workloadE(int)", "e: PriorityQueue<int> put + get, prio 0..999"),
    ("f", "bench::workloadF(int)", "f: Latch countDown (+ one wait)"),
    ("pair_try", "bench::workloadPairTry(int)", "pair: tryPut + tryGet"),
    ("pair_deque", "bench::workloadPairDeque(int)", "pair baseline: std::deque + std::mutex"),
]

SIGNAL_FUNCTION = "QtAio::AsyncQueueBase::emitChanges()"


def callgrind(binary, key, function, items, out_file):
    subprocess.run(["valgrind", "--tool=callgrind", f"--toggle-collect={function}",
                    f"--callgrind-out-file={out_file}", binary, "--only", key,
                    "--repeat", "1", "--items", str(items)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out_file) as out:
        for line in out:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError(f"no totals in {out_file}")


def inclusive(out_file, function):
    """Inclusive Ir of function, from callgrind_annotate."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", out_file], check=True,
                          capture_output=True, text=True).stdout
    for line in text.splitlines():
        if function in line:
            match = re.match(r"\s*([\d,]+)", line)
            if match:
                return int(match.group(1).replace(",", ""))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=DEFAULT_BIN)
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()

    n = args.items
    rows = []
    signal_share = None
    with tempfile.TemporaryDirectory() as tmp:
        for key, function, label in WORKLOADS:
            print(f"callgrind: {key} at {n} and {2 * n} items", file=sys.stderr, flush=True)
            small = os.path.join(tmp, f"{key}.{n}.out")
            large = os.path.join(tmp, f"{key}.{2 * n}.out")
            ir_n = callgrind(args.bin, key, function, n, small)
            ir_2n = callgrind(args.bin, key, function, 2 * n, large)
            rows.append((label, ir_n / n, (ir_2n - ir_n) / n))
            if key == "a":
                emit_n, emit_2n = inclusive(small, SIGNAL_FUNCTION), inclusive(large,
                                                                              SIGNAL_FUNCTION)
                signal_share = ((emit_2n - emit_n) / n, (emit_2n - emit_n) / (ir_2n - ir_n))

    if args.markdown:
        print(f"| workload | Ir/item at {n} | marginal Ir/item ({n} -> {2 * n}) |")
        print("|---|---|---|")
        for label, at_n, marginal in rows:
            print(f"| {label} | {at_n:.0f} | {marginal:.0f} |")
    else:
        print(f"{'workload':<48} {'Ir/item at ' + str(n):>16} {'marginal Ir/item':>18}")
        for label, at_n, marginal in rows:
            print(f"{label:<48} {at_n:>16.0f} {marginal:>18.0f}")
    if signal_share:
        print(f"\na: {SIGNAL_FUNCTION} inclusive: {signal_share[0]:.0f} Ir/item, "
              f"{signal_share[1] * 100:.1f}% of the marginal cost of a")
    return 0


if __name__ == "__main__":
    sys.exit(main())
