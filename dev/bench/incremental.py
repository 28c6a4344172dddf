"""Benchmark: `dbt build --select int_workspaces_rolled_up+` incremental vs `--full-refresh`, after 1% new rows.

On its own bench cloud (S3, Snowflake, emulators; ``.local/bench/incremental``): loads ~50k signups spread over
20 daily intervals plus a Salesforce mirror, builds the whole project once, then lands one new interval of ~1%
more signups and times the selection incremental and with ``--full-refresh``, interleaved (incremental first, as
in production), ``BENCH_INCREMENTAL_ROUNDS`` rounds (default 3), median reported. After every build the content
of int_workspaces_rolled_up (row count and an md5 of every row, ordered by workspace) and the row counts of the six
marts must be identical, else the benchmark fails.

int_workspaces_rolled_up re-merges every workspace with events in the intervals landed within
``signup_lookback_hours`` (72) of the newest one before the run (late events): the table reports how many rows
that was, since it, not the 1% alone, is the incremental run's real work.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from dev.bench.common import PY, Cloud, Machine, fmt_s, log, md5, median, run, stopped_at_end, timed, write_section
from dev.localcloud.settings import REPO_ROOT
from include.transform.cosmos_config import ACTIVATION_EXCLUDE, ACTIVATION_SELECT

NAME = "incremental"
SIGNUPS_PER_HOUR = 105  # x 24 h x 20 days ~ 50k workspaces; the new 5-hour interval ~ 1%
BASE_DAYS = 20
NEW_HOURS = 5
SYNC_MARTS = ("ACCOUNTS", "ACCOUNT_KEYS", "CONTACTS", "OPPORTUNITIES", "OUTREACH_TASKS")
MARTS = [*(f"SYNC_SALESFORCE_{name}" for name in SYNC_MARTS), "SALESFORCE_LEAD_CONVERSIONS"]
SELECTION = ["--select", *ACTIVATION_SELECT, "--exclude", *ACTIVATION_EXCLUDE]


def _dbt(cloud: Cloud, *args: str) -> tuple[float, float]:
    """Wall seconds of the dbt command, and int_workspaces_rolled_up's own execution time (run_results.json)."""
    target = cloud.home / "dbt-target"
    argv = [str(REPO_ROOT / ".venv" / "bin" / "dbt"), *args, "--project-dir", "dbt_project", "--profiles-dir",
            "dbt_project", "--target-path", str(target), "--log-path", str(cloud.home / "dbt-logs")]  # fmt: skip
    seconds, _ = timed(lambda: run(argv, cloud.env(), timeout=1800))
    results = json.loads((target / "run_results.json").read_text())["results"]
    node = [r["execution_time"] for r in results if r["unique_id"].endswith(".int_workspaces_rolled_up")]
    return seconds, node[0] if node else 0.0


def _load(cloud: Cloud, start: datetime, end: datetime, chunk_hours: float, mirror: bool = False) -> dict[str, int]:
    argv = [PY, "-m", "dev.bench.load_window", "--start", start.isoformat(), "--end", end.isoformat(),
            "--chunk-hours", str(chunk_hours), *(["--mirror"] if mirror else [])]  # fmt: skip
    return dict(json.loads(run(argv, cloud.env(), timeout=1800).strip().splitlines()[-1]))


def _snapshot(hook: Any) -> dict[str, Any]:
    rows = hook.get_records("SELECT * FROM ANALYTICS.INTERMEDIATE.INT_WORKSPACES_ROLLED_UP ORDER BY WORKSPACE_ID")
    snapshot: dict[str, Any] = {"signups": len(rows), "signups_md5": md5(repr(rows))}
    for mart in MARTS:
        snapshot[mart] = hook.get_first(f"SELECT COUNT(*) FROM ANALYTICS.MARTS.{mart}")[0]
    return snapshot


def _merged_rows(hook: Any, new_start: datetime) -> int:
    """Workspaces the incremental run re-merges: events in intervals within the lookback of the previous newest."""
    since = hook.get_first(
        "SELECT DATEADD(hour, -72, MAX(LAST_LOADED_INTERVAL_START)) "
        "FROM ANALYTICS.INTERMEDIATE.INT_WORKSPACES_ROLLED_UP WHERE LAST_LOADED_INTERVAL_START < %(new)s",
        parameters={"new": new_start.replace(tzinfo=None)},
    )[0]
    return int(
        hook.get_first(
            "SELECT COUNT(DISTINCT WORKSPACE_ID) FROM ANALYTICS.STAGING.STG_CLOUD_APP__WORKSPACE_EVENTS "
            "WHERE LOADED_INTERVAL_START >= %(since)s",
            parameters={"since": since},
        )[0]
    )


def main() -> int:
    rounds = int(os.environ.get("BENCH_INCREMENTAL_ROUNDS", "3"))
    machine = Machine()
    cloud = Cloud(NAME, {"LOCALCLOUD_SIGNUPS_PER_HOUR": str(SIGNUPS_PER_HOUR)})
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)  # late arrivals visible
    new_start = now - timedelta(hours=NEW_HOURS)
    base_start = new_start - timedelta(days=BASE_DAYS)
    cloud.fresh_up("s3,snowflake,emulators")
    with stopped_at_end(cloud):
        cloud.into_environ()
        from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

        from include.connections import SNOWFLAKE

        hook = SnowflakeHook(snowflake_conn_id=SNOWFLAKE)
        seconds, base = timed(lambda: _load(cloud, base_start, new_start, 24, mirror=True))
        log(NAME, f"base: {base} in {seconds:.0f} s")
        seconds, _ = _dbt(cloud, "build", *SELECTION)
        log(NAME, f"first full build: {seconds:.0f} s")
        base_rows = _snapshot(hook)["signups"]
        new = _load(cloud, new_start, now, NEW_HOURS)
        log(NAME, f"new interval: {new}")
        merged = _merged_rows(hook, new_start)
        times: dict[str, list[float]] = {"incremental": [], "full_refresh": []}
        model: dict[str, list[float]] = {"incremental": [], "full_refresh": []}
        snapshots = []
        for n in range(rounds):
            for mode in ("incremental", "full_refresh") if n % 2 == 0 else ("full_refresh", "incremental"):
                extra = ["--full-refresh"] if mode == "full_refresh" else []
                wall, own = _dbt(cloud, "build", "--select", "int_workspaces_rolled_up+", *extra)
                times[mode].append(wall)
                model[mode].append(own)
                snapshots.append((mode, _snapshot(hook)))
                log(NAME, f"{mode}: {times[mode][-1]:.1f} s {snapshots[-1][1]}")
        if any(s != snapshots[0][1] for _, s in snapshots):
            raise RuntimeError(f"incremental and full refresh disagree: {snapshots}")
        final = snapshots[0][1]
        if final["signups"] <= base_rows:
            raise RuntimeError(f"the new interval added no workspace ({base_rows} -> {final['signups']})")
    machine.finish()
    write(machine, rounds, base, new, base_rows, final, merged, times, model)
    return 0


def write(machine: Machine, rounds: int, base: dict, new: dict, base_rows: int, final: dict, merged: int,
          times: dict[str, list[float]], model: dict[str, list[float]]) -> None:  # fmt: skip
    inc, full = median(times["incremental"]), median(times["full_refresh"])
    inc_m, full_m = median(model["incremental"]), median(model["full_refresh"])
    added = final["signups"] - base_rows
    body = [
        machine.header("python -m dev.bench incremental"),
        "",
        f"Base: {base['loaded']:,} events ({base['quarantined']:,} quarantined) in {base['intervals']} daily "
        f"intervals = {base_rows:,} workspaces, plus the Salesforce mirror; then one {NEW_HOURS}-hour interval of "
        f"{new['loaded']:,} events = **{added:,} new workspaces ({added / base_rows:.1%})**. Median of {rounds} "
        "interleaved runs of `dbt build --select int_workspaces_rolled_up+` (the model, every model downstream of it "
        "and their tests), with and without `--full-refresh`; *model* is int_workspaces_rolled_up's own execution "
        "time from dbt's run_results.json. Every build left the same "
        f"content: {final['signups']:,} workspaces (md5 of every row equal), marts "
        + ", ".join(f"{k.removeprefix('SYNC_SALESFORCE_').lower()} {v:,}" for k, v in final.items() if k in MARTS)
        + ".",
        "",
        "| Build | Median wall (dbt build) | Runs | Model (median) | Workspaces (re)computed by the model |",
        "|---|---:|---|---:|---:|",
        f"| incremental | {fmt_s(inc)} | {', '.join(fmt_s(t) for t in times['incremental'])} | {fmt_s(inc_m)} "
        f"| {merged:,} |",
        f"| `--full-refresh` | {fmt_s(full)} | {', '.join(fmt_s(t) for t in times['full_refresh'])} "
        f"| {fmt_s(full_m)} | {final['signups']:,} |",
        "",
        f"Ratios: **full refresh / incremental = {full / inc:.2f}x** (whole build); "
        f"{full_m / inc_m:.2f}x (int_workspaces_rolled_up alone).",
    ]
    write_section(NAME, "Incremental with 1% new rows vs full refresh", body)


if __name__ == "__main__":
    sys.exit(main())
