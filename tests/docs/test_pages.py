"""The user documentation works: its shell steps run, its links lead somewhere.

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
# Pages other helpers are writing right now (issue 11's Airflow differences); a link to one
# is allowed only while it is listed here.
BEING_WRITTEN = {"airflow.md"}
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")

# page -> what its steps must print
PAGES_WITH_STEPS = {
    "tutorial.md": [
        "2025-03-30 07:00 CEST",  # next-runs: the run after the week of 03-23
        "Run test__2025-01-04T23:00:00+00:00: success",
        "publishing model-2024-12-22",
        "DAG 'retrain' unpaused.",
    ],
    "how-to/crontab.md": [
        "  my-crontab_line6_score",
        "2025-03-30 03:00 CEST",  # 02:30 does not exist that night
        "moved by DST",
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


def test_the_crontab_how_to_shows_the_file_it_writes(tmp_path: Path) -> None:
    run_steps("how-to/crontab.md", tmp_path)
    written = (tmp_path / "flowsched-crontab" / "dags" / "my-crontab.py").read_text()
    (shown,) = PYTHON_BLOCK.findall((DOCS / "how-to" / "crontab.md").read_text())
    assert shown in written


def test_every_relative_link_leads_to_a_file() -> None:
    pages = [REPO / "README.md", *DOCS.rglob("*.md")]
    broken = [
        f"{page.relative_to(REPO)}: {target}"
        for page in pages
        for target, _ in LINK.findall(page.read_text())
        if "://" not in target
        and not (page.parent / target).exists()
        and Path(target).name not in BEING_WRITTEN
    ]
    assert broken == []
