#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""CPython asyncio baselines for the DESIGN.md section 7 workloads (standard library only).

The same workloads and sizes as benchmarks/bench_all.cpp:
  a       200k items, 1 producer / 1 consumer coroutine, unbounded asyncio.Queue
  a1      the same with maxsize=1
  c       gather of 100k trivial coroutines, at most 100 at once (asyncio.Semaphore)
  c_pool  the same job as 100 worker coroutines over one shared iterator, gathered
  c_taskgroup       asyncio.TaskGroup (3.11+): a task per item, at most 100 at once (Semaphore)
  c_taskgroup_pool  asyncio.TaskGroup (3.11+): 100 worker tasks over one shared iterator
  e       asyncio.PriorityQueue: 200k puts with random priorities (0..999; e_wide: 0..2^30),
          then 200k gets
  f       a countdown latch of 100k (asyncio.Event + counter): 100k count_down + wait
  g_seq   loop.run_in_executor(ThreadPoolExecutor) x20k, one after the other
  g_gather the same x20k, gathered
  m_queue peak RSS growth for 1M ints in an asyncio.Queue (fresh child process)

Every timed workload runs --repeat times (default 3), each in a fresh event loop; the best
run is reported. --json prints {workload: {"seconds": s, "items": n}} (m_queue: "bytes").
--quick divides every size by 100.
"""

import argparse
import asyncio
import json
import os
import platform
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

SIZES = {
    "a": 200_000,
    "a1": 200_000,
    "c": 100_000,
    "c_pool": 100_000,
    "c_taskgroup": 100_000,
    "c_taskgroup_pool": 100_000,
    "e": 200_000,
    "e_wide": 200_000,
    "f": 100_000,
    "g_seq": 20_000,
    "g_gather": 20_000,
    "m_queue": 1_000_000,
}


# --- a, a1 -----------------------------------------------------------------------------------

async def queue_pipeline(n, maxsize):
    start = time.perf_counter()
    queue = asyncio.Queue(maxsize)

    async def produce():
        for i in range(n):
            await queue.put(i)

    async def consume():
        total = 0
        for _ in range(n):
            total += await queue.get()
        return total

    consumer = asyncio.create_task(consume())  # runs first and waits for the first item
    producer = asyncio.create_task(produce())
    total = await consumer
    await producer
    elapsed = time.perf_counter() - start
    assert total == n * (n - 1) // 2
    return elapsed


async def workload_a(n):
    return await queue_pipeline(n, 0)


async def workload_a1(n):
    return await queue_pipeline(n, 1)


# --- c ---------------------------------------------------------------------------------------

async def trivial(i):
    return i


def c_done(start, results):
    """The time since \a start; checks the results of c (a list, or a TaskGroup's tasks)."""
    elapsed = time.perf_counter() - start
    values = [r.result() if isinstance(r, asyncio.Task) else r for r in results]
    assert sum(values) == len(values) * (len(values) - 1) // 2
    return elapsed


def limited_trivial():
    """trivial() for at most 100 callers at once (asyncio.Semaphore)."""
    limit = asyncio.Semaphore(100)

    async def limited(i):
        async with limit:
            return await trivial(i)

    return limited


def pool_worker(results):
    """A worker coroutine function: its calls share one iterator over the indices of results."""
    inputs = iter(range(len(results)))

    async def worker():
        for i in inputs:
            results[i] = await trivial(i)

    return worker


async def workload_c(n):
    start = time.perf_counter()
    limited = limited_trivial()
    return c_done(start, await asyncio.gather(*(limited(i) for i in range(n))))


async def workload_c_pool(n):
    start = time.perf_counter()
    results = [0] * n
    worker = pool_worker(results)
    await asyncio.gather(*(worker() for _ in range(100)))
    return c_done(start, results)


async def workload_c_taskgroup(n):
    start = time.perf_counter()
    limited = limited_trivial()
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(limited(i)) for i in range(n)]
    return c_done(start, tasks)


async def workload_c_taskgroup_pool(n):
    start = time.perf_counter()
    results = [0] * n
    worker = pool_worker(results)
    async with asyncio.TaskGroup() as group:
        for _ in range(100):
            group.create_task(worker())
    return c_done(start, results)


# --- e ---------------------------------------------------------------------------------------

async def priority_round_trip(n, bound):
    rng = random.Random(42)
    priorities = [rng.randrange(bound) for _ in range(n)]
    start = time.perf_counter()
    queue = asyncio.PriorityQueue()
    for i in range(n):
        await queue.put((priorities[i], i))
    total = 0
    for _ in range(n):
        total += (await queue.get())[1]
    elapsed = time.perf_counter() - start
    assert total == n * (n - 1) // 2
    return elapsed


async def workload_e(n):
    return await priority_round_trip(n, 1000)


async def workload_e_wide(n):
    return await priority_round_trip(n, 1 << 30)


# --- f ---------------------------------------------------------------------------------------

class CountDownLatch:
    """A single-use countdown latch built from asyncio.Event and a counter."""

    def __init__(self, count):
        if count < 0:
            raise ValueError("count must not be negative")
        self._count = count
        self._event = asyncio.Event()
        if count == 0:
            self._event.set()

    def count_down(self, n=1):
        if self._count > 0:
            self._count = max(0, self._count - n)
            if self._count == 0:
                self._event.set()

    def get_count(self):
        return self._count

    async def wait(self):
        await self._event.wait()
        return True


async def workload_f(n):
    start = time.perf_counter()
    latch = CountDownLatch(n)
    waiter = asyncio.create_task(latch.wait())
    await asyncio.sleep(0)  # let the waiter start waiting, as the C++ side does
    for _ in range(n):
        latch.count_down()
    released = await waiter
    elapsed = time.perf_counter() - start
    assert released and latch.get_count() == 0
    return elapsed


# --- g ---------------------------------------------------------------------------------------

def twice(value):
    return 2 * value


# One pool for all g runs (as QThreadPool::globalInstance() on the C++ side); default size.
_POOL = None


def pool():
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor()
    return _POOL


async def workload_g_seq(n):
    loop = asyncio.get_running_loop()
    executor = pool()
    start = time.perf_counter()
    total = 0
    for i in range(n):
        total += await loop.run_in_executor(executor, twice, i)
    elapsed = time.perf_counter() - start
    assert total == n * (n - 1)
    return elapsed


async def workload_g_gather(n):
    loop = asyncio.get_running_loop()
    executor = pool()
    start = time.perf_counter()
    results = await asyncio.gather(*(loop.run_in_executor(executor, twice, i) for i in range(n)))
    elapsed = time.perf_counter() - start
    assert sum(results) == n * (n - 1)
    return elapsed


TIMED = {
    "a": workload_a,
    "a1": workload_a1,
    "c": workload_c,
    "c_pool": workload_c_pool,
    # asyncio.TaskGroup is new in CPython 3.11
    **({"c_taskgroup": workload_c_taskgroup, "c_taskgroup_pool": workload_c_taskgroup_pool}
       if hasattr(asyncio, "TaskGroup") else {}),
    "e": workload_e,
    "e_wide": workload_e_wide,
    "f": workload_f,
    "g_seq": workload_g_seq,
    "g_gather": workload_g_gather,
}


# --- m ---------------------------------------------------------------------------------------

def status_kb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


def memory_child(name, n):
    if name != "m_queue":
        raise SystemExit(f"unknown memory workload {name}")
    queue = asyncio.Queue()
    reset = reset_peak_rss()
    before = status_kb("VmRSS")
    for i in range(n):
        queue.put_nowait(i)
    peak = status_kb("VmHWM")
    assert queue.qsize() == n
    print(json.dumps({"bytes": (peak - before) * 1024, "items": n, "peak_reset": reset}))


def run_memory_in_child(name, n):
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", name, str(n)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


# --- driver ----------------------------------------------------------------------------------

def selected(key, only):
    return not only or key in only or key.split("_")[0] in only


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--quick", action="store_true", help="sizes divided by 100")
    parser.add_argument("--repeat", type=int, default=3, help="runs per workload (best wins)")
    parser.add_argument("--only", default="", help="comma-separated workload keys")
    parser.add_argument("--child", nargs=2, metavar=("NAME", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        memory_child(args.child[0], int(args.child[1]))
        return 0

    only = {key for key in args.only.split(",") if key}
    divisor = 100 if args.quick else 1
    results = {"_meta": {"python": platform.python_version(),
                         "implementation": platform.python_implementation(),
                         "quick": args.quick, "repeat": args.repeat,
                         "pool_threads": min(32, (os.cpu_count() or 1) + 4)}}

    if selected("m_queue", only):
        results["m_queue"] = run_memory_in_child("m_queue", SIZES["m_queue"] // divisor)

    for key, workload in TIMED.items():
        if not selected(key, only):
            continue
        n = SIZES[key] // divisor
        best = min(asyncio.run(workload(n)) for _ in range(args.repeat))
        results[key] = {"seconds": best, "items": n}

    if _POOL is not None:
        _POOL.shutdown()

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        meta = results.pop("_meta")
        print(f"asyncio baselines ({meta['implementation']} {meta['python']}), "
              f"best of {args.repeat}{', --quick' if args.quick else ''}\n")
        print(f"{'workload':<18} {'items':>10} {'result':>16}")
        for key, value in results.items():
            if "bytes" in value:
                per_item = value["bytes"] / value["items"]
                print(f"{key:<18} {value['items']:>10} {per_item:>9.2f} B/item")
            else:
                per_item = value["seconds"] * 1e9 / value["items"]
                print(f"{key:<18} {value['items']:>10} {per_item:>9.1f} ns/item  "
                      f"({value['seconds']:.4f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
