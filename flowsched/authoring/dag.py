"""The DAG object, the ``@dag`` decorator, and the registry the parser collects DAGs from.

Every DAG constructed registers itself, so a DAG file does not have to keep its DAG in a
module global (``my_dag()`` at the bottom of a ``@dag`` file is enough), as with Airflow's
auto-registration. The parser calls ``reset_registry()`` before importing a file and
``collect_dags(module)`` after.
"""

from __future__ import annotations

import functools
import inspect
import os
import re
import sys
from collections.abc import Callable, Iterable
from datetime import timedelta
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flowsched.authoring import scope
from flowsched.authoring.baseoperator import DEFAULT_OWNER
from flowsched.authoring.dates import default_timezone, to_pendulum, to_timedelta
from flowsched.authoring.identifiers import validate_id
from flowsched.authoring.ignored_args import IGNORED_DAG_ARGS, ignored_values, parse_warnings
from flowsched.authoring.params import NOTSET, DagParam, Param, to_params
from flowsched.authoring.schedule import schedule_to_dict
from flowsched.authoring.taskgroup import TaskGroup
from flowsched.config import conf
from flowsched.exceptions import (
    DagDefinitionError,
    DuplicateDagIdFound,
    DuplicateTaskIdFound,
    FlowschedException,
)
from flowsched.task_graph import TaskLookup

if TYPE_CHECKING:
    import jinja2
    import pendulum

    from flowsched.authoring.node import DAGNode

_registry: list[DAG] = []
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_TAG_LENGTH = 100
CLI_ENTRY_POINT = "from flowsched.cli import main; main()"  # the `flowsched` console script


class DAG(TaskLookup["DAGNode"]):
    """``with DAG("etl", schedule="@daily", start_date=pendulum.datetime(2024, 1, 1)):``."""

    def __init__(
        self,
        dag_id: str,
        *,
        schedule: Any = None,
        start_date: Any = None,
        end_date: Any = None,
        catchup: bool = False,
        max_active_runs: int | None = None,
        max_active_tasks: int | None = None,
        default_args: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        tags: Iterable[str] | None = None,
        description: str | None = None,
        doc_md: str | None = None,
        on_success_callback: Callable | list[Callable] | None = None,
        on_failure_callback: Callable | list[Callable] | None = None,
        dagrun_timeout: timedelta | float | None = None,
        template_searchpath: str | Iterable[str] | None = None,
        user_defined_macros: dict[str, Any] | None = None,
        user_defined_filters: dict[str, Callable] | None = None,
        render_template_as_native_obj: bool = False,
        is_paused_upon_creation: bool | None = None,
        schedule_interval: Any = NOTSET,
        timetable: Any = None,
        full_filepath: str | None = None,
        template_undefined: type[jinja2.Undefined] | None = None,
        concurrency: int | None = None,
        max_consecutive_failed_dag_runs: int = 0,
        sla_miss_callback: Callable | list[Callable] | None = None,
        default_view: str | None = None,
        orientation: str | None = None,
        access_control: dict[str, Any] | None = None,
        jinja_environment_kwargs: dict[str, Any] | None = None,
        owner_links: dict[str, str] | None = None,
        auto_register: bool = True,
        fail_stop: bool = False,
        dag_display_name: str | None = None,
    ) -> None:
        self.dag_id = validate_id(dag_id, "dag_id")
        self.default_args = dict(default_args or {})
        self.schedule = self._pick_schedule(schedule, schedule_interval, timetable)
        self.schedule_dict = schedule_to_dict(self.schedule, dag_id)
        self.start_date = to_pendulum(
            start_date or self.default_args.get("start_date"), f"DAG {dag_id!r}: start_date"
        )
        self.end_date = to_pendulum(
            end_date or self.default_args.get("end_date"), f"DAG {dag_id!r}: end_date"
        )
        self.catchup = catchup
        # Unset limits come from [core] *_per_dag, read when the DAG file is parsed (Airflow).
        if max_active_runs is None:
            max_active_runs = conf.core.max_active_runs_per_dag
        if max_active_tasks is None:
            max_active_tasks = conf.core.max_active_tasks_per_dag
        self.max_active_runs = self._positive(max_active_runs, "max_active_runs")
        self.max_active_tasks = self._positive(concurrency or max_active_tasks, "max_active_tasks")
        self.max_consecutive_failed_dag_runs = self._consecutive_failures(
            max_consecutive_failed_dag_runs
        )
        self.params: dict[str, Param] = to_params(params, f"DAG {dag_id!r}")
        self.tags = self._tags(tags)
        self.description = description
        self.doc_md = doc_md
        self.on_success_callback = on_success_callback
        self.on_failure_callback = on_failure_callback
        self.sla_miss_callback = sla_miss_callback
        self.fail_stop = fail_stop
        self.owner_links = self._owner_links(owner_links)
        self._dag_display_name = dag_display_name
        self.dagrun_timeout = to_timedelta(dagrun_timeout, f"DAG {dag_id!r}: dagrun_timeout")
        self.template_searchpath = _str_list(template_searchpath)
        self.user_defined_macros = dict(user_defined_macros or {})
        self.user_defined_filters = dict(user_defined_filters or {})
        self.render_template_as_native_obj = render_template_as_native_obj
        self.template_undefined = template_undefined
        self.jinja_environment_kwargs = dict(jinja_environment_kwargs or {})
        self.is_paused_upon_creation = is_paused_upon_creation
        self.auto_register = auto_register
        ignored = {
            "default_view": default_view,
            "orientation": orientation,
            "access_control": access_control,
            "full_filepath": full_filepath,
        }
        self.default_view = default_view or "grid"  # what Airflow code may read back
        self.orientation = orientation or "LR"
        self.access_control = access_control
        self.ignored_args = ignored_values(IGNORED_DAG_ARGS, ignored)
        self.fileloc = _caller_file()
        self.task_dict: dict[str, DAGNode] = {}
        self.task_group = TaskGroup.root(self)
        self.task_group_dict: dict[str, TaskGroup] = {}
        self.edge_info: dict[tuple[str, str], dict[str, str]] = {}
        self._jinja_env: jinja2.Environment | None = None
        self._check_continuous()
        if auto_register:
            _registry.append(self)

    # --- construction checks -------------------------------------------------------------

    def _pick_schedule(self, schedule: Any, schedule_interval: Any, timetable: Any) -> Any:
        """``schedule_interval`` and ``timetable`` are Airflow's older names for
        ``schedule``; accept any one of them."""
        given = [
            value
            for value, unset in ((schedule, None), (schedule_interval, NOTSET), (timetable, None))
            if value is not unset
        ]
        if len(given) > 1:
            raise DagDefinitionError(
                f"DAG {self.dag_id!r}: pass one of schedule, schedule_interval and timetable"
            )
        return given[0] if given else None

    def _positive(self, value: Any, name: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise DagDefinitionError(
                f"DAG {self.dag_id!r}: {name} must be a positive integer, got {value!r}"
            )
        return value

    def _consecutive_failures(self, value: Any) -> int:
        """0 means the configured default (itself 0: never pause), as in Airflow."""
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise DagDefinitionError(
                f"DAG {self.dag_id!r}: max_consecutive_failed_dag_runs must be an integer "
                f">= 0, got {value!r}"
            )
        if value == 0:
            return conf.core.max_consecutive_failed_dag_runs_per_dag
        return value

    def _owner_links(self, links: dict[str, str] | None) -> dict[str, str]:
        """Each owner's link must be an http(s) URL or a mailto: address, as in Airflow."""
        links = dict(links or {})
        bad = {owner: link for owner, link in links.items() if not _is_owner_link(link)}
        if bad:
            raise DagDefinitionError(
                f"DAG {self.dag_id!r}: owner_links must be http(s) URLs or mailto: addresses; "
                f"bad: {bad}"
            )
        return links

    def _tags(self, tags: Iterable[str] | None) -> list[str]:
        result = list(dict.fromkeys(tags or []))
        for tag in result:
            if not isinstance(tag, str) or not tag or len(tag) > MAX_TAG_LENGTH:
                raise DagDefinitionError(
                    f"DAG {self.dag_id!r}: tag {tag!r} must be a non-empty string of at most "
                    f"{MAX_TAG_LENGTH} characters"
                )
        return result

    def _check_continuous(self) -> None:
        if self.schedule_dict["kind"] == "continuous" and self.max_active_runs != 1:
            raise DagDefinitionError(
                f"DAG {self.dag_id!r}: schedule '@continuous' needs max_active_runs=1"
            )

    def validate(self) -> None:
        """Checks that need the whole DAG, run by ``collect_dags`` once the file is imported."""
        scheduled = self.schedule_dict["kind"] != "none"
        if scheduled and self.start_date is None:
            starts = [start for t in self.tasks if (start := getattr(t, "start_date", None))]
            if not starts:
                raise DagDefinitionError(
                    f"DAG {self.dag_id!r} has schedule {self.schedule!r} but no start_date"
                )
            self.start_date = min(starts)
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise DagDefinitionError(f"DAG {self.dag_id!r}: end_date is before start_date")
        self._check_fail_stop()
        required = [name for name, param in self.params.items() if not param.has_default]
        if scheduled and required:
            raise DagDefinitionError(
                f"DAG {self.dag_id!r}: scheduled runs cannot supply param(s) "
                f"{', '.join(map(repr, required))} that have no default"
            )

    def _check_fail_stop(self) -> None:
        """As Airflow: in a fail_stop DAG every task has the all_success trigger rule (any
        other rule would let a task run after a failure the DAG is meant to stop at)."""
        if not self.fail_stop:
            return
        others = [t.task_id for t in self.tasks if getattr(t, "trigger_rule", "") != "all_success"]
        if others:
            raise DagDefinitionError(
                f"DAG {self.dag_id!r} has fail_stop=True, so its tasks must keep the "
                f"all_success trigger rule; these do not: {', '.join(others)}"
            )

    # --- structure -----------------------------------------------------------------------

    def add_task(self, task: DAGNode) -> None:
        existing = self.task_dict.get(task.task_id)
        if existing is task:
            return
        if existing is not None:
            raise DuplicateTaskIdFound(
                f"Task id {task.task_id!r} has already been added to the DAG {self.dag_id!r}"
            )
        if task.task_id in self.task_group_dict:
            raise DuplicateTaskIdFound(
                f"Task id {task.task_id!r} is already a task group id in DAG {self.dag_id!r}"
            )
        task.params = {**self.params, **task.params}
        task._dag = self
        task.task_group = task.task_group or self.task_group
        task.task_group.add(task)
        self.task_dict[task.task_id] = task

    def add_tasks(self, tasks: Iterable[DAGNode]) -> None:
        for task in tasks:
            self.add_task(task)

    def add_task_group(self, group: TaskGroup) -> None:
        group_id = group.group_id
        assert group_id is not None
        if group_id in self.task_group_dict or group_id in self.task_dict:
            raise DuplicateTaskIdFound(
                f"Task group id {group_id!r} has already been added to the DAG {self.dag_id!r}"
            )
        self.task_group_dict[group_id] = group

    def unique_node_id(self, node_id: str) -> str:
        """``node_id``, or ``<node_id>__<n>`` with the next free n if it is taken."""
        if node_id not in self.task_dict and node_id not in self.task_group_dict:
            return node_id
        core = re.sub(r"__\d+$", "", node_id)
        pattern = re.compile(rf"{re.escape(core)}__(\d+)")
        taken = [
            int(match.group(1))
            for existing in [*self.task_dict, *self.task_group_dict]
            if (match := pattern.fullmatch(existing))
        ]
        return f"{core}__{max(taken, default=0) + 1}"

    @property
    def tasks(self) -> list[DAGNode]:
        return list(self.task_dict.values())

    def set_edge_info(self, upstream_id: str, downstream_id: str, info: dict[str, str]) -> None:
        """What an edge Label records: ``{"label": ...}`` for the edge upstream -> downstream."""
        self.edge_info[(upstream_id, downstream_id)] = dict(info)

    def get_edge_info(self, upstream_id: str, downstream_id: str) -> dict[str, str]:
        return self.edge_info.get((upstream_id, downstream_id), {})

    def param(self, name: str, default: Any = NOTSET) -> DagParam:
        """A reference to param ``name``, resolved to its run value when templates render."""
        if default is not NOTSET:
            self.params.update(to_params({name: default}, f"DAG {self.dag_id!r}"))
        return DagParam(self, name)

    def test(
        self,
        execution_date: Any = None,
        run_conf: dict[str, Any] | None = None,
        *,
        logical_date: Any = None,
    ) -> str:
        """Run this DAG once, here, for the ``if __name__ == "__main__": dag.test()`` idiom:
        it runs ``flowsched dags test`` itself (a child process, its output on this
        terminal), so both behave alike; the run's final state, "success" or "failed".

        The DAG is run from what the dags folder holds, like every run, so its file must
        be in that folder (``core.dags_folder``)."""
        import json
        import subprocess

        from flowsched.config import conf

        folder = os.path.realpath(conf.get("core", "dags_folder"))
        if not os.path.realpath(self.fileloc).startswith(folder + os.sep):
            raise FlowschedException(
                f"dag.test(): {self.fileloc} is not in the dags folder {folder}; move it "
                "there or point core.dags_folder (FLOWSCHED__CORE__DAGS_FOLDER) at its folder"
            )
        command = [sys.executable, "-c", CLI_ENTRY_POINT, "dags", "test", self.dag_id]
        when = to_pendulum(logical_date or execution_date, f"DAG {self.dag_id!r}: dag.test()")
        if when is not None:
            command.append(when.isoformat())
        if run_conf is not None:
            command += ["--conf", json.dumps(run_conf)]
        return "success" if subprocess.run(command, check=False).returncode == 0 else "failed"

    # --- what other modules read -----------------------------------------------------------

    @property
    def timezone(self) -> pendulum.Timezone | pendulum.FixedTimezone:
        """The start_date's zone (cron fields are read in it); else the configured default."""
        if self.start_date is not None and self.start_date.timezone is not None:
            return self.start_date.timezone
        return default_timezone()

    @property
    def timezone_name(self) -> str:
        return self.timezone.name

    @property
    def timetable(self) -> Any:
        from flowsched.timetables import timetable_from_serialized

        return timetable_from_serialized(self.schedule_dict, self.timezone_name)

    @property
    def schedule_interval(self) -> Any:
        return self.schedule

    @property
    def dag_display_name(self) -> str:
        return self._dag_display_name or self.dag_id

    def parse_warnings(self) -> list[str]:
        """The Airflow arguments given to this DAG or its tasks that change nothing here."""
        by_name: dict[str, list[str]] = {}
        for task in self.tasks:
            for name in getattr(task, "ignored_args", {}):
                by_name.setdefault(name, []).append(task.task_id)
        return parse_warnings(self.ignored_args, by_name)

    @property
    def owner(self) -> str:
        """The tasks' owners, as Airflow shows them in its DAG list."""
        owners = dict.fromkeys(getattr(task, "owner", DEFAULT_OWNER) for task in self.tasks)
        return ", ".join(owners) or self.default_args.get("owner", DEFAULT_OWNER)

    def callbacks(self, kind: str) -> list[Callable]:
        value = getattr(self, kind)
        if value is None:
            return []
        return list(value) if isinstance(value, list | tuple) else [value]

    @property
    def folder(self) -> str:
        return os.path.dirname(self.fileloc)

    def __enter__(self) -> DAG:
        scope.push_dag(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        scope.pop_dag()

    def __repr__(self) -> str:
        return f"<DAG: {self.dag_id}>"


def _is_owner_link(link: Any) -> bool:
    parts = urlsplit(link) if isinstance(link, str) else None
    if parts is None:
        return False
    if parts.scheme == "mailto":
        return bool(parts.path)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _str_list(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _caller_file() -> str:
    """The first file on the stack outside flowsched: the DAG file that built this DAG."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith(_PACKAGE_DIR + os.sep):
            return filename
        frame = frame.f_back
    return ""


def dag(dag_id: Any = None, /, **dag_kwargs: Any) -> Any:
    """``@dag`` or ``@dag(schedule=..., ...)`` on a function that defines tasks.

    Calling the function builds the DAG (id: ``dag_id`` or the function's name). Each
    function argument becomes a DAG param (its default, or the value it is called with)
    and the function receives a reference that resolves to the run's value.
    """
    if callable(dag_id):
        return _dag_factory(dag_id, {})
    if dag_id is not None:
        dag_kwargs["dag_id"] = dag_id
    return lambda function: _dag_factory(function, dag_kwargs)


def _dag_factory(function: Callable[..., Any], dag_kwargs: dict[str, Any]) -> Callable[..., DAG]:
    signature = inspect.signature(function)

    @functools.wraps(function)
    def factory(*args: Any, **kwargs: Any) -> DAG:
        kwargs_ = dict(dag_kwargs)
        dag_id = kwargs_.pop("dag_id", function.__name__)
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as err:
            raise TypeError(f"@dag {dag_id!r}: {err}") from None
        bound.apply_defaults()
        with DAG(dag_id, **kwargs_) as dag_obj:
            if dag_obj.doc_md is None and function.__doc__:
                dag_obj.doc_md = inspect.cleandoc(function.__doc__)
            references = {
                name: dag_obj.param(name, value) for name, value in bound.arguments.items()
            }
            function(**references)
        return dag_obj

    return factory


def reset_registry() -> None:
    """Forget registered DAGs; the parser calls this before importing a file."""
    _registry.clear()


def collect_dags(module: ModuleType) -> list[DAG]:
    """The DAGs a just-imported DAG file defined: those registered during the import and
    those among its globals, each once, checked as a whole and located at the file."""
    candidates = [*_registry, *(v for v in vars(module).values() if isinstance(v, DAG))]
    dags = list({id(d): d for d in candidates}.values())
    by_id: dict[str, DAG] = {}
    for found in dags:
        if found.dag_id in by_id:
            raise DuplicateDagIdFound(
                f"DAG id {found.dag_id!r} is defined more than once in {module.__file__}"
            )
        by_id[found.dag_id] = found
        found.fileloc = os.path.abspath(module.__file__) if module.__file__ else found.fileloc
        found.validate()
    return dags
