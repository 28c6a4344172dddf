"""`make bench` / `python -m dev.bench [NAME ...]`: run every benchmark, or those named (args or BENCH=a,b).

Benchmarks, in the order they run: parse, incremental, activation, modes, latency, ingestion. Each starts and stops its
own cloud on the bench ports and rewrites its own section of docs/benchmarks.md. A failing benchmark is reported
and the others still run; the exit status is non-zero if any failed.

    make bench                          # all of them (~30-40 min on 2 cores)
    BENCH=parse,latency make bench      # some of them
    python -m dev.bench incremental     # the same, from the command line
    BENCH_SIZES=10000,100000,1000000 python -m dev.bench ingestion   # ingestion sizes (default 10k and 100k)
"""

from __future__ import annotations

import importlib
import os
import sys
import time
import traceback

from dev.bench.common import load_average

BENCHMARKS = ("parse", "incremental", "activation", "modes", "latency", "ingestion")


def main(argv: list[str]) -> int:
    names = argv or [n for n in os.environ.get("BENCH", "").replace(" ", ",").split(",") if n] or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    os.environ.setdefault("BENCH_SIZES", "10000,100000")  # the 1M ingestion case takes minutes: opt in
    started, failed = time.perf_counter(), []
    for name in [n for n in BENCHMARKS if n in names]:
        print(f"[bench] {name}: starting (load average {load_average()})", flush=True)
        t0 = time.perf_counter()
        try:
            status = importlib.import_module(f"dev.bench.{name}").main()
        except Exception:  # noqa: BLE001 - report it, run the others, fail at the end
            traceback.print_exc()
            status = 1
        if status:
            failed.append(name)
        print(
            f"[bench] {name}: {'FAILED' if status else 'done'} in {(time.perf_counter() - t0) / 60:.1f} min", flush=True
        )
    print(f"[bench] all done in {(time.perf_counter() - started) / 60:.1f} min; results in docs/benchmarks.md"
          + (f"; FAILED: {', '.join(failed)}" if failed else ""), flush=True)  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
