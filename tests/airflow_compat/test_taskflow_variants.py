"""Airflow's TaskFlow variants and edge labels, run for real by ``flowsched dags test``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import select

from flowsched.db import session_scope
from flowsched.db.tables import SerializedDagModel, TaskInstance, XCom

FLOWSCHED = str(Path(sys.executable).with_name("flowsched"))

DAG_FILE = """
    import pendulum
    from flowsched.decorators import dag, task, task_group
    from flowsched.operators.bash import BashOperator
    from flowsched.operators.empty import EmptyOperator
    from flowsched.operators.python import get_current_context
    from flowsched.sensors.base import PokeReturnValue
    from flowsched.utils.edgemodifier import Label


    @dag(schedule=None, start_date=pendulum.datetime(2025, 1, 1))
    def variants():
        @task.bash(env={"DAY": "{{ ds }}"})
        def greet(who: str) -> str:
            return "echo hello " + who + " on $DAY for {{ run_id }}"

        @task.sensor(poke_interval=1, timeout=30)
        def ready() -> PokeReturnValue:
            return PokeReturnValue(is_done=True, xcom_value="ready!")

        @task
        def pairs() -> list:
            return [{"a": 1, "b": 2}, {"a": 10}]

        @task
        def add(a: int, b: int = 100) -> int:
            return a + b

        @task
        def whoami() -> str:
            context = get_current_context()
            return context["ti"].task_id + " " + context["ds"]

        @task.short_circuit
        def go_on(flag: bool) -> bool:
            return flag

        quiet = BashOperator(task_id="quiet", bash_command="true")
        loud = BashOperator.partial(task_id="loud").expand_kwargs(
            [{"bash_command": "echo one"}, {"bash_command": "echo $X", "env": {"X": "two"}}]
        )
        greet("you") >> ready() >> Label("when ready") >> quiet >> loud
        add.expand_kwargs(pairs())
        add.override(task_id="literal_add").expand_kwargs([{"a": 5}])
        whoami()
        go_on.override(task_id="stop")(False) >> EmptyOperator(task_id="stopped")


    variants()
"""


def dags_test(dag_id: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FLOWSCHED, "dags", "test", dag_id, "2025-01-01"],
        capture_output=True,
        text=True,
        timeout=300,
    )


def xcoms(dag_id: str) -> dict[str, object]:
    with session_scope(readonly=True) as session:
        rows = session.execute(
            select(XCom.task_id, XCom.map_index, XCom.key, XCom.value).where(XCom.dag_id == dag_id)
        ).all()
    return {
        f"{task}{f'[{index}]' if index >= 0 else ''}:{key}": json.loads(value)
        for task, index, key, value in rows
    }


def test_taskflow_variants_run_as_in_airflow(migrated_db: Path, dags_folder: Path) -> None:
    (dags_folder / "variants.py").write_text(textwrap.dedent(DAG_FILE))
    result = dags_test("variants")
    assert result.returncode == 0, result.stdout + result.stderr

    values = xcoms("variants")
    assert values["greet:return_value"] == (
        "hello you on 2025-01-01 for test__2025-01-01T00:00:00+00:00"
    )
    assert values["ready:return_value"] == "ready!"
    assert values["quiet:return_value"] == ""  # no output: Airflow stores ''
    assert (values["loud[0]:return_value"], values["loud[1]:return_value"]) == ("one", "two")
    assert (values["add[0]:return_value"], values["add[1]:return_value"]) == (3, 110)
    assert values["literal_add[0]:return_value"] == 105
    assert values["whoami:return_value"] == "whoami 2025-01-01"
    assert values["stop:skipmixin_key"] == {"skipped": ["stopped"]}
    with session_scope(readonly=True) as session:
        states = dict(session.execute(select(TaskInstance.task_id, TaskInstance.state)).all())
        serialized = session.get(SerializedDagModel, "variants")
        assert serialized is not None
        labels = serialized.data["edge_labels"]
    assert states["stopped"] == "skipped"
    assert labels == [["ready", "quiet", "when ready"]]
