"""Which task instances of one run may start: a pure function of the DAG and the run's rows.

One sweep in topological order settles everything the current states allow: a failure
or a skip propagates to the bottom of the DAG in the same pass, because every task is
looked at after all of its upstream tasks. Pools, parallelism and priority are applied
later, across runs, when scheduled instances are queued (``dispatch.py``).

Asked to (``explain=True``), the sweep also records why each instance it leaves waiting,
or settles without running, does not run: ``flowsched tasks failed-deps`` shows those
reasons, so what it says is what the scheduler decided, by the same code.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple
from weakref import WeakKeyDictionary

from flowsched.db.states import TaskInstanceState as TI
from flowsched.scheduling.trigger_rules import UpstreamCounts, Verdict, evaluate
from flowsched.serialized import SerializedDAG, SerializedTask

TIKey = tuple[str, int]  # (task_id, map_index) within one run
PAST_OK = frozenset({TI.SUCCESS, TI.SKIPPED})


class Unmet(NamedTuple):
    """A dependency that keeps a task instance from running now, named as Airflow's are."""

    dep: str
    reason: str


class TIRow(NamedTuple):
    """What readiness needs of one task instance."""

    task_id: str
    map_index: int
    state: str | None
    next_try_at: datetime | None


@dataclass
class Decision:
    """What one sweep found; the caller writes it to the database."""

    settle: dict[str, list[TIKey]] = field(default_factory=lambda: defaultdict(list))
    new_try: list[TIKey] = field(default_factory=list)  # None or up_for_retry -> scheduled
    resume: list[TIKey] = field(default_factory=list)  # up_for_reschedule -> scheduled
    expand: list[str] = field(default_factory=list)  # mapped tasks whose inputs are known
    next_due: datetime | None = None  # earliest retry/reschedule time not reached yet
    states: dict[TIKey, str | None] = field(default_factory=dict)  # after this decision
    unmet: dict[TIKey, Unmet] | None = None  # why each instance does not run (if explaining)

    def record(self, key: TIKey, dep: str, reason: str) -> None:
        if self.unmet is not None:
            self.unmet[key] = Unmet(dep, reason)


def decide(
    dag: SerializedDAG,
    rows: Iterable[TIRow],
    now: datetime,
    past: Mapping[TIKey, str | None] | None = None,
    only: Collection[str] | None = None,
    branch_skips: Mapping[str, Collection[str]] | None = None,
    explain: bool = False,
) -> Decision:
    """Sweep one run. ``past`` holds the previous run's states of the depends_on_past tasks
    and of the tasks right downstream of the wait_for_downstream ones (None when there is
    no previous run). With ``only``, just those tasks are looked at (``rows`` must then
    hold them and their upstream tasks). ``branch_skips`` holds what each branch of the run
    chose to skip: such a task, once cleared, is skipped again (Airflow's
    NotPreviouslySkippedDep). With ``explain``, ``Decision.unmet`` says why each instance
    that is not scheduled by this sweep waits or ends without running."""
    decision = Decision(unmet={} if explain else None)
    previous = PreviousRun.of(past)
    by_task: dict[str, list[int]] = defaultdict(list)
    sweep = _Sweep(by_task, previous, decision, branch_skips or {})
    for row in rows:
        by_task[row.task_id].append(row.map_index)
        decision.states[(row.task_id, row.map_index)] = row.state
        _check_retry(row, now, decision)
    for task in dag.tasks if only is None else (dag.task_dict[t] for t in _in_order(dag, only)):
        waiting = [
            i for i in by_task.get(task.task_id, ()) if decision.states[(task.task_id, i)] is None
        ]
        if waiting:
            sweep.task(task, waiting, _same_group_upstream(dag, task))
    return decision


def _same_group_upstream(dag: SerializedDAG, task: SerializedTask) -> frozenset[str]:
    """The upstream tasks mapped by the same mapped task group as ``task``."""
    group = task.mapped.group if task.mapped is not None else None
    if group is None:
        return frozenset()
    return frozenset(
        up
        for up in task.upstream_task_ids
        if (mapped := dag.task_dict[up].mapped) is not None and mapped.group == group
    )


def _in_order(dag: SerializedDAG, task_ids: Collection[str]) -> list[str]:
    """``task_ids`` upstream first (the DAG's stored order), without walking the whole DAG."""
    position = _positions(dag)
    return sorted(task_ids, key=position.__getitem__)


_position_cache: WeakKeyDictionary[SerializedDAG, dict[str, int]] = WeakKeyDictionary()


def _positions(dag: SerializedDAG) -> dict[str, int]:
    if dag not in _position_cache:
        _position_cache[dag] = {task.task_id: index for index, task in enumerate(dag.tasks)}
    return _position_cache[dag]


def _check_retry(row: TIRow, now: datetime, decision: Decision) -> None:
    if row.state not in (TI.UP_FOR_RETRY, TI.UP_FOR_RESCHEDULE):
        return
    key = (row.task_id, row.map_index)
    if row.next_try_at is not None and row.next_try_at > now:
        if decision.next_due is None or row.next_try_at < decision.next_due:
            decision.next_due = row.next_try_at
        _record_not_due(decision, key, row.state == TI.UP_FOR_RETRY, now, row.next_try_at)
        return
    (decision.new_try if row.state == TI.UP_FOR_RETRY else decision.resume).append(key)
    decision.states[key] = TI.SCHEDULED


def _record_not_due(
    decision: Decision, key: TIKey, retry: bool, now: datetime, due: datetime
) -> None:
    if decision.unmet is None:
        return
    dep, verb = (
        ("Not In Retry Period", "retried") if retry else ("Ready To Reschedule", "rescheduled")
    )
    reason = (
        f"Task is not ready to be {verb} yet but will be {verb} automatically. Current "
        f"date is {now.isoformat()} and task will be {verb} at {due.isoformat()}."
    )
    decision.record(key, dep, reason)


@dataclass
class _Sweep:
    """What deciding one task needs of the sweep so far."""

    by_task: Mapping[str, list[int]]
    previous: PreviousRun | None
    decision: Decision
    branch_skips: Mapping[str, Collection[str]]

    def task(self, task: SerializedTask, waiting: list[int], in_group: frozenset[str]) -> None:
        """Decide the waiting instances of ``task``. In a mapped task group, instance i
        waits only for instance i of the group's tasks upstream of it (``in_group``), as in
        Airflow; its placeholder expands once the tasks outside the group allow it."""
        outside = task.upstream_task_ids - in_group
        if not in_group or waiting == [-1]:
            self.indexes(task, waiting, list(self.keys_of(outside)))
            return
        for index in waiting:
            keys = [*self.keys_of(outside), *self.keys_at(in_group, index)]
            self.indexes(task, [index], keys)

    def keys_of(self, task_ids: Collection[str]) -> Iterable[TIKey]:
        return ((up, i) for up in task_ids for i in self.by_task.get(up, ()))

    def keys_at(self, task_ids: Collection[str], index: int) -> Iterable[TIKey]:
        """Instance ``index`` of each task; all of its instances while it is unexpanded."""
        for up in task_ids:
            if (up, index) in self.decision.states:
                yield (up, index)
            else:
                yield from self.keys_of([up])

    def indexes(self, task: SerializedTask, waiting: list[int], upstream: list[TIKey]) -> None:
        """Decide ``waiting`` instances of ``task`` from the states of ``upstream``."""
        decision, previous = self.decision, self.previous
        states = decision.states
        verdict = evaluate(task.trigger_rule, UpstreamCounts.of(states[key] for key in upstream))
        branch = _skipped_by_branch(task, self.branch_skips) if verdict is Verdict.READY else None
        if branch is not None:
            verdict = Verdict.SKIP
        if verdict is not Verdict.READY and decision.unmet is not None:
            _record_all(decision, task, waiting, *_why_not(task, upstream, states, verdict, branch))
        if verdict is Verdict.WAIT:
            return
        if verdict is Verdict.SKIP and task.wait_for_past_depends_before_skipping:
            waiting = [
                i for i in waiting if not _past_blocks(task, previous, (task.task_id, i), decision)
            ]
        if verdict is not Verdict.READY:
            for index in waiting:
                decision.settle[verdict.value].append((task.task_id, index))
                decision.states[(task.task_id, index)] = verdict.value
            return
        if task.is_mapped and waiting == [-1]:
            decision.expand.append(task.task_id)
            return
        for index in waiting:
            key = (task.task_id, index)
            if _past_blocks(task, previous, key, decision):
                continue
            decision.new_try.append(key)
            decision.states[key] = TI.SCHEDULED


def _record_all(
    decision: Decision, task: SerializedTask, indexes: list[int], dep: str, reason: str
) -> None:
    for index in indexes:
        decision.record((task.task_id, index), dep, reason)


def _why_not(
    task: SerializedTask,
    upstream: list[TIKey],
    states: Mapping[TIKey, str | None],
    verdict: Verdict,
    branch: str | None,
) -> tuple[str, str]:
    """The dependency (and reason) behind a verdict other than READY, for explaining."""
    if branch is not None:
        return "Not Previously Skipped", (
            f"Skipping because of previous XCom result from parent task {branch}"
        )
    shown = [f"{up}{f'[{i}]' if i >= 0 else ''}={states[(up, i)] or 'none'}" for up, i in upstream]
    more = f" (+{len(shown) - 10} more)" if len(shown) > 10 else ""
    outcome = "is not met yet" if verdict is Verdict.WAIT else (
        f"can no longer be met: the task will be {verdict.value}")  # fmt: skip
    return "Trigger Rule", (f"Task's trigger rule '{task.trigger_rule}' {outcome}; upstream "
                            f"states: {', '.join(shown[:10])}{more}")  # fmt: skip


def _skipped_by_branch(
    task: SerializedTask, branch_skips: Mapping[str, Collection[str]]
) -> str | None:
    """The upstream branch that chose to skip ``task``, if any."""
    return next(
        (up for up in task.upstream_task_ids if task.task_id in branch_skips.get(up, ())), None
    )


@dataclass(frozen=True)
class PreviousRun:
    """The states ``depends_on_past`` and ``wait_for_downstream`` look at in the run before."""

    states: Mapping[TIKey, str | None]
    task_ids: frozenset[str]

    @classmethod
    def of(cls, past: Mapping[TIKey, str | None] | None) -> PreviousRun | None:
        if past is None:
            return None
        return cls(past, frozenset(task_id for task_id, _ in past))

    def all_ok(self, task_ids: Collection[str]) -> bool:
        """Every instance of these tasks succeeded or was skipped (or there is none)."""
        return all(s in PAST_OK for (t, _), s in self.states.items() if t in task_ids)


def _past_blocks(
    task: SerializedTask, previous: PreviousRun | None, key: TIKey, decision: Decision
) -> bool:
    """As Airflow: with no previous run, go; a task new since then goes if
    ``ignore_first_depends_on_past`` (the default); else the same instance in the previous
    run succeeded or was skipped (or did not exist) and, with ``wait_for_downstream``, so
    did every instance of the tasks right downstream of it. True (and why, recorded) if
    the previous run holds ``key`` back."""
    reason = _past_reason(task, previous, key)
    if reason is not None:
        decision.record(key, "Previous Dagrun State", reason)
    return reason is not None


def _past_reason(task: SerializedTask, previous: PreviousRun | None, key: TIKey) -> str | None:
    if not task.depends_on_past or previous is None:
        return None
    if task.task_id not in previous.task_ids:
        if task.ignore_first_depends_on_past:
            return None
        return ("depends_on_past is true for this task, but the previous run has no instance "
                "of it (and ignore_first_depends_on_past is False).")  # fmt: skip
    state = previous.states.get(key, TI.SUCCESS)
    if state not in PAST_OK:
        return (f"depends_on_past is true for this task, but the previous task instance is "
                f"in the state '{state or 'none'}' which is not a successful state.")  # fmt: skip
    if task.wait_for_downstream and not previous.all_ok(task.downstream_task_ids):
        return ("The tasks downstream of the previous task instance haven't completed "
                "(and wait_for_downstream is True).")  # fmt: skip
    return None
