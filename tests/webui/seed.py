"""Building blocks of the web UI tests: a parsed DAG, its runs and signed-in clients.

The DAG is written straight through the models, as the parser would write it (a
hand-written serialized JSON per docs/architecture.md), so these tests need no parser.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient

from flowsched.db import session_scope
from flowsched.db.tables import (
    DagFile,
    DagModel,
    DagRun,
    SerializedDagModel,
    TaskInstance,
)

PASSWORD = "correct horse battery staple"
START = datetime(2025, 1, 1, tzinfo=UTC)
SOURCE = """from flowsched import DAG
from flowsched.operators.bash import BashOperator

with DAG("etl", schedule="0 * * * *") as dag:
    extract = BashOperator(task_id="extract", bash_command="echo extract")
"""


def task(task_id: str, upstream: list[str] = (), downstream: list[str] = (), **extra: Any):
    """One task as the parser serializes it (only the keys the UI reads vary)."""
    return {
        "task_id": task_id,
        "operator": extra.pop("operator", "BashOperator"),
        "task_group": task_id.rsplit(".", 1)[0] if "." in task_id else None,
        "upstream": list(upstream),
        "downstream": list(downstream),
        "trigger_rule": "all_success",
        "depends_on_past": False,
        "retries": extra.pop("retries", 1),
        "retry_delay": 300.0,
        "retry_exponential_backoff": False,
        "max_retry_delay": None,
        "execution_timeout": None,
        "pool": "default_pool",
        "pool_slots": 1,
        "priority_weight": 1,
        "weight_rule": "downstream",
        "weight": 1,
        "queue": "default",
        "owner": "data-team",
        "email": [],
        "email_on_failure": True,
        "email_on_retry": True,
        "has_on_failure_callback": False,
        "has_on_success_callback": False,
        "has_on_retry_callback": False,
        "doc_md": extra.pop("doc_md", None),
        "template_fields": ["bash_command", "env"],
        "is_sensor": False,
        "sensor_mode": None,
        "poke_interval": None,
        "sensor_timeout": None,
        "mapped": extra.pop("mapped", None),
    }


ETL_TASKS = [
    task("extract", downstream=["transform"]),
    task("transform", upstream=["extract"], downstream=["load", "report"]),
    task("load", upstream=["transform"]),
    task("report", upstream=["transform"], mapped={"literal": {"x": [1, 2, 3]}, "xcom": {}}),
]


def serialized(dag_id: str, tasks: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    data = {
        "format": 1,
        "dag_id": dag_id,
        "fileloc": f"/dags/{dag_id}.py",
        "description": None,
        "doc_md": None,
        "tags": ["example"],
        "owner": "data-team",
        "schedule": {"kind": "cron", "expr": "0 * * * *"},
        "timezone": "UTC",
        "start_date": START.isoformat(),
        "end_date": None,
        "catchup": False,
        "max_active_runs": 16,
        "max_active_tasks": 16,
        "dagrun_timeout": None,
        "params": {"x": {"default": 1, "schema": {"type": "integer"}, "description": "a number"}},
        "has_on_success_callback": False,
        "has_on_failure_callback": False,
        "tasks": tasks,
    }
    data.update(fields)
    return data


def add_dag(dag_id: str, tasks: list[dict[str, Any]] = ETL_TASKS, **fields: Any) -> None:
    """A parsed DAG: its row, its serialized structure and its file's source."""
    data = serialized(dag_id, tasks, **fields)
    with session_scope() as session:
        session.add(
            DagModel(
                dag_id=dag_id,
                fileloc=data["fileloc"],
                is_paused=False,
                description=data["description"],
                owners="data-team",
                tags=data["tags"],
                schedule_summary="0 * * * *",
                schedule_description="Every hour",
                next_dagrun=START + timedelta(days=30),
            )
        )
        session.flush()
        session.add(
            SerializedDagModel(dag_id=dag_id, fileloc=data["fileloc"], data=data, dag_hash="x" * 64)
        )
        session.merge(
            DagFile(fileloc=data["fileloc"], mtime=0.0, content_hash="y" * 64, source_code=SOURCE)
        )


def add_run(
    dag_id: str,
    run_id: str,
    state: str,
    ti_states: dict[str, str | list[str | None] | None],
    *,
    logical_date: datetime,
    conf: dict[str, Any] | None = None,
) -> None:
    """A run with one task instance per entry; a list of states makes a mapped task."""
    with session_scope() as session:
        session.add(
            DagRun(
                dag_id=dag_id,
                run_id=run_id,
                run_type="scheduled",
                logical_date=logical_date,
                data_interval_start=logical_date,
                data_interval_end=logical_date + timedelta(hours=1),
                state=state,
                start_date=logical_date + timedelta(hours=1),
                end_date=logical_date + timedelta(hours=1, minutes=5)
                if state in ("success", "failed")
                else None,
                conf=conf or {},
            )
        )
        for task_id, states in ti_states.items():
            indexed = enumerate(states) if isinstance(states, list) else [(-1, states)]
            for map_index, ti_state in indexed:
                started = ti_state in ("success", "failed", "running", "up_for_retry")
                session.add(
                    TaskInstance(
                        dag_id=dag_id,
                        run_id=run_id,
                        task_id=task_id,
                        map_index=map_index,
                        state=ti_state,
                        try_number=1 if started else 0,
                        max_tries=1,
                        operator="BashOperator",
                        start_date=logical_date + timedelta(hours=1) if started else None,
                        end_date=logical_date + timedelta(hours=1, minutes=1)
                        if started and ti_state != "running"
                        else None,
                        duration=60.0 if started and ti_state != "running" else None,
                    )
                )


FAILED_RUN = "scheduled__2025-01-01T00:00:00+00:00"
RUNNING_RUN = "scheduled__2025-01-01T01:00:00+00:00"


def seed_etl() -> str:
    """DAG "etl": one failed run, one running run (extract ok, transform running)."""
    add_dag("etl")
    add_run(
        "etl",
        FAILED_RUN,
        "failed",
        {
            "extract": "success",
            "transform": "failed",
            "load": "upstream_failed",
            "report": ["upstream_failed"] * 3,
        },
        logical_date=START,
    )
    add_run(
        "etl",
        RUNNING_RUN,
        "running",
        {"extract": "success", "transform": "running", "load": None, "report": None},
        logical_date=START + timedelta(hours=1),
    )
    return "etl"


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The token every page carries in its <meta name="csrf-token">."""
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def log_in(client: FlaskClient, username: str) -> FlaskClient:
    token = csrf_token(client)
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
