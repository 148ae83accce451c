"""Starting a finished run's DAG-level callbacks in a child process, for the scheduler.

The callbacks are the DAG file's code, so they run where user code runs: in a child that
is the runner's (``flowsched.runner.dag_callbacks``). The scheduler only starts it and
does not wait; finished children are reaped by ``subprocess``.
"""

from __future__ import annotations

import logging
import subprocess
import sys

log = logging.getLogger(__name__)

RUNNER_MODULE = "flowsched.runner.dag_callbacks"


def start(dag_id: str, run_id: str, state: str, reason: str) -> None:
    """Start the ``state`` callbacks of a finished run (``success``, ``failed``, or
    ``db.states.SLA_MISS`` for its ``sla_miss_callback``)."""
    command = [sys.executable, "-m", RUNNER_MODULE, dag_id, run_id, state, reason]
    try:
        subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)
    except OSError as exc:
        log.error("could not start the %s callbacks of %s %s: %s", state, dag_id, run_id, exc)
