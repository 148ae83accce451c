"""Readiness on real serialized DAGs: propagation, retries, depends_on_past, mapping, outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pendulum

from flowsched import DAG
from flowsched.db.states import DagRunState
from flowsched.decorators import task, task_group
from flowsched.operators.bash import BashOperator
from flowsched.operators.empty import EmptyOperator
from flowsched.parsing.serialize import serialize_dag
from flowsched.scheduling.finishing import outcome
from flowsched.scheduling.readiness import TIRow, decide
from flowsched.serialized import SerializedDAG

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def serialized(build) -> SerializedDAG:
    with DAG("d", schedule=None, start_date=pendulum.datetime(2024, 1, 1)) as dag:
        build()
    return SerializedDAG.from_dict(serialize_dag(dag))


def rows(states: dict[str, str | None]) -> list[TIRow]:
    return [TIRow(task_id, -1, state, None) for task_id, state in states.items()]


def chain_abc() -> None:
    a, b, c = (EmptyOperator(task_id=t) for t in "abc")
    a >> b >> c


def test_roots_are_ready_and_downstream_waits() -> None:
    decision = decide(serialized(chain_abc), rows({"a": None, "b": None, "c": None}), NOW)
    assert decision.new_try == [("a", -1)]
    assert not decision.settle


def test_a_failure_propagates_to_the_bottom_in_one_sweep() -> None:
    decision = decide(serialized(chain_abc), rows({"a": "failed", "b": None, "c": None}), NOW)
    assert decision.settle["upstream_failed"] == [("b", -1), ("c", -1)]
    assert decision.new_try == []


def test_a_skip_propagates_but_a_join_with_none_failed_min_one_success_runs() -> None:
    def build() -> None:
        branch = EmptyOperator(task_id="branch")
        left, right = EmptyOperator(task_id="left"), EmptyOperator(task_id="right")
        after_right = EmptyOperator(task_id="after_right")
        join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
        branch >> [left, right]
        right >> after_right
        [left, after_right] >> join

    states = {"branch": "success", "left": "success", "right": "skipped",
              "after_right": None, "join": None}  # fmt: skip
    decision = decide(serialized(build), rows(states), NOW)
    assert decision.settle["skipped"] == [("after_right", -1)]
    assert decision.new_try == [("join", -1)]


def test_retry_waits_for_its_time_then_is_a_new_try() -> None:
    dag = serialized(chain_abc)
    later = NOW + timedelta(seconds=30)
    waiting = [TIRow("a", -1, "up_for_retry", later), TIRow("b", -1, None, None)]
    decision = decide(dag, waiting, NOW)
    assert decision.new_try == [] and decision.next_due == later
    decision = decide(dag, waiting, later)
    assert decision.new_try == [("a", -1)]


def test_a_rescheduled_sensor_resumes_without_a_new_try() -> None:
    dag = serialized(chain_abc)
    decision = decide(dag, [TIRow("a", -1, "up_for_reschedule", NOW)], NOW)
    assert decision.resume == [("a", -1)] and decision.new_try == []


def test_depends_on_past_waits_for_the_previous_run() -> None:
    def build() -> None:
        EmptyOperator(task_id="a", depends_on_past=True)

    dag = serialized(build)
    fresh = rows({"a": None})
    assert decide(dag, fresh, NOW, past=None).new_try == [("a", -1)]
    assert decide(dag, fresh, NOW, past={("a", -1): "failed"}).new_try == []
    assert decide(dag, fresh, NOW, past={("a", -1): "running"}).new_try == []
    assert decide(dag, fresh, NOW, past={("a", -1): "skipped"}).new_try == [("a", -1)]


def test_a_mapped_task_is_expanded_once_its_upstream_is_done() -> None:
    def build() -> None:
        up = EmptyOperator(task_id="up")
        mapped = BashOperator.partial(task_id="m").expand(bash_command=["true", "true"])
        up >> mapped

    dag = serialized(build)
    assert decide(dag, rows({"up": None, "m": None}), NOW).expand == []
    assert decide(dag, rows({"up": "success", "m": None}), NOW).expand == ["m"]
    expanded = [TIRow("up", -1, "success", None)] + [TIRow("m", i, None, None) for i in (0, 1)]
    assert decide(dag, expanded, NOW).new_try == [("m", 0), ("m", 1)]


def test_downstream_of_a_mapped_task_waits_for_every_instance() -> None:
    def build() -> None:
        mapped = BashOperator.partial(task_id="m").expand(bash_command=["true", "true"])
        mapped >> EmptyOperator(task_id="after")

    dag = serialized(build)
    half = [TIRow("m", 0, "success", None), TIRow("m", 1, "running", None),
            TIRow("after", -1, None, None)]  # fmt: skip
    assert decide(dag, half, NOW).new_try == []
    done = [*half[:1], TIRow("m", 1, "success", None), half[2]]
    assert decide(dag, done, NOW).new_try == [("after", -1)]


def test_run_outcome_follows_the_leaves() -> None:
    def build() -> None:
        a = EmptyOperator(task_id="a")
        cleanup = EmptyOperator(task_id="cleanup", trigger_rule="all_done")
        a >> cleanup

    dag = serialized(build)
    assert outcome(dag, {("a", -1): "running", ("cleanup", -1): None}) is None
    assert outcome(dag, {("a", -1): "success", ("cleanup", -1): "success"}) == DagRunState.SUCCESS
    assert outcome(dag, {("a", -1): "failed", ("cleanup", -1): "success"}) == DagRunState.SUCCESS
    assert outcome(dag, {("a", -1): "success", ("cleanup", -1): "failed"}) == DagRunState.FAILED
    assert outcome(dag, {("a", -1): "skipped", ("cleanup", -1): "skipped"}) == DagRunState.SUCCESS


def test_wait_for_downstream_waits_for_the_previous_runs_direct_downstream() -> None:
    def build() -> None:
        a = EmptyOperator(task_id="a", wait_for_downstream=True)
        b, c = EmptyOperator(task_id="b"), EmptyOperator(task_id="c")
        a >> b >> c

    dag = serialized(build)
    fresh = rows({"a": None, "b": None, "c": None})
    b_running = {("a", -1): "success", ("b", -1): "running", ("c", -1): None}
    b_done = {("a", -1): "success", ("b", -1): "success", ("c", -1): "running"}
    assert decide(dag, fresh, NOW, past=b_running).new_try == []
    assert decide(dag, fresh, NOW, past=b_done).new_try == [("a", -1)]  # c is not direct


def test_a_task_new_since_the_previous_run_goes_unless_ignore_first_is_off() -> None:
    def build() -> None:
        EmptyOperator(task_id="old", depends_on_past=True)
        EmptyOperator(task_id="new", depends_on_past=True, ignore_first_depends_on_past=False)
        EmptyOperator(task_id="newer", depends_on_past=True)

    dag = serialized(build)
    decision = decide(dag, rows({"old": None, "new": None, "newer": None}), NOW, past={})
    assert sorted(decision.new_try) == [("newer", -1), ("old", -1)]


def test_wait_for_past_depends_before_skipping_keeps_a_skip_waiting() -> None:
    def build() -> None:
        up = EmptyOperator(task_id="up")
        up >> EmptyOperator(task_id="plain", depends_on_past=True)
        up >> EmptyOperator(
            task_id="patient", depends_on_past=True, wait_for_past_depends_before_skipping=True
        )

    dag = serialized(build)
    states = rows({"up": "skipped", "plain": None, "patient": None})
    past_failed = {("up", -1): "success", ("plain", -1): "failed", ("patient", -1): "failed"}
    decision = decide(dag, states, NOW, past=past_failed)
    assert decision.settle["skipped"] == [("plain", -1)]
    past_ok = {key: "success" for key in past_failed}
    assert decide(dag, states, NOW, past=past_ok).settle["skipped"] == [
        ("plain", -1),
        ("patient", -1),
    ]


def test_explaining_says_why_wait_for_downstream_holds_an_instance_back() -> None:
    def build() -> None:
        EmptyOperator(task_id="stage", wait_for_downstream=True) >> EmptyOperator(task_id="pub")

    past = {("stage", -1): "success", ("pub", -1): "failed"}
    decision = decide(
        serialized(build), rows({"stage": None, "pub": None}), NOW, past, explain=True
    )

    assert decision.new_try == []
    assert decision.unmet is not None
    assert decision.unmet[("stage", -1)] == (
        "Previous Dagrun State",
        "The tasks downstream of the previous task instance haven't completed "
        "(and wait_for_downstream is True).",
    )
    assert decide(serialized(build), rows({"stage": None}), NOW, past).unmet is None


def test_in_a_mapped_task_group_instance_i_waits_only_for_instance_i() -> None:
    def build() -> None:
        @task
        def add(x: int) -> int:
            return x + 1

        @task
        def double(value: int) -> int:
            return value * 2

        @task_group
        def work(x):
            return double(add(x))

        work.expand(x=[1, 2])

    dag = serialized(build)
    fresh = rows({"work.add": None, "work.double": None})
    assert sorted(decide(dag, fresh, NOW).expand) == ["work.add", "work.double"]
    half = [TIRow("work.add", 0, "success", None), TIRow("work.add", 1, "running", None),
            TIRow("work.double", 0, None, None), TIRow("work.double", 1, None, None)]  # fmt: skip
    assert decide(dag, half, NOW).new_try == [("work.double", 0)]
    failed = [half[0], TIRow("work.add", 1, "failed", None), *half[2:]]
    assert decide(dag, failed, NOW).settle["upstream_failed"] == [("work.double", 1)]
