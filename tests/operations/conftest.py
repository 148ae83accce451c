"""A migrated database with DAG "etl" (a failed run and a running one) and a listener
standing in for the scheduler, to see the nudges the operations send."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from flowsched.wakeup import NudgeListener
from tests.webui.conftest import admin, anonymous, app, template_db  # noqa: F401 (fixtures)
from tests.webui.seed import FAILED_RUN, RUNNING_RUN, START, add_dag, add_run


@pytest.fixture
def etl(migrated_db: Path) -> str:
    add_dag("etl")
    add_run(
        "etl",
        FAILED_RUN,
        "failed",
        {
            "extract": "success",
            "transform": "failed",
            "load": "upstream_failed",
            "report": ["upstream_failed"] * 3,
        },
        logical_date=START,
    )
    add_run(
        "etl",
        RUNNING_RUN,
        "running",
        {"extract": "success", "transform": "running", "load": None, "report": None},
        logical_date=START + timedelta(hours=1),
    )
    return "etl"


@pytest.fixture
def scheduler_ear(migrated_db: Path) -> Iterator[NudgeListener]:
    listener = NudgeListener()
    yield listener
    listener.close()
