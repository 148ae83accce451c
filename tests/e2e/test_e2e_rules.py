"""What a run does with outcomes: every trigger rule, branching, XCom, mapping, retries."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from flowsched.db import session_scope
from flowsched.db.tables import TaskInstance, TaskInstanceHistory
from tests.e2e.support import (
    Scheduler,
    finished_run,
    flowsched,
    runs_of,
    ti_states,
    tis_of,
    unpause,
    wait_for,
    wait_for_dag,
    write_dag,
    xcom_value,
)

pytestmark = pytest.mark.e2e
EXAMPLES = Path(__file__).parents[1] / "airflow_compat" / "example_dags"

# task id: (trigger rule, upstream task ids, expected final state)
RULE_CASES = {
    "all_success": ("all_success", ["s1", "s2"], "success"),
    "all_success_f": ("all_success", ["s1", "f1"], "upstream_failed"),
    "all_success_k": ("all_success", ["s1", "k1"], "skipped"),
    "all_failed": ("all_failed", ["f1", "f2"], "success"),
    "all_failed_s": ("all_failed", ["s1", "f1"], "skipped"),
    "all_done": ("all_done", ["s1", "f1", "k1"], "success"),
    "all_skipped": ("all_skipped", ["k1", "k2"], "success"),
    "all_skipped_s": ("all_skipped", ["k1", "s1"], "skipped"),
    "one_success": ("one_success", ["s1", "f1"], "success"),
    "one_success_none": ("one_success", ["f1", "k1"], "upstream_failed"),
    "one_failed": ("one_failed", ["s1", "f1"], "success"),
    "one_failed_none": ("one_failed", ["s1", "k1"], "skipped"),
    "one_done": ("one_done", ["f1", "k1"], "success"),
    "one_done_none": ("one_done", ["k1", "k2"], "skipped"),
    "none_failed": ("none_failed", ["s1", "k1"], "success"),
    "none_failed_f": ("none_failed", ["s1", "f1"], "upstream_failed"),
    "min_one_success": ("none_failed_min_one_success", ["s1", "k1"], "success"),
    "min_one_success_k": ("none_failed_min_one_success", ["k1", "k2"], "skipped"),
    "none_skipped": ("none_skipped", ["s1", "f1"], "success"),
    "none_skipped_k": ("none_skipped", ["s1", "k1"], "skipped"),
    "always": ("always", ["f1"], "success"),
}

TRIGGER_RULES_DAG = """
    import pendulum
    from flowsched import DAG
    from flowsched.operators.bash import BashOperator

    CASES = {cases}

    with DAG("rules", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        up = {
            "s1": BashOperator(task_id="s1", bash_command="true"),
            "s2": BashOperator(task_id="s2", bash_command="true"),
            "f1": BashOperator(task_id="f1", bash_command="exit 1"),
            "f2": BashOperator(task_id="f2", bash_command="exit 1"),
            "k1": BashOperator(task_id="k1", bash_command="exit 99"),
            "k2": BashOperator(task_id="k2", bash_command="exit 99"),
        }
        for task_id, (rule, upstream, _) in CASES.items():
            task = BashOperator(task_id=task_id, bash_command="true", trigger_rule=rule)
            [up[u] for u in upstream] >> task
"""


def test_every_trigger_rule_settles_as_airflow_does(
    scheduler: Scheduler, dags_folder: Path
) -> None:
    write_dag(dags_folder, "rules", TRIGGER_RULES_DAG, cases=repr(RULE_CASES))
    scheduler.start()
    flowsched("dags", "trigger", "rules")
    run = wait_for(lambda: finished_run("rules"), "the rules run to end")
    states = ti_states("rules")
    assert {task: states[task] for task in RULE_CASES} == {
        task: expected for task, (_, _, expected) in RULE_CASES.items()
    }
    assert states["s1"] == "success" and states["f1"] == "failed" and states["k1"] == "skipped"
    assert run.state == "failed"  # some leaves ended upstream_failed
    assert scheduler.stop() == 0


FLOW_DAG = """
    import pendulum
    from pathlib import Path
    from flowsched import DAG, task
    from flowsched.utils.trigger_rule import TriggerRule

    OUT = Path("{out}")

    with DAG("flow", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        @task.branch
        def choose():
            return "left"

        @task
        def left():
            return "went left"

        @task
        def right():
            return "went right"

        @task
        def after_right():
            return 0

        @task(trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)
        def join():
            return "joined"

        @task
        def numbers():
            return [1, 2, 3]

        @task
        def times_ten(x):
            (OUT / f"mapped_{x}").write_text(str(x * 10))
            return x * 10

        @task
        def total(values):
            return sum(values)

        branch, went_left, went_right, after = choose(), left(), right(), after_right()
        branch >> [went_left, went_right]
        went_right >> after
        [went_left, after] >> join()
        total(times_ten.expand(x=numbers()))
"""


def test_branching_xcom_and_mapping(scheduler: Scheduler, dags_folder: Path, out_dir: Path) -> None:
    write_dag(dags_folder, "flow", FLOW_DAG, out=out_dir)
    scheduler.start()
    flowsched("dags", "trigger", "flow")
    run = wait_for(lambda: finished_run("flow"), "the flow run to end")
    states = ti_states("flow")
    assert states["choose"] == "success" and states["left"] == "success"
    assert states["right"] == "skipped" and states["after_right"] == "skipped"
    assert states["join"] == "success"
    assert [states[f"times_ten[{i}]"] for i in range(3)] == ["success"] * 3
    assert "times_ten" not in states  # the placeholder became three instances
    assert sorted(p.read_text() for p in out_dir.glob("mapped_*")) == ["10", "20", "30"]
    assert json.loads(xcom_value("flow", run.run_id, "total")) == 60
    assert run.state == "success"
    assert scheduler.stop() == 0


RETRY_DAG = """
    import pendulum
    from datetime import timedelta
    from pathlib import Path
    from flowsched import DAG, task

    OUT = Path("{out}")

    with DAG("retrying", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        @task(retries=2, retry_delay=timedelta(seconds=1))
        def always_fails():
            raise RuntimeError("broken for good")

        @task(retries=3, retry_delay=timedelta(seconds=1))
        def fails_once(ti=None):
            if ti.try_number == 1:
                raise RuntimeError("first try fails")
            return ti.try_number

        always_fails()
        fails_once()
"""


def test_retries_happen_as_configured_and_every_try_is_kept(
    scheduler: Scheduler, dags_folder: Path, out_dir: Path, home: Path
) -> None:
    write_dag(dags_folder, "retrying", RETRY_DAG, out=out_dir)
    scheduler.start()
    flowsched("dags", "trigger", "retrying")
    run = wait_for(lambda: finished_run("retrying"), "the retrying run to end")
    tis = {ti.task_id: ti for ti in tis_of("retrying")}
    assert (tis["always_fails"].state, tis["always_fails"].try_number) == ("failed", 3)
    assert (tis["fails_once"].state, tis["fails_once"].try_number) == ("success", 2)
    with session_scope(readonly=True) as session:
        tries = session.execute(
            select(TaskInstanceHistory.try_number, TaskInstanceHistory.start_date,
                   TaskInstanceHistory.end_date)
            .where(TaskInstanceHistory.task_id == "always_fails")
            .order_by(TaskInstanceHistory.try_number)
        ).all()  # fmt: skip
    assert [t.try_number for t in tries] == [1, 2, 3]
    for earlier, later in itertools.pairwise(tries):
        assert (later.start_date - earlier.end_date).total_seconds() >= 1.0  # retry_delay
    logs = home / "logs" / "dag_id=retrying" / f"run_id={run.run_id}" / "task_id=always_fails"
    assert sorted(p.name for p in logs.iterdir()) == [f"attempt={n}.log" for n in (1, 2, 3)]
    assert "broken for good" in (logs / "attempt=2.log").read_text()
    assert scheduler.stop() == 0


def test_a_cleared_task_that_a_branch_skipped_is_skipped_again(
    scheduler: Scheduler, dags_folder: Path
) -> None:
    """Airflow's own example_nested_branch_dag: branch_1 chose true_1, so false_1 was
    skipped; clearing false_1 must not run it (Airflow re-applies the branch's choice)."""
    example = EXAMPLES / "example_nested_branch_dag.py"
    (dags_folder / example.name).write_text(example.read_text().replace("airflow", "flowsched"))
    dag_id = "example_nested_branch_dag"
    scheduler.start()
    wait_for_dag(dag_id)
    unpause(dag_id)
    run = wait_for(lambda: finished_run(dag_id), "the scheduled run to end")
    assert ti_states(dag_id, run.run_id)["false_1"] == "skipped"
    skipped_at = false_1_of(dag_id).end_date

    flowsched("tasks", "clear", dag_id, "-t", "^false_1$", "--run-id", run.run_id, "--yes")
    wait_for(
        lambda: false_1_of(dag_id).end_date != skipped_at and finished_run(dag_id) is not None,
        "the cleared task to be settled again",
    )
    states = ti_states(dag_id, run.run_id)
    assert states["false_1"] == "skipped"
    assert (states["branch_2"], states["true_1"], states["join_1"]) == (
        "skipped",
        "success",
        "success",
    )
    assert false_1_of(dag_id).try_number == 0  # it never ran
    assert runs_of(dag_id)[0].state == "success"
    assert scheduler.stop() == 0


def false_1_of(dag_id: str) -> TaskInstance:
    [ti] = [ti for ti in tis_of(dag_id) if ti.task_id == "false_1"]
    return ti
