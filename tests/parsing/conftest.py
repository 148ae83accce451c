"""Fixtures for the parsing tests: writing DAG files into the test's dags folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.parsing.dag_files import dag_source

WriteDag = Callable[..., Path]


@pytest.fixture
def write_dag(dags_folder: Path) -> WriteDag:
    """Write ``name`` in the dags folder: the raw ``source``, or a small DAG (see dag_source)."""

    def write(
        name: str, source: str | None = None, *, dag_id: str | None = None, **kw: str
    ) -> Path:
        path = dags_folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source if source is not None else dag_source(dag_id or path.stem, **kw))
        return path

    return write
