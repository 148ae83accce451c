"""A migrated database with DAG "etl" (a failed run and a running one) and a listener
standing in for the scheduler, to see the nudges the operations send."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flowsched.wakeup import NudgeListener
from tests.webui.conftest import admin, anonymous, app, template_db  # noqa: F401 (fixtures)
from tests.webui.seed import seed_etl


@pytest.fixture
def etl(migrated_db: Path) -> str:
    return seed_etl()


@pytest.fixture
def scheduler_ear(migrated_db: Path) -> Iterator[NudgeListener]:
    listener = NudgeListener()
    yield listener
    listener.close()
