"""Exceptions that DAG files raise or see, under Airflow's names as well as ours.

Definition errors subclass ``DagDefinitionError`` so the parser can turn any of them into
one import-error row; runtime signals (skip, fail without retry, reschedule) are
exceptions because that is how a task's ``execute`` talks back to the runner.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowsched.triggers.base import BaseTrigger


class FlowschedException(Exception):
    """Base of every error flowsched raises on purpose."""


class DagDefinitionError(FlowschedException):
    """A DAG file describes something flowsched cannot run; reported as an import error."""


class DuplicateTaskIdFound(DagDefinitionError):
    """Two tasks (or task groups) of one DAG share an id."""


class DuplicateDagIdFound(DagDefinitionError):
    """Two different DAG objects of one file share a dag_id."""


class DagCycleError(DagDefinitionError):
    """An edge would close a cycle; the message spells the cycle out."""


class InvalidIdentifierError(DagDefinitionError):
    """A dag_id, task_id or group_id does not match ``[A-Za-z0-9_.-]{1,250}``."""


class ConnectionNotFound(FlowschedException, KeyError):
    """A connection id is defined neither in the environment nor in the database."""


class TaskNotFound(FlowschedException):
    """A task id was looked up in a DAG that has no such task."""


class ParamValidationError(FlowschedException):
    """A DAG param (default or run conf value) fails its JSON schema."""


class TemplateRenderError(FlowschedException):
    """A templated field could not be rendered; names the task and the field."""


class XComNotSerializable(FlowschedException):
    """A task returned a value that cannot be stored as JSON."""


class TaskSkipped(FlowschedException):
    """Raised inside a task to end it in the ``skipped`` state."""


class TaskFailedNoRetry(FlowschedException):
    """Raised inside a task to fail it without using its remaining retries."""


class SensorTimeout(TaskFailedNoRetry):
    """A sensor waited longer than its ``timeout``; retrying would only wait again."""


class RescheduleTask(FlowschedException):
    """A reschedule-mode sensor asks to be run again at ``reschedule_date``, freeing its slot."""

    def __init__(self, reschedule_date: datetime) -> None:
        super().__init__(f"Reschedule the task at {reschedule_date.isoformat()}")
        self.reschedule_date = reschedule_date


class TaskInterrupted(BaseException):
    """The try was stopped from outside its code (a BaseException, so that a task's
    ``except Exception`` cannot swallow it)."""


class TaskTimeout(TaskInterrupted):
    """The try ran longer than the task's ``execution_timeout``."""


class TaskDeferred(BaseException):
    """Raised by ``BaseOperator.defer``: the task waits for ``trigger`` without holding a
    worker slot, then resumes in ``method_name`` (see docs/airflow.md, "Deferrable tasks").

    A BaseException, as in Airflow, so that a task's ``except Exception`` does not swallow it.
    """

    def __init__(
        self,
        *,
        trigger: BaseTrigger,
        method_name: str,
        kwargs: dict[str, Any] | None = None,
        timeout: timedelta | None = None,
    ) -> None:
        super().__init__(f"Deferring until {trigger!r} fires, then {method_name}")
        self.trigger = trigger
        self.method_name = method_name
        self.kwargs = kwargs
        self.timeout = timeout


class TaskDeferralError(FlowschedException):
    """A deferred task could not resume, e.g. its trigger timed out."""


# Airflow's names, so that DAG files ported from Airflow keep working.
AirflowException = FlowschedException
AirflowSkipException = TaskSkipped
AirflowFailException = TaskFailedNoRetry
AirflowSensorTimeout = SensorTimeout
AirflowRescheduleException = RescheduleTask
AirflowTaskTimeout = TaskTimeout
AirflowTaskTerminated = TaskInterrupted
AirflowNotFoundException = ConnectionNotFound
AirflowDagCycleException = DagCycleError
