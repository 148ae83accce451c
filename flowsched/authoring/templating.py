"""Jinja rendering of templated fields, with Airflow's environment and rules.

StrictUndefined turns a typo such as ``{{ dss }}`` into an error that names the task and
the field, instead of silently rendering an empty string into a shell command.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import jinja2
import jinja2.nativetypes
import jinja2.sandbox
import pendulum

from flowsched.authoring.resolvable import Resolvable
from flowsched.exceptions import TemplateRenderError

if TYPE_CHECKING:
    from flowsched.authoring.baseoperator import BaseOperator
    from flowsched.authoring.dag import DAG


def _ts_nodash(value: Any) -> str:
    return value.strftime("%Y%m%dT%H%M%S")


FILTERS = {
    "ds": lambda value: value.strftime("%Y-%m-%d"),
    "ds_nodash": lambda value: value.strftime("%Y%m%d"),
    "ts": lambda value: value.isoformat(),
    "ts_nodash": _ts_nodash,
    "ts_nodash_with_tz": lambda value: value.isoformat().replace("-", "").replace(":", ""),
}


def _iso_datetimes(value: Any) -> Any:
    """``{{ data_interval_end }}`` renders as 2024-01-02T00:00:00+00:00, one shell word, as
    in Airflow (pendulum 3's ``str`` would put a space in place of the "T")."""
    return value.isoformat() if isinstance(value, pendulum.DateTime) else value


def jinja_env_for(dag: DAG | None) -> jinja2.Environment:
    """One environment per DAG (cached on it): search path, macros and filters of the DAG."""
    if dag is None:
        return _make_env([], {}, {}, native=False, options={})
    if dag._jinja_env is None:
        searchpath = [*dag.template_searchpath, os.path.dirname(dag.fileloc or "") or "."]
        options = {"undefined": dag.template_undefined} if dag.template_undefined else {}
        dag._jinja_env = _make_env(
            searchpath,
            dag.user_defined_macros,
            dag.user_defined_filters,
            native=dag.render_template_as_native_obj,
            options={**options, **dag.jinja_environment_kwargs},
        )
    return dag._jinja_env


def _make_env(
    searchpath: list[str],
    macros: dict[str, Any],
    filters: dict[str, Any],
    native: bool,
    options: dict[str, Any],
) -> jinja2.Environment:
    """``options`` (the DAG's ``template_undefined`` and ``jinja_environment_kwargs``)
    override the defaults, as in Airflow."""
    env_class = (
        jinja2.nativetypes.NativeEnvironment if native else jinja2.sandbox.SandboxedEnvironment
    )
    defaults: dict[str, Any] = {
        "loader": jinja2.FileSystemLoader(searchpath),
        "finalize": None if native else _iso_datetimes,
        "undefined": jinja2.StrictUndefined,
        "extensions": ["jinja2.ext.do"],
        "keep_trailing_newline": True,
        "cache_size": 0,
    }
    env = env_class(**{**defaults, **options})
    env.globals.update(macros)
    env.filters.update(FILTERS)
    env.filters.update(filters)
    return env


def render_fields(task: BaseOperator, context: dict[str, Any], env: jinja2.Environment) -> None:
    """Render each of ``task.template_fields`` in place."""
    for field in task.template_fields:
        value = getattr(task, field)
        try:
            rendered = render_value(value, context, env, tuple(task.template_ext))
        except Exception as err:
            raise TemplateRenderError(
                f"Task {task.task_id!r}: cannot render template field {field!r}: "
                f"{type(err).__name__}: {err}"
            ) from err
        setattr(task, field, rendered)


def render_value(
    value: Any, context: dict[str, Any], env: jinja2.Environment, template_ext: tuple = ()
) -> Any:
    """Render strings (or template files, by extension) nested in lists, tuples, dicts and
    sets; XComArgs and DAG params become their run-time values; other values are kept."""
    if isinstance(value, str):
        if template_ext and value.endswith(template_ext):
            return env.get_template(value).render(context)
        return env.from_string(value).render(context)
    if isinstance(value, Resolvable):
        return value.resolve(context)
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(render_value(v, context, env, template_ext) for v in value))
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(render_value(v, context, env, template_ext) for v in value)
    if isinstance(value, dict):
        return {k: render_value(v, context, env, template_ext) for k, v in value.items()}
    return value
