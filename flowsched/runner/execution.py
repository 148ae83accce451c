"""Running a task's code and reading what it means, without touching its state.

Kept apart from recording, so that ``tasks test`` (which records nothing) and a real try
decide success, skip, reschedule and failure by exactly the same rules.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flowsched.authoring.context import current_context
from flowsched.authoring.templating import jinja_env_for
from flowsched.authoring.xcom_values import ensure_json
from flowsched.db.failure import TryError
from flowsched.db.tables import TaskInstanceState
from flowsched.db.xcom import RETURN_VALUE_KEY, SKIPPED_KEY
from flowsched.exceptions import RescheduleTask, TaskDeferred, TaskSkipped
from flowsched.masking import mask_secrets
from flowsched.runner.callbacks import run_callbacks
from flowsched.runner.deferral import poll, waiting
from flowsched.runner.interrupts import TaskInterrupted, execution_timeout
from flowsched.runner.log_capture import TASK_LOGGER

if TYPE_CHECKING:
    from flowsched.authoring.baseoperator import BaseOperator

logger = logging.getLogger(TASK_LOGGER)

State = TaskInstanceState


@dataclass
class Outcome:
    """How the task's code ended, before anything is recorded."""

    state: State
    result: Any = None
    error: BaseException | None = None
    reschedule_date: datetime | None = None
    skip: set[str] = field(default_factory=set)
    deferral: dict[str, Any] | None = None

    @classmethod
    def failed(cls, error: BaseException) -> Outcome:
        return cls(State.FAILED, error=error)


@dataclass
class TryResult:
    """An outcome as the try's process reports it to the supervisor that records it:
    plain data that pickles, the XComs to store, the exception as text."""

    state: str
    ended_at: datetime
    xcoms: dict[str, Any] = field(default_factory=dict)
    skip: set[str] = field(default_factory=set)
    reschedule_date: datetime | None = None
    error: TryError | None = None
    deferral: dict[str, Any] | None = None

    @classmethod
    def of(cls, outcome: Outcome, task: Any, ended_at: datetime) -> TryResult:
        error = outcome.error if outcome.state == State.FAILED else None
        return cls(
            state=outcome.state,
            ended_at=ended_at,
            xcoms=xcoms_of(task, outcome.result, outcome.skip),
            skip=outcome.skip,
            reschedule_date=outcome.reschedule_date,
            error=TryError.of(error) if error is not None else None,
            deferral=outcome.deferral,
        )


def rendered_fields(task: Any) -> dict[str, Any]:
    """The rendered template fields as JSON for the UI, with secrets masked."""
    return {name: _masked(_jsonable(getattr(task, name, None))) for name in task.template_fields}


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=repr))


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, list):
        return [_masked(item) for item in value]
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    return value


def run_task(
    task: Any,
    context: dict[str, Any],
    on_rendered: Callable[[dict[str, Any]], None],
    deferral: dict[str, Any] | None = None,
) -> Outcome:
    """Render ``task``'s templates, execute it (or, for a deferred try, poll its trigger
    and maybe resume it), and classify how it ended.

    Around ``execute``, as in Airflow: ``pre_execute``, then the ``on_execute_callback``
    (whose failure is only logged), and ``post_execute`` with the result; an exception
    from ``pre_execute`` or ``post_execute`` fails the try."""
    try:
        resumption = poll(deferral) if deferral else None
        task.render_template_fields(context, jinja_env_for(task.dag))
        on_rendered(rendered_fields(task))
        task.pre_execute(context)
        run_callbacks(task.on_execute_callback, context, "on_execute")
        timeout = task.execution_timeout
        with (
            execution_timeout(timeout.total_seconds() if timeout else None),
            current_context(context),
        ):
            if resumption is None:
                result = task.execute(context)
            else:
                result = task.resume_execution(resumption.method, resumption.kwargs, context)
        task.post_execute(context, result)
        return Outcome(State.SUCCESS, _checked_result(task, result), skip=_to_skip(task, result))
    except TaskDeferred as deferred:
        wait = waiting(deferred, task, context.get("ti"), deferral)
        logger.info("Deferring: %r is next checked at %s", deferred.trigger, wait.check_at)
        return Outcome(State.UP_FOR_RESCHEDULE, reschedule_date=wait.check_at, deferral=wait.record)
    except TaskSkipped as skip:
        logger.info("Skipping task: %s", skip)
        return Outcome(State.SKIPPED, error=skip)
    except RescheduleTask as reschedule:
        logger.info("Rescheduling task to %s", reschedule.reschedule_date.isoformat())
        return Outcome(State.UP_FOR_RESCHEDULE, reschedule_date=reschedule.reschedule_date)
    except TaskInterrupted as interrupt:
        logger.error("%s; stopping the task", interrupt)
        _kill(task)
        return Outcome.failed(interrupt)
    except BaseException as error:  # the task's code may raise anything, SystemExit included
        logger.exception("Task failed with exception")
        return Outcome.failed(error)


def _checked_result(task: Any, result: Any) -> Any:
    if not task.do_xcom_push or result is None:
        return None
    ensure_json(result, task.task_id)
    if task.multiple_outputs and not isinstance(result, dict):
        raise TypeError(
            f"Task {task.task_id!r} has multiple_outputs=True and must return a dict, "
            f"not {type(result).__name__}"
        )
    return result


def _to_skip(task: BaseOperator, result: Any) -> set[str]:
    skip = set(task.downstream_to_skip(result))
    if skip:
        logger.info("Skipping downstream tasks: %s", ", ".join(sorted(skip)))
    return skip


def _kill(task: BaseOperator) -> None:
    try:
        task.on_kill()
    except Exception:
        logger.exception("on_kill of task %r failed", task.task_id)


def xcoms_of(task: Any, result: Any, skip: set[str] | frozenset[str] = frozenset()) -> dict:
    """The XComs a successful result is stored as (``multiple_outputs`` adds one per key),
    and the tasks it skipped, as Airflow records a branch's choice."""
    values: dict[str, Any] = {SKIPPED_KEY: {"skipped": sorted(skip)}} if skip else {}
    if result is None:
        return values
    values[RETURN_VALUE_KEY] = result
    if task.multiple_outputs:
        values.update({str(key): value for key, value in result.items()})
    return values
