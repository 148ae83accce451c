"""The try's own process: it runs the task, and reports to its supervisor.

It writes the try's log file (everything the task prints or logs, secrets masked),
builds the context, renders the templates and executes the task, then hands the outcome
to its supervisor to be recorded, and exits. A task with callbacks for that outcome
waits instead for the state the supervisor recorded (success, up_for_retry or failed)
and runs them, with the context and the exception: a failing callback is logged here and
changes nothing.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING, Any, Protocol

from flowsched.db.tables import TaskInstanceState, utcnow
from flowsched.runner import outcome_file
from flowsched.runner.callbacks import run_callbacks
from flowsched.runner.deferral import resumable
from flowsched.runner.execution import Outcome, TryResult, run_task
from flowsched.runner.interrupts import sigterm_interrupts
from flowsched.runner.log_capture import TASK_LOGGER, capture_try_output
from flowsched.runner.mapping import concrete_task
from flowsched.runner.task_instance import RuntimeTaskInstance
from flowsched.runner.try_context import try_context
from flowsched.task_logs import log_path, try_log_file
from flowsched.tries import TaskKey

if TYPE_CHECKING:
    from flowsched.authoring.dag import DAG
    from flowsched.runner.task_runner import StartedTry

logger = logging.getLogger(TASK_LOGGER)
State = TaskInstanceState

CALLBACKS = {
    State.SUCCESS: ("on_success_callback", "on_success"),
    State.UP_FOR_RETRY: ("on_retry_callback", "on_retry"),
    State.FAILED: ("on_failure_callback", "on_failure"),
    State.SKIPPED: ("on_skipped_callback", "on_skipped"),  # the task raised a skip
}


_code_ended = threading.Event()  # set in the try's process once the task's code has ended


def code_ended() -> bool:
    """Whether the task's code has ended in this (the try's) process."""
    return _code_ended.is_set()


class Supervisor(Protocol):
    """The try's line to the process that records it."""

    def rendered(self, fields: dict[str, Any]) -> None:
        """The rendered template fields, to be shown while the try runs."""

    def hand_over(self, result: TryResult) -> None:
        """``result`` is to be recorded once this process has exited."""

    def decide(self, result: TryResult) -> str | None:
        """Record ``result`` now; the try's state (None: taken away from outside)."""

    def log_problem(self, problem: str) -> None:
        """The try's log file could not be written (where and why)."""


class TryProcess:
    def __init__(self, key: TaskKey, dag: DAG, started: StartedTry, supervisor: Supervisor) -> None:
        self.key = key
        self.dag = dag
        self.started = started
        self.supervisor = supervisor
        self.task: Any = None
        self.ti = RuntimeTaskInstance(started.row, None)
        self.context: dict[str, Any] = {"dag": dag, "ti": self.ti, "run_id": key.run_id}

    def run(self) -> None:
        with try_log_file(log_path(*self.key)) as sink, capture_try_output(sink, capture_fds=True):
            logger.info("Starting %s on %s (pid %s)", self.key, self.ti.hostname, os.getpid())
            with sigterm_interrupts():
                outcome = self._execute()
            _code_ended.set()
            result = TryResult.of(outcome, self.task, utcnow())
            outcome_file.save(self.key, result)  # lost with the supervisor? not with this
            if sink.problem is not None:
                self.supervisor.log_problem(sink.problem)
            callbacks = self._callbacks(outcome)
            if not callbacks:
                self.supervisor.hand_over(result)
                return
            state = self.supervisor.decide(result)
            if state in callbacks:
                self._call_back(state, callbacks[state], outcome)

    def _execute(self) -> Outcome:
        try:
            self.task = self.ti.task = self.dag.get_task(self.key.task_id)
            self.task = self.ti.task = concrete_task(self.task, self.ti)
            self.context = try_context(
                self.dag, self.task, self.ti, self.started.dag_run, self.started.previous
            )
        except BaseException as error:
            logger.exception("Could not prepare the task")
            return Outcome.failed(error)
        deferral = resumable(self.started.row.deferral, self.key.try_number)
        return run_task(self.task, self.context, self._rendered, deferral)

    def _rendered(self, fields: dict[str, Any]) -> None:
        if any(value not in (None, "", [], {}) for value in fields.values()):
            self.supervisor.rendered(fields)  # most tasks have nothing to show: no write

    def _callbacks(self, outcome: Outcome) -> dict[str, Any]:
        """The task's callbacks that this outcome may call, by the state they are for."""
        if self.task is None:
            return {}
        failed = outcome.state == State.FAILED
        states = [State.UP_FOR_RETRY, State.FAILED] if failed else [outcome.state]
        found = {
            state: getattr(self.task, CALLBACKS[state][0], None)
            for state in states
            if state in CALLBACKS
        }
        return {state: callbacks for state, callbacks in found.items() if callbacks}

    def _call_back(self, state: str, callbacks: Any, outcome: Outcome) -> None:
        self.ti.state = state
        context = dict(self.context)
        if outcome.state == State.FAILED:
            context["exception"] = outcome.error
        run_callbacks(callbacks, context, CALLBACKS[State(state)][1])
