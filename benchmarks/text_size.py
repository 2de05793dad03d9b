#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Code size per template instantiation of the TaskExecutor calls.

For each call form, compiles a translation unit with 0, 1 and 1+N distinct instantiations
(distinct result types R<I>) at -O2 and reports the growth of .text (the sum of every .text*
section of the object, as `size -A` lists them):

  first     .text(1) - .text(0): the first use, including code shared by every use
  per inst  (.text(1+N) - .text(1)) / N: what each further distinct instantiation adds

Every row awaits its call from a coroutine and gives a lambda coroutine as the factory where the
call takes one, so the `task` row (a lambda coroutine awaited directly) is the floor.

Usage: benchmarks/text_size.py [--build build/dev] [--cxx g++] [-n 4] [forms...]
"""

import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(HERE)

PRELUDE = """\
#include <qtaio/taskexecutor.h>
#include <functional>
#include <vector>
template<int I> struct R { int v = I; };
void sink(long);
"""

# Each body is the text of `QCoro::Task<> use<I>(QtAio::TaskExecutor &ex)`; `I` is replaced.
FORMS = {
    "task": """
    auto factory = []() -> QCoro::Task<R<I>> { co_return R<I>{}; };
    auto task = factory();
    auto r = co_await task;
    sink(r.v);""",
    "run": """
    auto factory = []() -> QCoro::Task<R<I>> { co_return R<I>{}; };
    auto task = ex.run(std::move(factory));
    auto r = co_await task;
    sink(r.v);""",
    "spawn": """
    auto factory = []() -> QCoro::Task<R<I>> { co_return R<I>{}; };
    auto handle = ex.spawn(std::move(factory));
    auto r = co_await handle;
    sink(r.v);""",
    "runInThread": """
    auto call = [] { return R<I>{}; };
    auto task = ex.runInThread(std::move(call));
    auto r = co_await task;
    sink(r.v);""",
    "gather": """
    auto factory = []() -> QCoro::Task<R<I>> { co_return R<I>{}; };
    std::vector<decltype(factory)> factories{factory};
    auto task = ex.gather(std::move(factories));
    auto r = co_await task;
    sink(r.size());""",
    "map": """
    auto func = [](int x) -> QCoro::Task<R<I>> { co_return R<I>{x}; };
    std::vector<int> inputs{1, 2};
    auto task = ex.map(std::move(func), std::move(inputs));
    auto r = co_await task;
    sink(r.size());""",
    "asCompleted": """
    auto factory = []() -> QCoro::Task<R<I>> { co_return R<I>{}; };
    std::vector<decltype(factory)> factories{factory};
    auto stream = ex.asCompleted(std::move(factories));
    auto it = co_await stream.begin();
    sink(sizeof(*it));""",
}


def source(form, count):
    parts = [PRELUDE]
    for i in range(count):
        body = FORMS[form].replace("R<I>", f"R<{i}>")
        parts.append(f"QCoro::Task<> use{i}(QtAio::TaskExecutor &ex)\n{{{body}\n}}\n")
    return "\n".join(parts)


def text_size(obj):
    out = subprocess.run(["size", "-A", obj], check=True, capture_output=True, text=True).stdout
    total = 0
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 2 and re.match(r"^\.text(\.|$)", fields[0]):
            total += int(fields[1])
    return total


def compile_size(args, form, count, tmp):
    src = os.path.join(tmp, f"{form}_{count}.cpp")
    obj = src[:-4] + ".o"
    with open(src, "w") as f:
        f.write(source(form, count))
    qt = subprocess.run(["pkg-config", "--cflags", "Qt6Core"], check=True, capture_output=True,
                        text=True).stdout.split()
    cmd = [args.cxx, "-std=c++20", "-O2", "-fPIC", "-DNDEBUG", "-DQT_NO_KEYWORDS",
           "-I" + os.path.join(SOURCE_DIR, "include"),
           "-I" + os.path.join(args.build, "include"), "-I/usr/include/qcoro6", *qt,
           "-c", src, "-o", obj]
    subprocess.run(cmd, check=True)
    return text_size(obj)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(SOURCE_DIR, "build", "dev"))
    parser.add_argument("--cxx", default=os.environ.get("CXX", "g++"))
    parser.add_argument("-n", type=int, default=4, help="further instantiations measured")
    parser.add_argument("-j", type=int, default=2)
    parser.add_argument("forms", nargs="*", default=list(FORMS))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, \
            concurrent.futures.ThreadPoolExecutor(args.j) as pool:
        jobs = {(form, count): pool.submit(compile_size, args, form, count, tmp)
                for form in args.forms for count in (0, 1, 1 + args.n)}
        print(f"{'form':<12} {'first':>8} {'per inst':>9}   (bytes of .text, {args.cxx} -O2)")
        for form in args.forms:
            t0, t1, tn = (jobs[(form, c)].result() for c in (0, 1, 1 + args.n))
            print(f"{form:<12} {t1 - t0:>8} {(tn - t1) / args.n:>9.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
