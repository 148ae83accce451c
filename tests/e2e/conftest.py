"""Fixtures of the end-to-end suites (helpers are in support.py).

Settings are made small so that things happen quickly (idle poll, re-scan interval) on a
shared 2-core machine; nothing here asserts how fast anything is.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.support import Scheduler


@pytest.fixture
def fast_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "FLOWSCHED__SCHEDULER__IDLE_POLL_INTERVAL": "0.3",
        "FLOWSCHED__SCHEDULER__DAG_DIR_LIST_INTERVAL": "1",
        "FLOWSCHED__SCHEDULER__TASK_HEARTBEAT_INTERVAL": "1",
        "FLOWSCHED__SCHEDULER__SCHEDULER_HEARTBEAT_INTERVAL": "1",
        "FLOWSCHED__CORE__PARALLELISM": "4",
        "FLOWSCHED__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false",
    }.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def scheduler(migrated_db: Path, fast_settings: None) -> Iterator[Scheduler]:
    """A scheduler to start when the test's DAGs are written; stopped (or killed) after."""
    running = Scheduler(migrated_db)
    yield running
    if running.process is not None and running.process.poll() is None:
        running.process.kill()
        running.process.wait(10)


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """Where tasks write what they did."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder
