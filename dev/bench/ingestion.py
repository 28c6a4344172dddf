"""Benchmark: extract+load of 10k, 100k and 1M workspace events, pipeline code vs a minimal loop.

Runs an isolated local cloud (``.local/bench``, ports 29000/28443/28001), then for each size runs
``dev.bench.ingestion_case`` once unmeasured (to warm the emulator's cache), then once in ``pipeline`` and
once in ``baseline`` mode, each in its own process, measuring wall time and the process's peak RSS.
Sizes up to 100k are measured three times, interleaved, and the median run is reported.
Results replace the "Ingestion" section of docs/benchmarks.md.

    python -m dev.bench ingestion                                     # 10k and 100k (make bench's default)
    BENCH_SIZES=10000,100000,1000000 python -m dev.bench ingestion    # with the 1M case (minutes)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dev.bench.common import BENCH_HOME, DOC, PORTS
from dev.localcloud.settings import REPO_ROOT

SIGNUPS_PER_HOUR = 100_000
START = datetime(2026, 11, 2, tzinfo=UTC)
BENCH_ENV = {
    "LOCALCLOUD_HOME": str(BENCH_HOME),
    **PORTS,
    "LOCALCLOUD_SIGNUPS_PER_HOUR": str(SIGNUPS_PER_HOUR),
}
BEGIN, END = "<!-- ingestion:begin -->", "<!-- ingestion:end -->"


def _env() -> dict[str, str]:
    from dev.localcloud.env import read_env_file

    env = {**os.environ, **BENCH_ENV, "PYTHONPATH": str(REPO_ROOT)}
    env.update(read_env_file(Path(BENCH_ENV["LOCALCLOUD_HOME"]) / "localcloud.env"))
    env["AIRFLOW_HOME"] = str(Path(BENCH_ENV["LOCALCLOUD_HOME"]) / "airflow-bench")
    return env


def _localcloud(*args: str) -> None:
    env = {**os.environ, **BENCH_ENV, "PYTHONPATH": str(REPO_ROOT)}
    subprocess.run([sys.executable, "-m", "dev.localcloud", *args], env=env, cwd=REPO_ROOT, check=True)


def window_for(size: int) -> tuple[datetime, datetime, int]:
    """The window from START that holds exactly ``size`` events (found with the generator itself)."""
    from dev.cloud_app.generator import GeneratorConfig, WorkspaceGenerator

    generator = WorkspaceGenerator(GeneratorConfig(signups_per_hour=SIGNUPS_PER_HOUR))
    hours = size / SIGNUPS_PER_HOUR * 3 + 2  # bucket sizes vary by +-50%: search well past the mean
    for count, event in enumerate(generator.events(START, START + timedelta(hours=hours)), start=1):
        if count == size:
            end = event.created_at + timedelta(milliseconds=1)
            return START, end, sum(1 for _ in generator.events(START, end))  # ties at the boundary count too
    raise RuntimeError(f"fewer than {size} events in {hours} hours")


def run_case(mode: str, start: datetime, end: datetime) -> dict[str, float]:
    argv = [sys.executable, "-m", "dev.bench.ingestion_case", "--mode", mode,
            "--start", start.isoformat(), "--end", end.isoformat()]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.run(argv, env=_env(), cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} case failed ({proc.returncode}): {proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    seconds = time.perf_counter() - started  # includes interpreter start-up and imports, as a task pays them
    return {"records": result["records"], "seconds": seconds, "rss_mb": result["peak_rss_kb"] / 1024}


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run with the median wall time (its own RSS), so one noisy run does not decide the ratio."""
    return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]


def main() -> int:
    from dev.bench.common import Machine

    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "10000,100000,1000000").split(",")]
    machine = Machine()
    _localcloud("up", "--only", "s3,snowflake,cloud-app")
    rows = []
    try:
        for size in sizes:
            start, end, expected = window_for(size)
            run_case("baseline", start, end)  # warm-up: the emulator caches the window's events for both
            repeats = 3 if size <= 100_000 else 1
            measured: dict[str, list[dict[str, float]]] = {"pipeline": [], "baseline": []}
            for n in range(repeats):  # interleaved, alternating order: neither mode always goes first
                for mode in ("pipeline", "baseline") if n % 2 == 0 else ("baseline", "pipeline"):
                    measured[mode].append(run_case(mode, start, end))
            pipeline, baseline = _median(measured["pipeline"]), _median(measured["baseline"])
            if pipeline["records"] != expected or baseline["records"] != expected:
                raise RuntimeError(f"expected {expected} records, got {pipeline['records']} / {baseline['records']}")
            rows.append((expected, pipeline, baseline))
            print(f"{expected:>9} records: pipeline {pipeline['seconds']:.1f}s {pipeline['rss_mb']:.0f} MB, "
                  f"baseline {baseline['seconds']:.1f}s {baseline['rss_mb']:.0f} MB", flush=True)  # fmt: skip
    finally:
        _localcloud("down")
    machine.finish()
    write_section(rows, machine.header(f"BENCH_SIZES={','.join(map(str, sizes))} python -m dev.bench ingestion"))
    return 0


def write_section(rows: list[tuple[int, dict[str, float], dict[str, float]]], header: str) -> None:
    lines = [
        BEGIN,
        header,
        "",
        "Each case runs in its own process after a warm-up"
        " pass (median of 3 interleaved runs up to 100k, one run at 1M); wall time includes interpreter start-up and"
        " imports; peak RSS is the process's VmHWM. The emulator, S3"
        " and Snowflake stand-ins share the same machine.",
        "",
        "| Records | Pipeline wall | Pipeline peak RSS | Baseline wall | Baseline peak RSS | Wall ratio | RSS ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for records, p, b in rows:
        lines.append(
            f"| {records:,} | {p['seconds']:.1f} s | {p['rss_mb']:.0f} MB | {b['seconds']:.1f} s | {b['rss_mb']:.0f} MB"
            f" | {p['seconds'] / b['seconds']:.2f}x | {p['rss_mb'] / b['rss_mb']:.2f}x |"
        )
    lines.append(END)
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n\n## Ingestion: cloud app API -> S3 -> Snowflake\n\n"
    if BEGIN in text:
        text = text[: text.index(BEGIN)] + "\n".join(lines) + text[text.index(END) + len(END) :]
    else:
        text += "\n".join(lines) + "\n"
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
