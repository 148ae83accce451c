"""Imported crontabs run when cron ran them, over a year with both DST changes (2025).

Each real crontab is imported with `flowsched import-crontab`, the DAG file is loaded by
flowsched's real parser (`dags list`), and `flowsched dags next-runs` of every DAG is
compared with croniter on the original crontab line. Jobs that fire at most 1,000 times
a year are compared over the whole year; more frequent ones over 1,000 runs from a day
before each DST change (about a week for a 10-minute job), which is where they can differ.

The only differences are listed in DST_DIFFERENCES, each with its reason.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from croniter import croniter

from flowsched.cli import cli

CRONTABS = Path(__file__).parent / "crontabs"
YEAR_START, YEAR_END = datetime(2025, 1, 1), datetime(2026, 1, 1)
MAX_RUNS = 1000

# crontab file -> (system format?, the zone its cron daemon ran in). The zones are chosen
# so that DST changes fall on the jobs' hours: Europe/Helsinki changes at 03:00/04:00,
# where e2scrub_all runs.
IMPORTS = {
    "crontab": (True, "Europe/Amsterdam"),
    "e2scrub_all": (True, "Europe/Helsinki"),
    "php": (True, "Europe/London"),
    "sysstat": (True, "America/New_York"),
    "user_crontab": (False, "Europe/Berlin"),  # every job is under a CRON_TZ= line
}

# Where flowsched's runs differ from croniter's for the same line: (file, line) -> the
# local times croniter fires that flowsched does not.
#
# A fixed-hour job in the repeated hour of a fall-back day: croniter fires at both passes.
# flowsched runs it once, at its first pass -- which is also what vixie cron (Debian's
# cron) does: after a backward change it does not re-run fixed-time jobs.
REPEATED_HOUR_RUNS_ONCE = {
    ("e2scrub_all", 1): ["2025-10-26T03:30:00+02:00"],
    ("e2scrub_all", 2): ["2025-10-26T03:10:00+02:00"],
    ("user_crontab", 12): ["2025-10-26T02:30:00+01:00"],
}
# `0 */2 * * *` is a deliberate difference from vixie cron too: vixie treats an hour
# field that *starts* with `*` as a wildcard and, like croniter, runs both passes of
# 02:00 on the fall-back day. flowsched reserves "every real hour" for an hour field that is
# exactly `*`; every other hour field is a wall-clock time, run once.
STARRED_HOUR_FIELD_RUNS_ONCE = {
    ("user_crontab", 16): ["2025-10-26T02:00:00+01:00"],
}
DST_DIFFERENCES = REPEATED_HOUR_RUNS_ONCE | STARRED_HOUR_FIELD_RUNS_ONCE
# Spring-forward agrees everywhere: `30 2 * * *` runs at 03:00 (croniter, vixie cron and
# flowsched) and an every-hour job has no run in the missing hour.


def flowsched(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def croniter_fires(
    expr: str, start: datetime, end: datetime, limit: int | None = None
) -> list[datetime]:
    """What croniter says the original line fires at, in [start, end), as UTC."""
    fires = croniter(expr, start - timedelta(microseconds=1))
    times: list[datetime] = []
    while (fire := fires.get_next(datetime)) < end and len(times) != limit:
        times.append(fire.astimezone(UTC))
    return times


def next_runs(dag_id: str, after: datetime, count: int) -> list[datetime]:
    rows = json.loads(
        flowsched(
            "dags", "next-runs", dag_id, "-n", str(count), "--after", after.isoformat(), "-o",
            "json",
        )
    )  # fmt: skip
    return [datetime.fromisoformat(row["run_after"]).astimezone(UTC) for row in rows]


def dst_changes(zone: ZoneInfo) -> list[datetime]:
    """The local midnights a day before each of the year's offset changes."""
    days = [YEAR_START.replace(tzinfo=zone) + timedelta(days=n) for n in range(366)]
    return [
        day - timedelta(days=1)
        for day, next_day in pairwise(days)
        if day.utcoffset() != next_day.utcoffset()
    ]


def windows(expr: str, zone: ZoneInfo) -> list[tuple[datetime, datetime | None]]:
    """(start, end) spans to compare: the year, or 1,000 runs from before each change."""
    year = (YEAR_START.replace(tzinfo=zone), YEAR_END.replace(tzinfo=zone))
    if len(croniter_fires(expr, *year, limit=MAX_RUNS + 1)) <= MAX_RUNS:
        return [year]
    return [(start, None) for start in dst_changes(zone)]


def compare(dag_id: str, expr: str, zone: ZoneInfo) -> tuple[list[datetime], list[datetime]]:
    """(fires croniter has that flowsched lacks, fires flowsched has that croniter lacks)."""
    missing: list[datetime] = []
    extra: list[datetime] = []
    for start, end in windows(expr, zone):
        runs = next_runs(dag_id, start - timedelta(seconds=1), MAX_RUNS)
        runs = [run for run in runs if end is None or run < end]
        expected = croniter_fires(expr, start, end or runs[-1] + timedelta(seconds=1))
        missing += sorted(set(expected) - set(runs))
        extra += sorted(set(runs) - set(expected))
    return missing, extra


@pytest.mark.parametrize("crontab_name", IMPORTS)
def test_imported_jobs_run_when_cron_ran_them(
    crontab_name: str, migrated_db: Path, dags_folder: Path
) -> None:
    system, zone = IMPORTS[crontab_name]
    path = CRONTABS / crontab_name
    flowsched(
        "import-crontab", str(path), "--system" if system else "--user",
        "--timezone", zone, "--start-date", "2024-12-01",
    )  # fmt: skip

    dags = json.loads(flowsched("dags", "list", "-o", "json"))
    assert flowsched("dags", "list-import-errors", "-o", "json").strip() == "[]"
    assert {dag["fileloc"] for dag in dags} == {str(dags_folder / f"{crontab_name}.py")}
    lines = crontab_lines(path)
    assert len(dags) == len([n for n, line in lines.items() if "@reboot" not in line])

    for dag in dags:
        number = int(dag["dag_id"].split("_line")[1].split("_")[0])
        expr, dag_zone = original_schedule(path, number, default_zone=zone)
        missing, extra = compare(dag["dag_id"], expr, dag_zone)

        assert extra == [], f"line {number}: flowsched runs when cron would not"
        expected_missing = DST_DIFFERENCES.get((crontab_name, number), [])
        assert [t.astimezone(dag_zone).isoformat() for t in missing] == expected_missing, (
            f"line {number} ({expr} in {dag_zone})"
        )


def crontab_lines(path: Path) -> dict[int, str]:
    """Line number -> job line: those starting with a time field or an @special."""
    lines = enumerate(path.read_text().splitlines(), start=1)
    return {number: line for number, line in lines if line[:1] and line[0] in "0123456789*@"}


def original_schedule(path: Path, number: int, default_zone: str) -> tuple[str, ZoneInfo]:
    """The cron expression as written on the line, and the CRON_TZ above it, read
    independently of the importer, so that the comparison checks the importer too."""
    lines = path.read_text().splitlines()
    line = lines[number - 1]
    expr = line.split()[0] if line.startswith("@") else " ".join(line.split()[:5])
    zones = [above.split("=", 1)[1] for above in lines[:number] if above.startswith("CRON_TZ=")]
    return expr, ZoneInfo(zones[-1] if zones else default_zone)
