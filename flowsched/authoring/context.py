"""The run context: what templates and Python callables see (Airflow's context keys).

Built from plain arguments by one function, so that the runner and ``dags test`` give a
task exactly the same context.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pendulum

from flowsched.authoring.params import resolve_params
from flowsched.exceptions import FlowschedException

if TYPE_CHECKING:
    from flowsched.authoring.dag import DAG
    from flowsched.authoring.node import DAGNode
    from flowsched.db.dagrun import DagRun

Context = dict[str, Any]
"""The type of a task's context (Airflow's ``airflow.utils.context.Context``)."""

_running: list[Context] = []

CONTEXT_KEYS = frozenset(
    {
        "conf",
        "conn",
        "dag",
        "dag_run",
        "data_interval_end",
        "data_interval_start",
        "ds",
        "ds_nodash",
        "execution_date",
        "logical_date",
        "macros",
        "map_index",
        "params",
        "prev_data_interval_end_success",
        "prev_data_interval_start_success",
        "prev_end_date_success",
        "prev_start_date_success",
        "run_id",
        "task",
        "task_instance",
        "task_instance_key_str",
        "templates_dict",
        "test_mode",
        "ti",
        "tomorrow_ds",
        "tomorrow_ds_nodash",
        "ts",
        "ts_nodash",
        "ts_nodash_with_tz",
        "var",
        "yesterday_ds",
        "yesterday_ds_nodash",
    }
)


def make_context(
    *,
    dag: DAG,
    task: DAGNode | None,
    run_id: str,
    logical_date: datetime,
    data_interval_start: datetime | None = None,
    data_interval_end: datetime | None = None,
    dag_run: Any = None,
    ti: Any = None,
    run_conf: Mapping[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    map_index: int = -1,
    prev_data_interval_start_success: datetime | None = None,
    prev_data_interval_end_success: datetime | None = None,
    prev_start_date_success: datetime | None = None,
    prev_end_date_success: datetime | None = None,
    test_mode: bool = False,
) -> dict[str, Any]:
    """``run_conf`` defaults to ``dag_run.conf``; ``params`` (already resolved) default to
    the task's (or DAG's) params overridden by the run conf, validated."""
    from flowsched.authoring import macros

    if run_conf is None:
        run_conf = getattr(dag_run, "conf", None) or {}
    if params is None:
        params = resolve_params(task.params if task is not None else dag.params, run_conf)
    date = pendulum.instance(logical_date).in_timezone("UTC")
    ds = date.strftime("%Y-%m-%d")
    ds_nodash = ds.replace("-", "")
    ts = date.isoformat()
    return {
        "conf": _LazyConfig(),
        "conn": _ConnectionAccessor(),
        "dag": dag,
        "dag_run": dag_run,
        "data_interval_start": _utc(data_interval_start) or date,
        "data_interval_end": _utc(data_interval_end) or date,
        "ds": ds,
        "ds_nodash": ds_nodash,
        "execution_date": date,
        "logical_date": date,
        "macros": macros,
        "map_index": map_index,
        "params": params,
        "prev_data_interval_start_success": _utc(prev_data_interval_start_success),
        "prev_data_interval_end_success": _utc(prev_data_interval_end_success),
        "prev_start_date_success": _utc(prev_start_date_success),
        "prev_end_date_success": _utc(prev_end_date_success),
        "run_id": run_id,
        "task": task,
        "task_instance": ti,
        "task_instance_key_str": f"{dag.dag_id}__{task.task_id if task else ''}__{ds_nodash}",
        "test_mode": test_mode,
        "ti": ti,
        "tomorrow_ds": (date + timedelta(days=1)).strftime("%Y-%m-%d"),
        "tomorrow_ds_nodash": (date + timedelta(days=1)).strftime("%Y%m%d"),
        "ts": ts,
        "ts_nodash": date.strftime("%Y%m%dT%H%M%S"),
        "ts_nodash_with_tz": ts.replace("-", "").replace(":", ""),
        "var": SimpleNamespace(value=_VariableAccessor(False), json=_VariableAccessor(True)),
        "yesterday_ds": (date - timedelta(days=1)).strftime("%Y-%m-%d"),
        "yesterday_ds_nodash": (date - timedelta(days=1)).strftime("%Y%m%d"),
    }


def context_of_run(
    *, dag: DAG, task: DAGNode | None, dag_run: DagRun, **more: Any
) -> dict[str, Any]:
    """``make_context`` for a run read from the database: its id, logical date and data
    interval come from the row; ``more`` are make_context's other arguments."""
    return make_context(
        dag=dag,
        task=task,
        run_id=dag_run.run_id,
        logical_date=dag_run.logical_date,
        data_interval_start=dag_run.data_interval_start,
        data_interval_end=dag_run.data_interval_end,
        dag_run=dag_run,
        **more,
    )


def _utc(value: datetime | None) -> pendulum.DateTime | None:
    return None if value is None else pendulum.instance(value).in_timezone("UTC")


class _VariableAccessor:
    """``{{ var.value.key }}`` / ``{{ var.json.key.field }}``: read on use, not up front."""

    def __init__(self, deserialize_json: bool) -> None:
        self._json = deserialize_json

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        from flowsched.db.variable import Variable

        return Variable.get(key, deserialize_json=self._json)

    def get(self, key: str, default_var: Any = None) -> Any:
        from flowsched.db.variable import Variable

        return Variable.get(key, default_var=default_var, deserialize_json=self._json)


class _ConnectionAccessor:
    """``{{ conn.my_db.host }}``."""

    def __getattr__(self, conn_id: str) -> Any:
        if conn_id.startswith("__"):
            raise AttributeError(conn_id)
        from flowsched.db.connection import Connection

        return Connection.get_connection_from_secrets(conn_id)

    def get(self, conn_id: str, default: Any = None) -> Any:
        from flowsched.db.connection import Connection, ConnectionNotFound

        try:
            return Connection.get_connection_from_secrets(conn_id)
        except ConnectionNotFound:
            return default


class _LazyConfig:
    """``conf`` is flowsched's configuration, as Airflow's context key is Airflow's."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        from flowsched.config import conf

        return getattr(conf, name)


def callable_kwargs(
    function: Callable[..., Any], op_args: tuple | list, available: Mapping[str, Any]
) -> dict[str, Any]:
    """The keyword arguments ``function`` asks for: all of ``available`` if it takes
    ``**kwargs``, else only the names in its signature not already given positionally."""
    parameters = list(inspect.signature(function).parameters.values())
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return dict(available)
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    taken = {p.name for p in positional[: len(op_args)]}
    wanted = {
        p.name
        for p in parameters
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in taken
    }
    return {name: value for name, value in available.items() if name in wanted}


@contextmanager
def current_context(context: Context) -> Iterator[None]:
    """Make ``context`` what ``get_current_context()`` returns while a task executes."""
    _running.append(context)
    try:
        yield
    finally:
        _running.pop()


def get_current_context() -> Context:
    """The context of the task executing now, for code that was not passed it (a
    ``@task`` function that does not name ``**context``, or a helper it calls)."""
    if not _running:
        raise FlowschedException(
            "Current context was requested but no context was found! Are you running within a task?"
        )
    return _running[-1]
