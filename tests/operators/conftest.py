"""Operator tests run against a fresh FLOWSCHED_HOME and build real run contexts."""

from __future__ import annotations

import pendulum
import pytest

from flowsched.authoring.context import make_context


@pytest.fixture(autouse=True)
def _fresh_home(home):
    """Config comes from a fresh FLOWSCHED_HOME, never the developer's."""


@pytest.fixture
def context_for():
    """``context_for(task)``: the context of a manual run on 2024-03-10."""

    def build(task, conf=None):
        return make_context(
            dag=task.dag,
            task=task,
            run_id="manual__2024-03-10",
            logical_date=pendulum.datetime(2024, 3, 10),
            run_conf=conf or {},
        )

    return build
