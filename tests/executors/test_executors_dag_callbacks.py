"""The scheduler starts DAG-level callbacks through the executors package, in a runner child."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

from flowsched.executors import dag_callbacks


def test_the_child_module_the_scheduler_starts_exists_and_takes_four_arguments(home):
    assert importlib.util.find_spec(dag_callbacks.RUNNER_MODULE) is not None
    # without a database row the child fails on its own, loudly, and changes nothing
    child = subprocess.run(
        [sys.executable, "-m", dag_callbacks.RUNNER_MODULE, "no_dag", "no_run", "failed", "x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode != 0
    assert "NoResultFound" in child.stderr or "no such table" in child.stderr
