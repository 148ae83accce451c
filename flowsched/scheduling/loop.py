"""The scheduler daemon: passes driven by events, deadlines and nudges.

The loop blocks in ``executor.wait_for_events`` and wakes on the first of: an ended try
(an *event pass*: only the runs those tries belong to are examined, so a downstream task
starts in the same pass its upstream ended), a nudge from the CLI or the UI, the next due
time (a scheduled run, a retry), or ``scheduler.idle_poll_interval`` (a *full pass*:
create and start runs, find zombies and SLA misses, examine every running run). Each pass is one
transaction; tries are handed to the executor only after it commits, so an executor
never runs a try the database does not show as queued.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from flowsched.db import session_scope
from flowsched.db.outage import OutageWatch, first_line, is_outage, retry_interval, until_reachable
from flowsched.db.tables import DagModel, utcnow
from flowsched.executors.base import BaseExecutor
from flowsched.liveness import MISSED_HEARTBEATS
from flowsched.scheduling import claims, dispatch, jobs, lost_tries, runs, sla
from flowsched.scheduling.claims import RunKey, RunRef
from flowsched.scheduling.dagstore import DagStore
from flowsched.scheduling.examine import examine
from flowsched.scheduling.jobs import SchedulerJob
from flowsched.scheduling.settings import SchedulerSettings
from flowsched.tries import ExecutorEvent, TaskKey
from flowsched.wakeup import NudgeListener

log = logging.getLogger(__name__)

NUDGE_POLL = 0.02  # how often a wait looks at the nudge socket between executor waits


class StopNow(BaseException):
    """A second stop signal: stop the running tries instead of waiting for them."""


class SchedulerLoop:
    def __init__(
        self,
        executor: BaseExecutor,
        *,
        scan_dags_folder: Callable[[], object],
        num_runs: int = -1,
    ) -> None:
        """``scan_dags_folder`` re-parses the dags folder into the database
        (``parsing.scan.parse_dags_folder``, given by the CLI): the scheduler package never
        imports the parser, which imports user code."""
        self.executor = executor
        self.scan_dags_folder = scan_dags_folder
        self.num_runs = num_runs
        self.settings = SchedulerSettings.from_conf()
        self.store = DagStore()
        self.job = SchedulerJob(self.settings.heartbeat_interval)
        self._stop = False
        self._ending = False
        self._listener: NudgeListener | None = None
        self._last_full = -math.inf
        self._last_parse = -math.inf
        self._next_retry: datetime | None = None
        self._next_dagrun: datetime | None = None
        # a scheduler silent for this long is dead (as `jobs check` and /health judge)
        self._dead_after = MISSED_HEARTBEATS * self.settings.heartbeat_interval
        self._next_dead_check = 0.0
        self._next_sla_check = 0.0
        self._sla_checked_at = utcnow()
        self._adopt_after_pass = False
        self.outage = OutageWatch(log)
        # tries the executor lost (and when), until a pass settles them
        self._lost: list[tuple[ExecutorEvent, float]] = []
        self._restarted = True  # the first full pass finds what the previous scheduler left

    def request_stop(self) -> None:
        """From a signal handler: finish the pass, let running tries end, stop."""
        if self._ending:
            raise StopNow
        self._stop = True

    def run(self) -> None:
        self._listener = NudgeListener()
        until_reachable(self.job.start, self.outage, "starting the scheduler")
        state = "failed"
        try:
            until_reachable(self.executor.start, self.outage)
            until_reachable(self._adopt, self.outage)
            self._serve()
            state = "success"
        finally:
            self._shutdown(state)

    def _serve(self) -> None:
        passes, full = 0, True
        events: list[ExecutorEvent] = []
        while not self._stop:
            self._guarded_pass(events, full)
            passes += 1
            if passes == self.num_runs:
                return
            events, full = self._wait()

    # --- waiting ---------------------------------------------------------------------

    def _timeout(self) -> float:
        timeout = self.settings.idle_poll_interval
        if self._lost:  # lost tries wait out their grace
            timeout = min(timeout, lost_tries.LOST_GRACE / 2)
        now = utcnow()
        for due in (self._next_retry, self._next_dagrun):
            if due is not None:
                timeout = min(timeout, (due - now).total_seconds())
        return max(0.0, timeout)

    def _wait(self) -> tuple[list[ExecutorEvent], bool]:
        """The events that ended the wait, and whether the next pass must be a full one."""
        assert self._listener is not None
        deadline = time.monotonic() + self._timeout()
        idle_poll = self.settings.idle_poll_interval
        while True:
            remaining = deadline - time.monotonic()
            events = self.executor.wait_for_events(max(0.0, min(remaining, NUDGE_POLL)))
            nudged = self._listener.drain()
            if events or nudged:
                return events, nudged or time.monotonic() - self._last_full >= idle_poll
            if self._stop or time.monotonic() >= deadline:
                return [], True

    # --- passes ----------------------------------------------------------------------

    def _guarded_pass(self, events: Sequence[ExecutorEvent], full: bool) -> None:
        """A pass; a database unreachable (for any time: said once when it goes, once when
        it is back), or a row another process inserted first, makes this pass roll back
        and the next one try again. Tries the executor lost are kept until a pass has
        settled them."""
        self._lost += [(event, time.monotonic()) for event in events if event.lost]
        try:
            self._pass(events, full)
        except Exception as exc:
            if is_outage(exc):
                self.outage.failed(exc, retry_interval())
                time.sleep(retry_interval())
            elif isinstance(exc, IntegrityError):
                log.error("scheduler pass failed, retrying: %s", first_line(exc))
                time.sleep(self.settings.idle_poll_interval)
            else:
                raise
            self._last_full = -math.inf  # the next pass looks at everything again
            return
        self.outage.succeeded()

    def _pass(self, events: Sequence[ExecutorEvent], full: bool) -> None:
        if full:
            self._refresh_dags_if_due()
        ended: dict[RunKey, set[str]] = defaultdict(set)
        for event in events:
            if not event.lost:
                ended[(event.key.dag_id, event.key.run_id)].add(event.key.task_id)
        now = utcnow()
        with session_scope() as session:
            self.job.heartbeat_if_due(session)
            # a run with a lost try is looked at whole: the lost task itself is due again
            lost = lost_tries.settle_lost(session, self.store, self._lost)
            if full:
                self._last_full = time.monotonic()
                self.store.new_pass()
                self._housekeeping(session, now, lost)
            todo = claims.running_runs(session, None if full else sorted({*ended, *lost.runs}))
            finished = self._examine(session, todo, now, None if full else ended)
            if finished:
                self._after_runs_ended(session, finished, now)
            dispatches = dispatch.queue_scheduled(
                session,
                self.store,
                self.executor.free_slots(),
                self.executor.name,
                now,
                self.settings,
            )
        self._lost = lost.waiting
        self._send(lost.resend)
        self._send(dispatches)
        if self._adopt_after_pass:
            self._adopt_after_pass = False
            self._adopt("queued tries that a dead scheduler may never have sent")

    def _housekeeping(self, session: Session, now: datetime, lost: lost_tries.Settled) -> None:
        """What only a full pass does: create and start runs, settle tries whose
        supervisor is gone, take over from dead schedulers."""
        runs.create_due_runs(session, self.store, now)
        runs.start_queued_runs(session, self.store, now)
        self._settle_lost_tries(session, now, lost)
        self._take_over_dead_schedulers(session, now)
        self._record_sla_misses(session, now)
        self._next_dagrun = session.scalar(
            select(func.min(DagModel.next_dagrun_create_after)).where(
                DagModel.is_paused.is_(False), DagModel.is_active.is_(True)
            )
        )

    def _settle_lost_tries(self, session: Session, now: datetime, lost: lost_tries.Settled) -> None:
        """Running tries whose supervisor is gone: at once when it ran on this machine,
        after the zombie threshold otherwise. The threshold counts from the end of the
        last database outage, during which no supervisor could beat."""
        reason = "scheduler restarted" if self._restarted else "worker lost"
        self._restarted = False
        lost_tries.settle_orphans(session, self.store, reason, lost)
        threshold = self.settings.zombie_threshold
        back_at = self.outage.back_at
        if back_at is None or time.monotonic() - back_at >= threshold:
            lost_tries.settle_zombies(session, self.store, now, threshold, lost)

    def _record_sla_misses(self, session: Session, now: datetime) -> None:
        """Once per heartbeat interval: tasks past their SLA (see ``sla.py``)."""
        if time.monotonic() < self._next_sla_check:
            return
        self._next_sla_check = time.monotonic() + self.settings.heartbeat_interval
        sla.record_sla_misses(session, self.store, now, since=self._sla_checked_at)
        self._sla_checked_at = now

    def _take_over_dead_schedulers(self, session: Session, now: datetime) -> None:
        """A scheduler that died (kill -9, crash, machine lost) may have queued tries in the
        database that it never handed to its executor: once this pass commits, every try
        still queued is sent again, as at start-up (``_adopt``). Its runs need nothing:
        PostgreSQL released their locks with its connection. Only one live scheduler
        claims each dead one; checked once per heartbeat interval."""
        if time.monotonic() < self._next_dead_check:
            return
        self._next_dead_check = time.monotonic() + self.settings.heartbeat_interval
        for dead in jobs.claim_dead_schedulers(session, now, self._dead_after, self.job.id):
            log.warning(
                "scheduler job %s (pid %s on %s) stopped heartbeating at %s: marked failed; "
                "sending the tries still queued again",
                dead.id,
                dead.pid,
                dead.hostname,
                dead.latest_heartbeat,
            )
            self._adopt_after_pass = True

    def _examine(
        self,
        session: Session,
        todo: Iterable[RunRef],
        now: datetime,
        ended: Mapping[RunKey, set[str]] | None,
    ) -> set[str]:
        """Examine runs (only below the ended tasks, in an event pass); the DAG ids of runs
        that ended. A full pass recomputes the next retry time from scratch."""
        if ended is None:
            self._next_retry = None
        finished = set()
        for run in todo:
            dag = self.store.get(session, run.dag_id)
            if dag is None:
                continue
            tasks = None if ended is None else ended.get((run.dag_id, run.run_id))
            result = examine(session, dag, run, now, tasks)
            if result.next_due is not None:
                self._next_retry = min(result.next_due, self._next_retry or result.next_due)
            if result.finished is not None:
                finished.add(run.dag_id)
        return finished

    def _after_runs_ended(self, session: Session, dag_ids: set[str], now: datetime) -> None:
        """A run that ended frees a max_active_runs slot: the next run may be created or
        started in this same pass."""
        for dag_id in dag_ids:
            dag = self.store.get(session, dag_id)
            if dag is not None:
                runs.refresh_next_dagrun(session, dag, now)
        runs.create_due_runs(session, self.store, now)
        started = runs.start_queued_runs(session, self.store, now)
        self._examine(session, map(RunRef.of, started), now, {})

    def _send(self, dispatches: Iterable[dispatch.Dispatch]) -> None:
        for item in dispatches:
            self.executor.queue_task(item.key, item.fileloc, queue=item.queue)

    # --- DAG files -------------------------------------------------------------------

    def _refresh_dags_if_due(self) -> None:
        """Re-scan the dags folder every dag_dir_list_interval; recompute the next run of
        every DAG whose structure or schedule changed."""
        if time.monotonic() - self._last_parse < self.settings.dag_dir_list_interval:
            return
        self._last_parse = time.monotonic()
        try:
            self.scan_dags_folder()
        except Exception as exc:
            if is_outage(exc):
                raise  # the pass's guard says it once and tries again
            log.exception("scanning the dags folder failed; the DAGs parsed before stay")
        now = utcnow()
        with session_scope() as session:
            for dag_id in self.store.changed(session):
                dag = self.store.get(session, dag_id)
                if dag is not None:
                    runs.refresh_next_dagrun(session, dag, now)

    # --- start and stop --------------------------------------------------------------

    def _adopt(self, what: str = "queued tries left by the previous scheduler") -> None:
        """Re-send the tries a previous scheduler queued but that never started.

        The runner's guarded queued -> running step lets exactly one copy of a try run,
        should the old one still be on its way. Running tries are left alone: their
        process outlives the scheduler, or their heartbeat stops and they become zombies.
        """
        with session_scope(readonly=True) as session:
            rows = claims.queued_tis(session)
            filelocs = dict(session.execute(select(DagModel.dag_id, DagModel.fileloc)).all())
        adopted = [
            dispatch.Dispatch(TaskKey(*row[:5]), filelocs[row.dag_id], row.queue)
            for row in rows
            if row.dag_id in filelocs
        ]
        if adopted:
            log.info("re-queueing %d %s", len(adopted), what)
        self._send(adopted)

    def _finish_job(self, state: str) -> None:
        """Close the Job row; with the database away, its heartbeat's age tells instead."""
        try:
            self.job.finish(state)
        except Exception as exc:
            if not is_outage(exc):
                raise
            log.warning("could not close the scheduler's job row: %s", first_line(exc))

    def _shutdown(self, state: str) -> None:
        self._ending = True
        try:
            self.executor.end()
        except StopNow:
            log.warning("second stop signal: stopping running tries now")
            self.executor.terminate()
        finally:
            self._finish_job(state)
            if self._listener is not None:
                self._listener.close()
