"""The user documentation works: its shell steps run, the site builds, links resolve.

Every ```sh block of a page below is run, in order, by bash -e in a fresh HOME with
flowsched on the PATH; ```console blocks (servers, and `make run`) are shown, not run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
DOCS = REPO / "docs"
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.DOTALL | re.MULTILINE)
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")

# page -> what its steps must print
PAGES_WITH_STEPS = {
    "tutorial.md": [
        "2025-03-30 07:00 CEST",  # next-runs: the run after the week of 03-23
        "Run test__2025-01-04T23:00:00+00:00: success",
        "published model-2024-12-22",
        "scoring the batch of 2025-01-05 with model-2024-12-22",  # after the sensor
        "DAG 'score' unpaused.",
    ],
    "how-to/alerts.md": [
        "smtp\tpassword\t***\tfile",  # read from the file, masked
        "nightly_scoring\t",  # the DAG with its alerts loads
    ],
    "how-to/backfill.md": [
        "would create",
        "backfill__2024-12-31T23:00:00+00:00\tqueued\tbackfill",
    ],
    "how-to/security.md": ["ana\tadmin\t", "bob\tviewer\tbob@example.com\t"],
    "how-to/variables-connections.md": [
        "s3://ml-models/staging",  # the environment wins
        "Connection 'api' added.",
        "stdout: at least 1000 rows in dwh on db.internal",  # Variable.get and conn
        "INFO flowsched.task - uploading to s3://ml-models/prod/1000",  # var in a template
    ],
}
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def run_steps(page: str, home: Path) -> str:
    script = "\n".join(SH_BLOCK.findall((DOCS / page).read_text()))
    env = {
        "HOME": str(home),
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "COLUMNS": "200",
        "LANG": "C.UTF-8",
    }
    if "PYTHONPATH" in os.environ:  # a worktree under test, ahead of the installed one
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    result = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, f"a step of {page} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.parametrize("page", sorted(PAGES_WITH_STEPS))
def test_the_steps_of_the_page_work(page: str, tmp_path: Path) -> None:
    output = run_steps(page, tmp_path)
    for expected in PAGES_WITH_STEPS[page]:
        assert expected in output, f"{page}: {expected!r} not printed"


def test_the_crontab_how_to_works_and_shows_the_file_it_writes(tmp_path: Path) -> None:
    output = run_steps("how-to/crontab.md", tmp_path)

    assert "  my-crontab_line6_score\n" in output
    assert "2025-03-30 03:00 CEST" in output and "moved by DST" in output  # no 02:30 that night
    written = (tmp_path / "flowsched-crontab" / "dags" / "my-crontab.py").read_text()
    (shown,) = PYTHON_BLOCK.findall((DOCS / "how-to" / "crontab.md").read_text())
    assert shown in written


def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    """MkDocs fails on a broken link or anchor, or a page left out of the nav."""
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=REPO,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "how-to" / "crontab" / "index.html").exists()
    python_api = (tmp_path / "reference" / "python-api" / "index.html").read_text()
    text = re.sub(r"<[^>]+>", "", python_api)  # signatures come from the code
    assert "bash_command: str" in text and "Exit code skip_on_exit_code (99) skips" in text


def test_the_readme_links_resolve() -> None:
    """The site build checks the docs' own links; the README is outside it."""
    targets = [target for target, _ in LINK.findall((REPO / "README.md").read_text())]
    assert "docs/index.md" in targets
    assert [t for t in targets if "://" not in t and not (REPO / t).exists()] == []


def test_the_monitoring_how_to_names_metrics_the_web_server_serves(migrated_db: Path) -> None:
    from flowsched.db import session_scope
    from flowsched.db.tables import Job
    from webui.metrics import render_metrics

    with session_scope() as session:  # a running scheduler, so its heartbeat age is served
        session.add(Job(job_type="scheduler", hostname="here", pid=1, state="running"))
    served = set(re.findall(r"\b(flowsched_\w+)", render_metrics().decode()))  # HELP, samples
    named = set(re.findall(r"\b(flowsched_\w+)", (DOCS / "how-to" / "monitoring.md").read_text()))

    assert named - served == set()
    assert "flowsched_scheduler_heartbeat_age_seconds" in named
