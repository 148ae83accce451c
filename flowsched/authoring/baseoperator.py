"""BaseOperator: the Airflow task arguments, their checks, and the hooks the runner calls.

Construction goes through ``_OperatorMeta.__call__`` so that default_args are applied
before any ``__init__`` runs and the task joins its DAG only once fully built (its
templated fields are known, so XComArgs in them can become upstream edges).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from flowsched.authoring import scope
from flowsched.authoring.dates import to_pendulum, to_timedelta
from flowsched.authoring.default_args import apply_default_args
from flowsched.authoring.ignored_args import IGNORED_TASK_ARGS, ignored_values
from flowsched.authoring.node import DAGNode
from flowsched.authoring.params import to_params
from flowsched.authoring.xcom_arg import iter_xcom_args
from flowsched.exceptions import DagDefinitionError, TaskDeferralError, TaskDeferred
from flowsched.utils.trigger_rule import TriggerRule
from flowsched.utils.weight_rule import WeightRule

if TYPE_CHECKING:
    import jinja2

    from flowsched.authoring.dag import DAG
    from flowsched.authoring.mapped import OperatorPartial
    from flowsched.authoring.taskgroup import TaskGroup
    from flowsched.triggers.base import BaseTrigger

DEFAULT_OWNER = "flowsched"
DEFAULT_POOL = "default_pool"
task_logger = logging.getLogger("flowsched.task")


class _OperatorMeta(type):
    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if args:
            raise TypeError(
                f"{cls.__name__}() takes keyword arguments only (task_id=..., ...); "
                f"got {len(args)} positional argument(s)"
            )
        operator = super().__call__(**apply_default_args(cls, kwargs))
        operator._finish_init()
        return operator


class BaseOperator(DAGNode, metaclass=_OperatorMeta):
    """Subclasses set ``template_fields`` and implement ``execute(context)``."""

    template_fields: ClassVar[Sequence[str]] = ()
    template_ext: Sequence[str] = ()
    ui_color = "#fff"
    ui_fgcolor = "#000"
    custom_operator_name: ClassVar[str | None] = None
    is_sensor: ClassVar[bool] = False
    # Names of the links the task page offers (Airflow's operator_extra_links), e.g.
    # "Triggered DAG"; the web UI builds each from the try's rendered fields and XComs.
    extra_links: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        *,
        task_id: str,
        owner: str = DEFAULT_OWNER,
        email: str | Sequence[str] | None = None,
        email_on_retry: bool = True,
        email_on_failure: bool = True,
        retries: int | None = None,
        retry_delay: timedelta | float | None = None,
        retry_exponential_backoff: bool = False,
        max_retry_delay: timedelta | float | None = None,
        start_date: Any = None,
        end_date: Any = None,
        depends_on_past: bool = False,
        ignore_first_depends_on_past: bool = True,
        wait_for_past_depends_before_skipping: bool = False,
        wait_for_downstream: bool = False,
        dag: DAG | None = None,
        params: dict[str, Any] | None = None,
        default_args: dict[str, Any] | None = None,
        priority_weight: int = 1,
        weight_rule: str = WeightRule.DOWNSTREAM,
        queue: str | None = None,
        pool: str | None = None,
        pool_slots: int = 1,
        sla: timedelta | float | None = None,
        execution_timeout: timedelta | float | None = None,
        on_execute_callback: Callable | list[Callable] | None = None,
        on_failure_callback: Callable | list[Callable] | None = None,
        on_success_callback: Callable | list[Callable] | None = None,
        on_retry_callback: Callable | list[Callable] | None = None,
        on_skipped_callback: Callable | list[Callable] | None = None,
        pre_execute: Callable | None = None,
        post_execute: Callable | None = None,
        trigger_rule: str = TriggerRule.ALL_SUCCESS,
        resources: dict[str, Any] | None = None,
        run_as_user: str | None = None,
        task_concurrency: int | None = None,
        map_index_template: str | None = None,
        max_active_tis_per_dag: int | None = None,
        max_active_tis_per_dagrun: int | None = None,
        executor: str | None = None,
        executor_config: dict[str, Any] | None = None,
        do_xcom_push: bool = True,
        multiple_outputs: bool = False,
        inlets: Any = None,
        outlets: Any = None,
        task_group: TaskGroup | None = None,
        doc: str | None = None,
        doc_md: str | None = None,
        doc_json: str | None = None,
        doc_yaml: str | None = None,
        doc_rst: str | None = None,
        task_display_name: str | None = None,
        logger_name: str | None = None,
        allow_nested_operators: bool = True,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            names = ", ".join(repr(name) for name in kwargs)
            raise TypeError(
                f"{type(self).__name__}(task_id={task_id!r}) got unexpected keyword "
                f"argument(s) {names}"
            )
        self._init_node(task_id, dag, task_group)
        self.owner = owner
        self.email = email_list(email)
        self.email_on_retry = email_on_retry
        self.email_on_failure = email_on_failure
        self.retries = self._retries(retries)
        delay = self._duration(retry_delay, "retry_delay")
        self.retry_delay = _default_retry_delay() if delay is None else delay
        self.retry_exponential_backoff = retry_exponential_backoff
        self.max_retry_delay = self._duration(max_retry_delay, "max_retry_delay")
        self.execution_timeout = self._duration(execution_timeout, "execution_timeout")
        self.start_date = to_pendulum(start_date, f"{self._name}: start_date")
        self.end_date = to_pendulum(end_date, f"{self._name}: end_date")
        # as Airflow: waiting for the previous run's downstream implies depending on it
        self.depends_on_past = depends_on_past or wait_for_downstream
        self.ignore_first_depends_on_past = ignore_first_depends_on_past
        self.wait_for_past_depends_before_skipping = wait_for_past_depends_before_skipping
        self.wait_for_downstream = wait_for_downstream
        self.params = to_params(params, self._name)
        self.priority_weight = self._int(priority_weight, "priority_weight", minimum=None)
        self.weight_rule = WeightRule(self._choice(weight_rule, WeightRule, "weight_rule"))
        self.queue = queue or _default_queue()
        self.pool = pool or DEFAULT_POOL
        self.pool_slots = self._int(pool_slots, "pool_slots", minimum=1)
        self.max_active_tis_per_dag = self._limit(
            max_active_tis_per_dag or task_concurrency, "max_active_tis_per_dag"
        )
        self.max_active_tis_per_dagrun = self._limit(
            max_active_tis_per_dagrun, "max_active_tis_per_dagrun"
        )
        self.sla = self._duration(sla, "sla")
        self.on_execute_callback = self._callback(on_execute_callback, "on_execute_callback")
        self.on_skipped_callback = self._callback(on_skipped_callback, "on_skipped_callback")
        self._pre_execute_hook = self._callback(pre_execute, "pre_execute")
        self._post_execute_hook = self._callback(post_execute, "post_execute")
        self.on_failure_callback = self._callback(on_failure_callback, "on_failure_callback")
        self.on_success_callback = self._callback(on_success_callback, "on_success_callback")
        self.on_retry_callback = self._callback(on_retry_callback, "on_retry_callback")
        self.trigger_rule = TriggerRule(self._choice(trigger_rule, TriggerRule, "trigger_rule"))
        self.do_xcom_push = do_xcom_push
        self.multiple_outputs = multiple_outputs
        self.doc_md = doc_md or doc
        self.doc_json = doc_json
        self.doc_yaml = doc_yaml
        self.doc_rst = doc_rst
        self._task_display_name = task_display_name
        self.logger_name = logger_name
        ignored = {
            "executor": executor,
            "executor_config": executor_config,
            "resources": resources,
            "run_as_user": run_as_user,
            "inlets": inlets,
            "outlets": outlets,
            "map_index_template": map_index_template,
            "allow_nested_operators": allow_nested_operators,
        }
        for name, value in ignored.items():
            setattr(self, name, value)  # DAG code may read them back, as in Airflow
        self.ignored_args = ignored_values(IGNORED_TASK_ARGS, ignored)

    # --- construction checks -------------------------------------------------------------

    @property
    def _name(self) -> str:
        return f"{type(self).__name__}(task_id={self.task_id!r})"

    def _invalid(self, message: str) -> DagDefinitionError:
        return DagDefinitionError(f"{self._name}: {message}")

    def _int(self, value: Any, name: str, minimum: int | None) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._invalid(f"{name} must be an integer, got {value!r}")
        if minimum is not None and value < minimum:
            raise self._invalid(f"{name} must be at least {minimum}, got {value}")
        return value

    def _retries(self, retries: int | None) -> int:
        if retries is None:
            from flowsched.config import conf

            return conf.core.default_task_retries
        return self._int(retries, "retries", minimum=0)

    def _duration(self, value: Any, name: str) -> timedelta | None:
        delta = to_timedelta(value, f"{self._name}: {name}")
        if delta is not None and delta < timedelta(0):
            raise self._invalid(f"{name} must not be negative, got {delta}")
        return delta

    def _choice(self, value: Any, enum: Any, name: str) -> Any:
        if not enum.is_valid(value):
            allowed = ", ".join(member.value for member in enum)
            raise self._invalid(f"{name} must be one of {allowed}; got {value!r}")
        return value

    def _callback(self, value: Any, name: str) -> Any:
        if not all(callable(item) for item in _callback_list(value)):
            raise self._invalid(f"{name} must be a callable or a list of callables")
        return value

    def _limit(self, value: Any, name: str) -> int | None:
        return None if value is None else self._int(value, name, minimum=1)

    def _finish_init(self) -> None:
        self._attach()
        if scope.is_detached():
            return  # an unmapped copy: its edges are copied from the mapped task
        for field in self.template_fields:
            for arg in iter_xcom_args(getattr(self, field, None)):
                self.set_upstream(arg.operator)

    # --- what the runner and the scheduler use -------------------------------------------

    @property
    def operator_name(self) -> str:
        return self.custom_operator_name or type(self).__name__

    @property
    def task_display_name(self) -> str:
        return self._task_display_name or self.task_id

    @property
    def log(self) -> logging.Logger:
        """The task log: the runner sends this logger's records to the try's log file
        (``logger_name`` names a child of it, as Airflow's names one of ``airflow.task``)."""
        if self.logger_name:
            return task_logger.getChild(f"operators.{self.logger_name}")
        return task_logger

    def pre_execute(self, context: dict[str, Any]) -> None:
        """Called right before ``execute``; runs the ``pre_execute`` hook if given."""
        if self._pre_execute_hook is not None:
            self._pre_execute_hook(context)

    def post_execute(self, context: dict[str, Any], result: Any = None) -> None:
        """Called right after ``execute`` with its result; runs the ``post_execute`` hook."""
        if self._post_execute_hook is not None:
            self._post_execute_hook(context, result)

    def execute(self, context: dict[str, Any]) -> Any:
        """Do the work; the return value is stored as the XCom ``return_value`` (JSON)."""
        raise NotImplementedError(f"{type(self).__name__} must implement execute(context)")

    def on_kill(self) -> None:
        """Called when the try is stopped from outside; operators with child processes
        override it to stop them."""

    def serialized_extra(self) -> dict[str, Any] | None:
        """Facts of this operator that an operation needs without importing the DAG file
        (e.g. an ExternalTaskMarker's target); kept in the serialized DAG."""
        return None

    def defer(
        self,
        *,
        trigger: BaseTrigger,
        method_name: str,
        kwargs: dict[str, Any] | None = None,
        timeout: timedelta | None = None,
    ) -> NoReturn:
        """Wait for ``trigger`` without holding a worker slot, then go on in
        ``method_name(context, event=..., **kwargs)``; fail after ``timeout``."""
        raise TaskDeferred(trigger=trigger, method_name=method_name, kwargs=kwargs, timeout=timeout)

    def resume_execution(
        self, next_method: str, next_kwargs: dict[str, Any] | None, context: dict[str, Any]
    ) -> Any:
        """Go on after a deferral; ``__fail__`` is the resumption of one that timed out."""
        if next_method == "__fail__":
            raise TaskDeferralError((next_kwargs or {}).get("error", "Unknown"))
        return getattr(self, next_method)(context, **(next_kwargs or {}))

    def downstream_to_skip(self, result: Any) -> set[str]:
        """Task ids to mark skipped after ``execute`` returned ``result`` (branching)."""
        return set()

    def render_template_fields(
        self, context: dict[str, Any], jinja_env: jinja2.Environment | None = None
    ) -> None:
        from flowsched.authoring.templating import jinja_env_for, render_fields

        render_fields(self, context, jinja_env or jinja_env_for(self.dag))

    def render_template(
        self, content: Any, context: dict[str, Any], jinja_env: jinja2.Environment | None = None
    ) -> Any:
        """``content`` rendered with ``context``: a template string, or strings nested in
        lists and dicts (Airflow's ``render_template``, for operators that render more)."""
        from flowsched.authoring.templating import jinja_env_for, render_value

        env = jinja_env or jinja_env_for(self.dag)
        return render_value(content, context, env, tuple(self.template_ext))

    def callbacks(self, kind: str) -> list[Callable]:
        """``kind`` is e.g. "on_failure_callback"; Airflow allows one callable or a list."""
        return _callback_list(getattr(self, kind))

    def retry_delay_for(self, try_number: int) -> timedelta:
        from flowsched.db.failure import retry_delay_for  # on use: DAG files import no ORM

        return retry_delay_for(
            self.retry_delay, self.retry_exponential_backoff, self.max_retry_delay, try_number
        )

    @classmethod
    def partial(cls, **kwargs: Any) -> OperatorPartial:
        """``BashOperator.partial(task_id="t", env=...).expand(bash_command=[...])``."""
        from flowsched.authoring.mapped import OperatorPartial

        return OperatorPartial(cls, kwargs)


def _callback_list(value: Callable | list[Callable] | None) -> list[Callable]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def email_list(email: str | Sequence[str] | None) -> list[str]:
    """Addresses from a list or one string separated by commas or semicolons (Airflow's rule)."""
    if email is None:
        return []
    if isinstance(email, str):
        return [part.strip() for part in email.replace(";", ",").split(",") if part.strip()]
    return list(email)


def _default_retry_delay() -> timedelta:
    from flowsched.config import conf

    return timedelta(seconds=conf.core.default_retry_delay)


def _default_queue() -> str:
    from flowsched.config import conf

    return conf.celery.default_queue
