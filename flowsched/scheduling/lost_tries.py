"""Tries lost to the platform: re-run, or re-sent, without costing the task a retry.

A try is lost to the platform when the process that ran or would record it is gone while
the task itself did nothing wrong: its scheduler's process group was killed, its worker
died, its supervisor vanished (the heartbeat stopped), the database was unreachable when
it was to start. SPEC §6: such a try is re-run as a new try without using one of the
task's ``retries``, and its log, its try history (shown on the task page) and the
scheduler's log say why. ``[core] max_platform_retries`` bounds it, so that a task that
kills its own worker (memory, a segfault in the worker) ends failed with that reason
rather than looping.

A try that never started its code is simply sent again: its task instance is still
``queued`` for the same try number, and the runner's guarded ``queued -> running`` lets
exactly one copy run. So is a try whose code ended but whose end was never recorded (its
process left the outcome beside its log, ``runner.outcome_file``): it goes back to
``queued`` for the same try number, and the supervisor that claims it records that
outcome instead of running the task's code a second time.

How the scheduler knows a try is lost, soonest first:

- the executor saw its own worker die (``ExecutorEvent.lost``);
- the try's supervisor ran on this machine and its process is gone (found on every full
  pass, the first one after a restart included);
- its heartbeat is older than ``scheduler.zombie_threshold`` (a supervisor on another
  machine, or one that hangs).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from flowsched.config import conf
from flowsched.db.failure import FailurePolicy, fail_try
from flowsched.db.history import record_ended_try
from flowsched.db.states import TaskInstanceState, transition_ti
from flowsched.db.tables import DagModel, TaskInstance, utcnow
from flowsched.notify.failure_alerts import alert_after_commit
from flowsched.scheduling import claims
from flowsched.scheduling.claims import RunKey
from flowsched.scheduling.dagstore import DagStore
from flowsched.scheduling.dispatch import Dispatch
from flowsched.serialized import SerializedTask
from flowsched.task_logs import log_path, note_in_log, outcome_path
from flowsched.tries import ExecutorEvent, TaskKey

log = logging.getLogger(__name__)
State = TaskInstanceState
# How long a running try whose worker died is left before it is settled: its own process
# is killed with the worker, or, if its code had ended, writes its outcome first.
LOST_GRACE = 1.0


def policy_of(task: SerializedTask | None) -> FailurePolicy:
    """The failure policy of a task of the serialized DAG (no retries if it is gone)."""
    return FailurePolicy() if task is None else FailurePolicy.from_task(task)


@dataclass
class Settled:
    """What settling lost tries did: runs to examine, tries to send again after commit."""

    runs: set[RunKey] = field(default_factory=set)
    resend: list[Dispatch] = field(default_factory=list)
    waiting: list[tuple[ExecutorEvent, float]] = field(default_factory=list)

    def lost(self, session: Session, store: DagStore, ti: TaskInstance, reason: str) -> None:
        """A running try whose supervisor is gone."""
        if _send_again_to_record(session, ti, reason):
            self._send_again(session, ti)
        elif rerun_lost_try(session, store, ti, reason) is None:
            return
        self.runs.add((ti.dag_id, ti.run_id))

    def _send_again(self, session: Session, ti: TaskInstance) -> None:
        fileloc = session.scalar(select(DagModel.fileloc).where(DagModel.dag_id == ti.dag_id))
        if fileloc is not None:
            key = ti.key
            self.resend.append(Dispatch(key, fileloc, ti.queue))


def _send_again_to_record(session: Session, ti: TaskInstance, reason: str) -> bool:
    """A lost try whose code ended (its outcome is beside its log): back to ``queued``,
    same try, so that a supervisor records that outcome. True if so."""
    key = ti.key
    if not outcome_path(*key).exists():
        return False
    won = transition_ti(
        session,
        **key._asdict(),  # try_number included: only while it still holds the lost try
        expected=[State.RUNNING],
        new=State.QUEUED,
        queued_dttm=utcnow(),
    )
    if won:
        _tell(key, f"{reason}; its code had ended: sending it again to record its outcome")
    return won


def rerun_lost_try(session: Session, store: DagStore, ti: TaskInstance, reason: str) -> str | None:
    """A running try lost to the platform: ``up_for_retry`` at once, with one more try
    that the task's ``retries`` do not pay for; past ``[core] max_platform_retries``, the
    task's own failure policy with the reason. The new state (None: someone else changed
    the task instance first)."""
    dag = store.get(session, ti.dag_id)
    policy = policy_of(dag.task_dict.get(ti.task_id) if dag else None)
    key = ti.key
    limit = conf.core.max_platform_retries
    if ti.platform_retries >= limit:
        message = (
            f"{reason}; the platform lost this task {ti.platform_retries + 1} times "
            f"([core] max_platform_retries = {limit}): failing it"
        )
        state = fail_try(session, ti, policy, message)
        if state is not None:
            alert_after_commit(session, ti, policy, state, message)
            _tell(key, f"{message} -> {state}")
        return state
    message = f"{reason}; re-running it without using one of the task's retries"
    now = utcnow()
    duration = (now - ti.start_date).total_seconds() if ti.start_date else None
    won = transition_ti(
        session,
        **key._asdict(),  # try_number included: only while it still holds the lost try
        expected=[State.QUEUED, State.RUNNING],
        new=State.UP_FOR_RETRY,
        end_date=now,
        duration=duration,
        next_try_at=now,
        max_tries=max(ti.max_tries or 0, policy.retries) + 1,
        platform_retries=ti.platform_retries + 1,
    )
    if not won:
        return None
    record_ended_try(session, ti, state=State.UP_FOR_RETRY, end_date=now, error=message)
    _tell(key, message)
    return State.UP_FOR_RETRY


def _tell(key: TaskKey, message: str) -> None:
    """Say it in the scheduler's log and in the try's own log (shown on the task page)."""
    log.warning("%s: %s", key, message)
    note_in_log(log_path(*key), "scheduler", message)


def settle_lost(
    session: Session, store: DagStore, events: Iterable[tuple[ExecutorEvent, float]]
) -> Settled:
    """Tries whose executor lost them (``event.lost``, with the ``time.monotonic()`` it
    was seen at): one still ``queued`` never started and is sent again at once; one
    ``running`` lost its supervisor and is re-run (or sent again to record the outcome it
    left) once ``LOST_GRACE`` has passed, which lets its own process, killed with its
    supervisor, end or finish writing its outcome. Events kept for later are in
    ``Settled.waiting``."""
    settled = Settled()
    for event, seen_at in events:
        key = event.key
        ti = session.get(TaskInstance, (key.dag_id, key.run_id, key.task_id, key.map_index))
        if ti is None or ti.try_number != key.try_number:
            continue
        if ti.state == State.QUEUED:
            log.warning("%s was not started (%s): sending it again", key, event.info)
            settled._send_again(session, ti)
        elif ti.state == State.RUNNING:
            if time.monotonic() - seen_at < LOST_GRACE or _try_process_alive(ti):
                settled.waiting.append((event, seen_at))
            else:
                settled.lost(session, store, ti, event.info)
    return settled


def _try_process_alive(ti: TaskInstance) -> bool:
    """The try's own process still runs on this machine (it outlives its supervisor only
    to write its outcome, if its code had ended)."""
    return ti.pid is not None and ti.hostname == socket.gethostname() and _process_exists(ti.pid)


def settle_orphans(session: Session, store: DagStore, reason: str, settled: Settled) -> None:
    """Running tries whose supervisor ran on this machine and is gone: settled now,
    rather than after the zombie threshold."""
    hostname = socket.gethostname()
    for ti in claims.running_tis_on(session, hostname):
        if ti.supervisor_pid is None or _process_exists(ti.supervisor_pid):
            continue
        if _try_process_alive(ti):
            continue  # writing its outcome, or about to die: the next pass looks again
        what = f"{reason}: the try's supervisor (pid {ti.supervisor_pid} on {hostname}) is gone"
        settled.lost(session, store, ti, what)


def _process_exists(pid: int) -> bool:
    """Alive, and not a zombie process waiting for its parent to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def settle_zombies(
    session: Session, store: DagStore, now: datetime, threshold: float, settled: Settled
) -> None:
    """Tries without a heartbeat for ``threshold`` seconds: their supervisor died or hangs
    (on any machine), a platform failure."""
    for ti in claims.stale_running_tis(session, now - timedelta(seconds=threshold)):
        message = (
            f"worker lost (zombie): no heartbeat from the try's supervisor for more than "
            f"{threshold:g} s (last at {ti.last_heartbeat_at or ti.start_date})"
        )
        settled.lost(session, store, ti, message)
