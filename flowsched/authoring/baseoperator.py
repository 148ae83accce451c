"""BaseOperator: the Airflow task arguments, their checks, and the hooks the runner calls.

Construction goes through ``_OperatorMeta.__call__`` so that default_args are applied
before any ``__init__`` runs and the task joins its DAG only once fully built (its
templated fields are known, so XComArgs in them can become upstream edges).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from flowsched.authoring import contexts
from flowsched.authoring.dates import to_pendulum, to_timedelta
from flowsched.authoring.default_args import apply_default_args
from flowsched.authoring.node import DAGNode
from flowsched.authoring.params import to_params
from flowsched.authoring.retries import retry_delay_for
from flowsched.authoring.xcom_arg import iter_xcom_args
from flowsched.exceptions import DagDefinitionError
from flowsched.utils.trigger_rule import TriggerRule
from flowsched.utils.weight_rule import WeightRule

if TYPE_CHECKING:
    import jinja2

    from flowsched.authoring.dag import DAG
    from flowsched.authoring.mapped import OperatorPartial
    from flowsched.authoring.taskgroup import TaskGroup

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
        dag: DAG | None = None,
        params: dict[str, Any] | None = None,
        default_args: dict[str, Any] | None = None,
        priority_weight: int = 1,
        weight_rule: str = WeightRule.DOWNSTREAM,
        queue: str | None = None,
        pool: str | None = None,
        pool_slots: int = 1,
        execution_timeout: timedelta | float | None = None,
        on_failure_callback: Callable | list[Callable] | None = None,
        on_success_callback: Callable | list[Callable] | None = None,
        on_retry_callback: Callable | list[Callable] | None = None,
        trigger_rule: str = TriggerRule.ALL_SUCCESS,
        do_xcom_push: bool = True,
        multiple_outputs: bool = False,
        task_group: TaskGroup | None = None,
        doc_md: str | None = None,
        doc: str | None = None,
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
        self.email = _email_list(email)
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
        self.depends_on_past = depends_on_past
        self.params = to_params(params, self._name)
        self.priority_weight = self._int(priority_weight, "priority_weight", minimum=None)
        self.weight_rule = WeightRule(self._choice(weight_rule, WeightRule, "weight_rule"))
        self.queue = queue or _default_queue()
        self.pool = pool or DEFAULT_POOL
        self.pool_slots = self._int(pool_slots, "pool_slots", minimum=1)
        self.on_failure_callback = self._callback(on_failure_callback, "on_failure_callback")
        self.on_success_callback = self._callback(on_success_callback, "on_success_callback")
        self.on_retry_callback = self._callback(on_retry_callback, "on_retry_callback")
        self.trigger_rule = TriggerRule(self._choice(trigger_rule, TriggerRule, "trigger_rule"))
        self.do_xcom_push = do_xcom_push
        self.multiple_outputs = multiple_outputs
        self.doc_md = doc_md or doc

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

            return conf.getint("core", "default_task_retries")
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

    def _finish_init(self) -> None:
        self._attach()
        if contexts.is_detached():
            return  # an unmapped copy: its edges are copied from the mapped task
        for field in self.template_fields:
            for arg in iter_xcom_args(getattr(self, field, None)):
                self.set_upstream(arg.operator)

    # --- what the runner and the scheduler use -------------------------------------------

    @property
    def operator_name(self) -> str:
        return self.custom_operator_name or type(self).__name__

    @property
    def log(self) -> logging.Logger:
        """The task log: the runner sends this logger's records to the try's log file."""
        return task_logger

    def execute(self, context: dict[str, Any]) -> Any:
        """Do the work; the return value is stored as the XCom ``return_value`` (JSON)."""
        raise NotImplementedError(f"{type(self).__name__} must implement execute(context)")

    def on_kill(self) -> None:
        """Called when the try is stopped from outside; operators with child processes
        override it to stop them."""

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


def _email_list(email: str | Sequence[str] | None) -> list[str]:
    if email is None:
        return []
    if isinstance(email, str):
        return [part.strip() for part in email.replace(";", ",").split(",") if part.strip()]
    return list(email)


def _default_retry_delay() -> timedelta:
    from flowsched.config import conf

    return timedelta(seconds=conf.getfloat("core", "default_retry_delay"))


def _default_queue() -> str:
    from flowsched.config import conf

    return conf.get("celery", "default_queue")
