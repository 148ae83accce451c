"""CeleryExecutor: tries go to a Celery broker (Redis or RabbitMQ), ``flowsched worker``s run them.

Each try is one message, published to the operator's ``queue``. How a try ended is read
from the metadata database, not from a Celery result backend: the runner (or its
supervisor, or the scheduler's zombie handling) records the end there in any case, so
one query every ``POLL_INTERVAL`` for all the tries in flight, while any is, is the
whole cost of knowing, and there is no second store that could disagree with the first.

Recovery, since messages are acknowledged as a try starts (see ``celery_app``):

- a worker that dies while its try runs leaves a ``running`` TI whose heartbeat stops:
  the scheduler's zombie detection retries it;
- a message lost before its try claimed the TI (broker restarted without persistence,
  worker killed between acknowledging and claiming) leaves a ``queued`` TI: after
  ``[celery] task_queued_timeout`` seconds any scheduler's executor re-sends it, whoever
  queued it, and the runner's guarded ``queued -> running`` lets only one copy run;
- a broker that cannot be reached keeps the messages here, sent again every
  ``SEND_RETRY`` seconds, instead of stopping the scheduler.

The tries belong to the workers, not to the scheduler that queued them: ``end`` and
``terminate`` leave them running (a restarted or second scheduler follows them through
the database), which is what lets several schedulers share the work.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from celery import Celery
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import OperationalError as DatabaseError

from flowsched.config import conf
from flowsched.db.tables import utcnow
from flowsched.executors.base import BaseExecutor
from flowsched.executors.celery_app import create_app
from flowsched.executors.celery_message import TASK_NAME, message_args
from flowsched.executors.celery_tracking import claim_stale_queued, ended_tries
from flowsched.tries import ExecutorEvent, TaskKey

logger = logging.getLogger("flowsched.executor")

POLL_INTERVAL = 0.05  # seconds between looks at the tries in flight
SEND_RETRY = 2.0  # seconds between attempts to reach a broker that failed


class CeleryExecutor(BaseExecutor):
    name = "celery"

    def __init__(self, parallelism: int | None = None, queued_timeout: float | None = None):
        self.parallelism = parallelism or conf.core.parallelism
        if queued_timeout is None:
            queued_timeout = conf.celery.task_queued_timeout
        self.queued_timeout = queued_timeout
        self._app: Celery | None = None
        self._in_flight: set[TaskKey] = set()
        self._unsent: dict[TaskKey, tuple[str, str]] = {}  # key -> (fileloc, queue)
        self._next_poll = 0.0
        self._next_stale_check = 0.0
        self._next_send = 0.0

    # --- the scheduler's side ----------------------------------------------------------

    def start(self) -> None:
        self._app = create_app()
        self._next_stale_check = time.monotonic() + self._stale_check_interval

    def queue_task(self, key: TaskKey, fileloc: str, *, queue: str = "default") -> None:
        self._in_flight.add(key)
        self._unsent[key] = (fileloc, queue)
        self._send_unsent()

    def free_slots(self) -> int:
        return max(0, self.parallelism - len(self._in_flight))

    def wait_for_events(self, timeout: float) -> list[ExecutorEvent]:
        deadline = time.monotonic() + timeout
        while True:
            events = self._tick()
            now = time.monotonic()
            if events or now >= deadline:
                return events
            time.sleep(max(0.0, min(deadline, self._next_wake()) - now))

    def end(self) -> None:
        """Publish what is still unsent, if the broker allows; the tries run on."""
        if self._app is not None:
            self._next_send = 0.0
            self._send_unsent()
        self.terminate()

    def terminate(self) -> None:
        """Forget the tries in flight (they run on); drop the broker connections."""
        self._in_flight.clear()
        self._unsent.clear()
        if self._app is not None:
            self._app.close()
            self._app = None

    # --- bookkeeping -------------------------------------------------------------------

    @property
    def _stale_check_interval(self) -> float:
        """A lost message is re-sent between 1 and 1.25 timeouts after it was queued."""
        return self.queued_timeout / 4

    def _tick(self) -> list[ExecutorEvent]:
        self._send_unsent()
        now = time.monotonic()
        try:
            if now >= self._next_stale_check:
                self._next_stale_check = now + self._stale_check_interval
                self._resend_stale()
            if self._in_flight and now >= self._next_poll:
                self._next_poll = now + POLL_INTERVAL
                return self._ended()
        except DatabaseError as exc:  # the database is away for a moment: look again later
            logger.warning("CeleryExecutor: database error, retrying: %s", exc.orig or exc)
        return []

    def _next_wake(self) -> float:
        wake = self._next_stale_check
        if self._in_flight:
            wake = min(wake, self._next_poll)
        if self._unsent:
            wake = min(wake, self._next_send)
        return wake

    def _ended(self) -> list[ExecutorEvent]:
        events = ended_tries(self._in_flight)
        for event in events:
            self._in_flight.discard(event.key)
            self._unsent.pop(event.key, None)
        return events

    def _resend_stale(self) -> None:
        now = utcnow()
        cutoff = now - timedelta(seconds=self.queued_timeout)
        for key, fileloc, queue in claim_stale_queued(self.name, cutoff, now):
            logger.warning(
                "%s still queued after %g s: its message was lost or no worker serves "
                "queue %r; sending it again",
                key,
                self.queued_timeout,
                queue,
            )
            self.queue_task(key, fileloc, queue=queue)

    def _send_unsent(self) -> None:
        """Publish the unsent messages, unless the broker failed less than SEND_RETRY ago
        (each failed attempt blocks the scheduler for the publish retries)."""
        assert self._app is not None, "CeleryExecutor.start() was not called"
        if time.monotonic() < self._next_send:
            return
        for key, (fileloc, queue) in list(self._unsent.items()):
            try:
                self._app.send_task(TASK_NAME, args=message_args(key, fileloc), queue=queue)
            except (BrokerError, OSError) as exc:
                logger.error(
                    "cannot reach the Celery broker (%s): %d tries wait to be sent",
                    exc,
                    len(self._unsent),
                )
                self._next_send = time.monotonic() + SEND_RETRY
                return
            del self._unsent[key]
