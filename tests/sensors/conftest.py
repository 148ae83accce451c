"""Sensor tests run against a fresh FLOWSCHED_HOME."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_home(home):
    """Config and connections come from a fresh FLOWSCHED_HOME, never the developer's."""
