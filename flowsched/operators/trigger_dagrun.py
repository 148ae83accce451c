"""TriggerDagRunOperator: start a run of another DAG, and maybe wait for it to finish."""

from __future__ import annotations

import datetime
import json
import time
from typing import Any

import pendulum

from flowsched.authoring.baseoperator import BaseOperator
from flowsched.db.states import DagRunState
from flowsched.exceptions import FlowschedException, TaskSkipped
from flowsched.triggers.base import default_deferrable
from flowsched.triggers.external_task import DagStateTrigger

XCOM_LOGICAL_DATE_ISO = "trigger_logical_date_iso"
XCOM_RUN_ID = "trigger_run_id"


class DagRunAlreadyExists(FlowschedException):
    """The DAG already has a run with this run id or logical date."""


class TriggerDagRunOperator(BaseOperator):
    """Queues a run of ``trigger_dag_id`` (with ``conf``, ``logical_date``,
    ``trigger_run_id``; all templated) through the same trigger operation as the CLI and
    the UI, and pushes its run id as XCom ``trigger_run_id`` (the task page links to it).

    If the run exists already: ``reset_dag_run`` clears it to run again,
    ``skip_when_already_exists`` skips this task, otherwise the task fails.
    ``wait_for_completion`` waits (checking every ``poke_interval`` seconds; with
    ``deferrable`` without holding a worker slot) until the run is in ``allowed_states``
    (success) or fails the task in ``failed_states`` (failed).
    """

    template_fields = (
        "trigger_dag_id",
        "trigger_run_id",
        "logical_date",
        "conf",
        "wait_for_completion",
        "skip_when_already_exists",
    )
    ui_color = "#ffefeb"
    extra_links = ("Triggered DAG",)

    def __init__(
        self,
        *,
        trigger_dag_id: str,
        trigger_run_id: str | None = None,
        conf: dict[str, Any] | None = None,
        logical_date: str | datetime.datetime | None = None,
        reset_dag_run: bool = False,
        wait_for_completion: bool = False,
        poke_interval: float = 60,
        allowed_states: list[str] | None = None,
        failed_states: list[str] | None = None,
        skip_when_already_exists: bool = False,
        deferrable: bool | None = None,
        execution_date: str | datetime.datetime | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.trigger_dag_id = trigger_dag_id
        self.trigger_run_id = trigger_run_id
        self.conf = conf
        self.reset_dag_run = reset_dag_run
        self.wait_for_completion = wait_for_completion
        self.poke_interval = poke_interval
        self.allowed_states = [DagRunState(s) for s in allowed_states or [DagRunState.SUCCESS]]
        if failed_states is None:
            failed_states = [DagRunState.FAILED]
        self.failed_states = [DagRunState(s) for s in failed_states]
        self.skip_when_already_exists = skip_when_already_exists
        self._defer = default_deferrable() if deferrable is None else deferrable
        logical_date = execution_date if execution_date is not None else logical_date
        if logical_date is not None and not isinstance(logical_date, str | datetime.datetime):
            raise TypeError(
                "Expected str or datetime.datetime type for parameter 'logical_date'. "
                f"Got {type(logical_date).__name__}"
            )
        self.logical_date = logical_date

    def execute(self, context: dict[str, Any]) -> None:
        logical_date: datetime.datetime = self._parsed_logical_date()
        try:
            json.dumps(self.conf)
        except TypeError:
            raise FlowschedException("conf parameter should be JSON Serializable") from None
        run_id = str(self.trigger_run_id or f"manual__{logical_date.isoformat()}")
        run_id, logical_date = self._trigger(run_id, logical_date)
        ti = context["task_instance"]
        ti.xcom_push(key=XCOM_LOGICAL_DATE_ISO, value=logical_date.isoformat())
        ti.xcom_push(key=XCOM_RUN_ID, value=run_id)
        if not self.wait_for_completion:
            return
        if self._defer:
            self.defer(
                trigger=DagStateTrigger(
                    dag_id=self.trigger_dag_id,
                    states=[*self.allowed_states, *self.failed_states],
                    execution_dates=[logical_date],
                    poll_interval=self.poke_interval,
                ),
                method_name="execute_complete",
            )
        while True:
            self.log.info(
                "Waiting for %s on %s to become allowed state %s ...",
                self.trigger_dag_id,
                logical_date,
                [str(state) for state in self.allowed_states],
            )
            time.sleep(self.poke_interval)
            state = _find_run(self.trigger_dag_id, run_id=run_id).state
            if state in self.failed_states:
                raise FlowschedException(f"{self.trigger_dag_id} failed with failed states {state}")
            if state in self.allowed_states:
                self.log.info("%s finished with allowed state %s", self.trigger_dag_id, state)
                return

    def _parsed_logical_date(self) -> pendulum.DateTime:
        if isinstance(self.logical_date, datetime.datetime):
            return pendulum.instance(self.logical_date)
        if isinstance(self.logical_date, str):
            parsed = pendulum.parse(self.logical_date, tz="UTC")
            assert isinstance(parsed, pendulum.DateTime)
            return parsed
        return pendulum.now("UTC")

    def _trigger(
        self, run_id: str, logical_date: datetime.datetime
    ) -> tuple[str, datetime.datetime]:
        """Queue the run, or deal with the one already there; its run id and logical date."""
        from flowsched.db import session_scope
        from flowsched.operations.errors import Conflict
        from flowsched.operations.runs import trigger_run

        try:
            with session_scope() as session:
                run = trigger_run(
                    session,
                    self.trigger_dag_id,
                    actor=self._actor(),
                    conf=self.conf,
                    logical_date=logical_date,
                    run_id=run_id,
                )
                return run.run_id, run.logical_date
        except Conflict as clash:
            existing = _find_run(self.trigger_dag_id, run_id=run_id, logical_date=logical_date)
            if existing is None:
                raise  # another conflict, e.g. the DAG is inactive
            if self.reset_dag_run:
                self._reset(existing.run_id)
                return existing.run_id, existing.logical_date
            if self.skip_when_already_exists:
                raise TaskSkipped(
                    "Skipping due to skip_when_already_exists is set to True and "
                    "DagRunAlreadyExists"
                ) from None
            raise DagRunAlreadyExists(clash.message) from None

    def _reset(self, run_id: str) -> None:
        """Clear the existing run (all its tasks, and what ExternalTaskMarkers in it point
        to) so that it runs again; its conf stays as it was, as in Airflow."""
        from flowsched.db import session_scope
        from flowsched.operations.markers import follow_external_task_markers
        from flowsched.operations.task_instances import TaskSelection, clear_task_instances

        self.log.info("Clearing %s run %s", self.trigger_dag_id, run_id)
        with session_scope() as session:
            clear_task_instances(
                session,
                [TaskSelection(self.trigger_dag_id, [run_id])],
                actor=self._actor(),
                follow=follow_external_task_markers(),
            )

    def _actor(self) -> str:
        return f"{type(self).__name__} {self.require_dag().dag_id}.{self.task_id}"

    def execute_complete(self, context: dict[str, Any], event: Any = None) -> None:
        """The run reached one of the awaited states: succeed or fail by which one."""
        logical_date = event[1]["execution_dates"][0]
        run = _find_run(self.trigger_dag_id, logical_date=logical_date)
        if run is None:
            raise FlowschedException(
                f"No DAG run found for DAG {self.trigger_dag_id} and logical date {logical_date}"
            )
        state = run.state
        if state in self.failed_states:
            raise FlowschedException(f"{self.trigger_dag_id} failed with failed state {state}")
        if state in self.allowed_states:
            self.log.info("%s finished with allowed state %s", self.trigger_dag_id, state)
            return
        raise FlowschedException(
            f"{self.trigger_dag_id} return {state} which is not in {self.failed_states} "
            f"or {self.allowed_states}"
        )


def _find_run(dag_id: str, *, run_id: str | None = None, logical_date: Any = None) -> Any:
    """(run_id, logical_date, state) of ``dag_id``'s run named ``run_id`` or at
    ``logical_date``; None if it has none."""
    from sqlalchemy import select

    from flowsched.db import session_scope
    from flowsched.db.dagrun import DagRun

    condition = (DagRun.run_id == run_id) | (DagRun.logical_date == logical_date)
    query = select(DagRun.run_id, DagRun.logical_date, DagRun.state).where(
        DagRun.dag_id == dag_id, condition
    )
    with session_scope(readonly=True) as session:
        return session.execute(query.limit(1)).first()
