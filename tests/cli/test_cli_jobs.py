"""`flowsched jobs check`: alive schedulers and workers by heartbeat, exit 1 when none."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from flowsched.cli import cli
from flowsched.db import session_scope
from flowsched.db.tables import Job, utcnow

pytestmark = pytest.mark.usefixtures("migrated_db")
FLOWSCHED = str(Path(sys.executable).with_name("flowsched"))


def flowsched(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def add_job(job_type: str, hostname: str, age: float, state: str = "running", pid: int = 1) -> None:
    with session_scope() as session:
        beat = utcnow() - timedelta(seconds=age)
        session.add(
            Job(
                job_type=job_type,
                hostname=hostname,
                pid=pid,
                state=state,
                start_date=beat - timedelta(minutes=5),
                latest_heartbeat=beat,
            )
        )


def checked(*args: str) -> list[dict]:
    result = flowsched("jobs", "check", "--output", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def jobs() -> None:
    """Two alive schedulers and a worker; one dead by heartbeat, one that ended cleanly."""
    add_job("scheduler", "alpha", age=1, pid=11)
    add_job("scheduler", "beta", age=4, pid=12)
    add_job("worker", "w1@alpha", age=2, pid=21)
    add_job("scheduler", "gamma", age=120, pid=13)  # killed with -9: its row says running
    add_job("scheduler", "delta", age=0, state="success", pid=14)


def test_lists_every_alive_job_latest_heartbeat_first(jobs: None) -> None:
    found = checked()
    assert [(row["job_type"], row["hostname"], row["pid"]) for row in found] == [
        ("scheduler", "alpha", 11),
        ("worker", "w1@alpha", 21),
        ("scheduler", "beta", 12),
    ]
    assert 0 <= found[0]["heartbeat_age_seconds"] < found[2]["heartbeat_age_seconds"] < 30


def test_filters_by_type_hostname_and_limit(jobs: None) -> None:
    assert [row["hostname"] for row in checked("--job-type", "scheduler")] == ["alpha", "beta"]
    assert [row["pid"] for row in checked("--hostname", "alpha")] == [11, 21]
    assert [row["pid"] for row in checked("--job-type", "worker", "--hostname", "alpha")] == [21]
    assert [row["pid"] for row in checked("--job-type", "scheduler", "--limit", "1")] == [11]


def test_table_output_ends_with_a_count(jobs: None) -> None:
    result = flowsched("jobs", "check", "--job-type", "scheduler")
    assert result.exit_code == 0
    assert "alpha" in result.stdout and "gamma" not in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "Found 2 alive jobs."


def test_no_alive_job_exits_1_with_one_line(jobs: None) -> None:
    result = flowsched("jobs", "check", "--hostname", "gamma")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == ("No alive job on gamma: none has a heartbeat from the last 30 s.\n")
    as_json = flowsched("jobs", "check", "--job-type", "worker", "--hostname", "beta", "-o", "json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout) == []
    assert as_json.stderr.startswith("No alive worker job on beta:")


def test_the_threshold_follows_the_heartbeat_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWSCHED__SCHEDULER__SCHEDULER_HEARTBEAT_INTERVAL", "1")
    add_job("scheduler", "slow", age=10)
    result = flowsched("jobs", "check")
    assert result.exit_code == 1
    assert "from the last 6 s" in result.stderr


def test_an_empty_database_has_no_alive_job() -> None:
    result = flowsched("jobs", "check", "--job-type", "scheduler")
    assert result.exit_code == 1
    assert result.stderr.startswith("No alive scheduler job:")


def test_the_real_command_exits_1_when_none_is_alive_and_0_when_one_is() -> None:
    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [FLOWSCHED, "jobs", "check", "--job-type", "scheduler"],
            capture_output=True,
            text=True,
            check=False,
        )

    none = run()
    add_job("scheduler", "alpha", age=1)
    one = run()
    assert (none.returncode, none.stdout) == (1, "")
    assert none.stderr.startswith("No alive scheduler job:")
    assert one.returncode == 0 and "Found 1 alive job." in one.stdout
