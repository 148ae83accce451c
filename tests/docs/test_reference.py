"""The reference pages are generated from the code; this fails while one is stale."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[2] / "docs"


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "generate_reference", DOCS / "generate_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = load_generator()


@pytest.mark.parametrize("page", sorted(GENERATOR.PAGES))
def test_reference_page_is_current(page: str) -> None:
    written = (DOCS / "reference" / page).read_text()
    assert written == GENERATOR.PAGES[page](), f"docs/reference/{page} is stale: run `make docs`"


def test_every_command_is_in_the_cli_reference() -> None:
    page = (DOCS / "reference" / "cli.md").read_text()
    for needle in ("## flowsched import-crontab", "## flowsched dags next-runs", "--dry-run"):
        assert needle in page
