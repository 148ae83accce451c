"""Each operation through the CLI, the web form and the REST API: the same rows result,
and the same bad input gets the same refusal (the operation's message) from all three.

Every surface runs against a fresh copy of the same database (DAG "etl" parsed from a
real file, DAG "gone" whose file was removed, a failed run, a variable, a pool, a
connection), and the tables are compared after: only who made the change may differ.
"""

from __future__ import annotations

import html
import json
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select, update

from flowsched import db
from flowsched.cli import cli
from flowsched.db import session_scope
from flowsched.db.tables import (
    AuditLog,
    Connection,
    DagModel,
    DagRun,
    Pool,
    TaskInstance,
    Variable,
)
from flowsched.parsing.scan import parse_dags_folder
from tests.webui.seed import csrf_token

RUN = "scheduled__2025-01-01T00:00:00+00:00"
DAGS = """
import pendulum
from flowsched import DAG, Param
from flowsched.operators.empty import EmptyOperator

with DAG("{dag_id}", schedule="@daily", start_date=pendulum.datetime(2025, 1, 1),
         params={{"x": Param(1, type="integer")}}):
    extract, transform = EmptyOperator(task_id="extract"), EmptyOperator(task_id="transform")
    extract >> transform >> [EmptyOperator(task_id="load"), EmptyOperator(task_id="report")]
"""
FAILED_STATES = {"extract": "success", "transform": "failed", "load": "upstream_failed",
                 "report": "upstream_failed"}  # fmt: skip


@pytest.fixture(scope="module")
def world(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(dags folder, database file): the state every surface starts from."""
    root = tmp_path_factory.mktemp("surfaces")
    folder, home = root / "dags", root / "home"
    folder.mkdir()
    home.mkdir()
    shutil.copy(template_db, home / "flowsched.db")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLOWSCHED_HOME", str(home))
        patch.setenv("FLOWSCHED__CORE__DAGS_FOLDER", str(folder))
        db.dispose_engines()
        for dag_id in ("etl", "gone"):
            (folder / f"{dag_id}.py").write_text(DAGS.format(dag_id=dag_id))
        parse_dags_folder()
        (folder / "gone.py").unlink()
        parse_dags_folder()
        _seed()
        db.dispose_engines()
    return folder, home / "flowsched.db"


def _seed() -> None:
    with session_scope() as session:
        session.execute(update(DagModel).values(is_paused=False))
        session.add(
            DagRun(
                dag_id="etl", run_id=RUN, run_type="scheduled", state="failed",
                logical_date=datetime(2025, 1, 1, tzinfo=UTC), conf={},
            )
        )  # fmt: skip
        for task_id, state in FAILED_STATES.items():
            started = state != "upstream_failed"
            session.add(
                TaskInstance(
                    dag_id="etl", run_id=RUN, task_id=task_id, map_index=-1, state=state,
                    try_number=int(started), max_tries=int(started),
                )
            )  # fmt: skip
        session.add(Variable(key="old", val="1"))
        session.add(Pool(pool="old_pool", slots=2))
        session.add(Connection(conn_id="old_conn", conn_type="http"))


class Surfaces:
    """The three ways in, each answering (succeeded, what the user was told)."""

    def __init__(self, world: tuple[Path, Path], home: Path, client: FlaskClient) -> None:
        self.template, self.home, self.client = world[1], home, client

    def reset(self) -> None:
        db.dispose_engines()
        shutil.copy(self.template, self.home / "flowsched.db")

    def cli(self, *args: str) -> tuple[bool, str]:
        result = CliRunner().invoke(cli, list(args))
        return result.exit_code == 0, result.output + result.stderr

    def form(self, path: str, data: dict[str, str] | None = None) -> tuple[bool, str]:
        token = csrf_token(self.client, "/")
        response = self.client.post(path, data={**(data or {}), "csrf_token": token})
        return response.status_code in (200, 302), html.unescape(response.get_data(as_text=True))

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[bool, str]:
        token = csrf_token(self.client, "/")
        response = self.client.open(
            f"/api/v1{path}", method=method, json=body, headers={"X-CSRFToken": token}
        )
        return response.status_code < 300, response.get_data(as_text=True)


@pytest.fixture
def surfaces(
    world: tuple[Path, Path], home: Path, admin: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Surfaces]:
    monkeypatch.setenv("FLOWSCHED__CORE__DAGS_FOLDER", str(world[0]))
    surfaces = Surfaces(world, home, admin)
    surfaces.reset()
    yield surfaces


Way = Callable[[Surfaces], tuple[bool, str]]
LATER = "2025-03-01T00:00:00+00:00"
CONN = {"conn_type": "postgres", "host": "db.example.com", "login": "etl", "password": "pw"}

CLEAR = f"/dags/etl/runs/{RUN}/clear"
CLEAR_API = "/dags/etl/clearTaskInstances"
MARK = f"/dags/etl/runs/{RUN}/mark"
TRIGGER_FORM = {"conf": '{"x": 2}', "run_id": "mine", "logical_date": LATER}
TRIGGER_BODY = {"conf": {"x": 2}, "dag_run_id": "mine", "logical_date": LATER}
CONN_ARGS = [
    f"--conn-{name.removeprefix('conn_')}={value}" for name, value in {**CONN, "port": 5432}.items()
]

# operation -> {surface: how to do it there}; mark and delete-run have no CLI, as in Airflow
OPERATIONS: dict[str, dict[str, Way]] = {
    "trigger": {
        "cli": lambda s: s.cli("dags", "trigger", "etl", "-r", "mine", "-e", LATER,
                               "-c", '{"x": 2}'),
        "form": lambda s: s.form("/dags/etl/trigger", TRIGGER_FORM),
        "api": lambda s: s.api("POST", "/dags/etl/dagRuns", TRIGGER_BODY),
    },
    "clear downstream": {
        "cli": lambda s: s.cli("tasks", "clear", "etl", "--run-id", RUN, "-t", "^transform$",
                               "-d", "-y"),
        "form": lambda s: s.form(CLEAR, {"task_id": "transform", "downstream": "on",
                                         "confirmed": "yes"}),
        "api": lambda s: s.api("POST", CLEAR_API, {"dag_run_id": RUN, "task_ids": ["transform"],
                                                   "include_downstream": True}),
    },
    "clear only failed, upstream": {
        "cli": lambda s: s.cli("tasks", "clear", "etl", "--run-id", RUN, "-t", "^load$",
                               "-u", "-f", "-y"),
        "form": lambda s: s.form(CLEAR, {"task_id": "load", "upstream": "on",
                                         "only_failed": "on", "confirmed": "yes"}),
        "api": lambda s: s.api("POST", CLEAR_API, {"dag_run_id": RUN, "task_ids": ["load"],
                                                   "include_upstream": True,
                                                   "only_failed": True}),
    },
    "pause": {
        "cli": lambda s: s.cli("dags", "pause", "etl"),
        "form": lambda s: s.form("/dags/etl/pause", {"is_paused": "true"}),
        "api": lambda s: s.api("PATCH", "/dags/etl", {"is_paused": True}),
    },
    "mark run": {
        "form": lambda s: s.form(MARK, {"state": "success"}),
        "api": lambda s: s.api("PATCH", f"/dags/etl/dagRuns/{RUN}", {"state": "success"}),
    },
    "mark task": {
        "form": lambda s: s.form(MARK, {"state": "success", "task_id": "transform"}),
        "api": lambda s: s.api("PATCH", f"/dags/etl/dagRuns/{RUN}/taskInstances/transform",
                               {"new_state": "success"}),
    },
    "delete run": {
        "form": lambda s: s.form(f"/dags/etl/runs/{RUN}/delete"),
        "api": lambda s: s.api("DELETE", f"/dags/etl/dagRuns/{RUN}"),
    },
    "delete DAG": {
        "cli": lambda s: s.cli("dags", "delete", "etl", "--yes"),
        "form": lambda s: s.form("/dags/etl/delete"),
        "api": lambda s: s.api("DELETE", "/dags/etl"),
    },
    "create variable": {
        "cli": lambda s: s.cli("variables", "set", "k", "v", "--description", "d"),
        "form": lambda s: s.form("/variables", {"key": "k", "val": "v", "description": "d"}),
        "api": lambda s: s.api("POST", "/variables", {"key": "k", "value": "v",
                                                      "description": "d"}),
    },
    "delete variable": {
        "cli": lambda s: s.cli("variables", "delete", "old"),
        "form": lambda s: s.form("/variables/old/delete"),
        "api": lambda s: s.api("DELETE", "/variables/old"),
    },
    "set pool": {
        "cli": lambda s: s.cli("pools", "set", "gpu", "3", "--description", "GPUs"),
        "form": lambda s: s.form("/pools", {"pool": "gpu", "slots": "3", "description": "GPUs"}),
        "api": lambda s: s.api("POST", "/pools", {"name": "gpu", "slots": 3,
                                                  "description": "GPUs"}),
    },
    "delete pool": {
        "cli": lambda s: s.cli("pools", "delete", "old_pool"),
        "form": lambda s: s.form("/pools/old_pool/delete"),
        "api": lambda s: s.api("DELETE", "/pools/old_pool"),
    },
    "create connection": {
        "cli": lambda s: s.cli("connections", "add", "db", *CONN_ARGS),
        "form": lambda s: s.form("/connections", {"conn_id": "db", **CONN, "port": "5432"}),
        "api": lambda s: s.api("POST", "/connections", {"connection_id": "db", **CONN,
                                                        "port": 5432}),
    },
    "delete connection": {
        "cli": lambda s: s.cli("connections", "delete", "old_conn"),
        "form": lambda s: s.form("/connections/old_conn/delete"),
        "api": lambda s: s.api("DELETE", "/connections/old_conn"),
    },
}  # fmt: skip


def rows() -> dict[str, list[tuple]]:
    """What an operation may change, without the times it happened at or who did it."""
    columns = {
        DagModel: ("dag_id", "is_paused", "is_active"),
        DagRun: ("dag_id", "run_id", "run_type", "state", "logical_date", "conf"),
        TaskInstance: ("dag_id", "run_id", "task_id", "map_index", "state", "try_number",
                       "max_tries", "ended"),
        Variable: ("key", "val", "description"),
        Pool: ("pool", "slots", "description"),
        Connection: ("conn_id", "conn_type", "host", "port", "login", "password", "extra",
                     "description"),
        AuditLog: ("event", "dag_id", "run_id", "task_id", "extra"),
    }  # fmt: skip
    with session_scope(readonly=True) as session:
        return {
            table.__tablename__: sorted(
                (tuple(map(str, row)) for row in session.execute(
                    select(*(_column(table, name) for name in names))
                )),
            )
            for table, names in columns.items()
        }  # fmt: skip


def _column(table: Any, name: str) -> Any:
    """A column; "ended" is whether a task instance has an end date (its value is a time)."""
    if name == "ended":
        return TaskInstance.end_date.is_not(None)
    return getattr(table, name)


def audit_users() -> list[str]:
    with session_scope(readonly=True) as session:
        return list(session.scalars(select(AuditLog.user)))


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_surface_makes_the_same_change(surfaces: Surfaces, operation: str) -> None:
    before = rows()
    after = {}
    for surface, way in OPERATIONS[operation].items():
        surfaces.reset()
        succeeded, told = way(surfaces)
        assert succeeded, f"{surface}: {told[-2000:]}"
        after[surface] = rows()
        assert audit_users() and all(audit_users()), f"{surface} wrote no audit row"
    first, *others = after
    assert after[first] != before, f"{operation} changed nothing"
    for surface in others:
        assert after[surface] == after[first], f"{surface} differs from {first}"


TOO_BIG = json.dumps({"x": 1, "pad": "y" * 70_000})
# bad input -> (the operation's message, trigger args for the CLI, form fields, API body)
REFUSALS = {
    "run id with ../": ("run id '../../x' is not allowed", "etl", {"run_id": "../../x"}),
    "unknown DAG": ("no DAG named 'nope'", "nope", {}),
    "inactive DAG": ("DAG 'gone' is inactive", "gone", {}),
    "conf over the limit": ("over the limit of 65536 bytes", "etl", {"conf": TOO_BIG}),
}


@pytest.mark.parametrize("bad_input", REFUSALS)
def test_every_surface_refuses_a_bad_trigger_the_same_way(surfaces, bad_input):
    message, dag_id, given = REFUSALS[bad_input]
    before = rows()
    cli_args = ["-r", given["run_id"]] if "run_id" in given else []
    cli_args += ["-c", given["conf"]] if "conf" in given else []
    body = {"dag_run_id": given.get("run_id"), "conf": json.loads(given.get("conf", "{}"))}
    answers = {
        "cli": surfaces.cli("dags", "trigger", dag_id, *cli_args),
        "form": surfaces.form(f"/dags/{dag_id}/trigger", given),
        "api": surfaces.api("POST", f"/dags/{dag_id}/dagRuns", body),
    }
    for surface, (succeeded, told) in answers.items():
        assert not succeeded, surface
        assert message in told, f"{surface}: {told[-2000:]}"
        assert "Traceback" not in told
    assert rows() == before
