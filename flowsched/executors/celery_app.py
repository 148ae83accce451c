"""The flowsched Celery app, configured from ``[celery]`` when it is made.

A factory rather than a module-level app: the broker URL is read when the scheduler's
executor starts or ``flowsched worker`` starts, not when this module is first imported.

Delivery choices, and why:

- ``task_acks_late = False``: a worker acknowledges a message as it starts the try. The
  database, not the broker, recovers what goes wrong after that: a try whose worker dies
  while running stops heartbeating and the scheduler retries it as a zombie; a message
  lost before its try claimed the task instance leaves the TI ``queued``, and the
  executor re-sends it after ``[celery] task_queued_timeout``. Late acks would add
  nothing but duplicate deliveries (RabbitMQ re-delivers a dead worker's messages at
  once, Redis after its visibility timeout, even to a try still running elsewhere) and
  would make RabbitMQ close the channel of any try longer than its 30-minute
  acknowledgement timeout.
- ``worker_prefetch_multiplier = 1``: a busy worker holds back at most one message per
  pool process, so a long try does not sit on work that an idle worker could run.
- No result backend: the try's state, XComs and log are in the database and log folder;
  a second copy of the outcome in a result backend could only disagree with them.
"""

from __future__ import annotations

from celery import Celery

from flowsched.config import conf
from flowsched.executors.celery_message import TASK_NAME
from flowsched.executors.celery_task import run_try_message

# How long publishing a message may block the scheduler when the broker is unreachable
# before the executor keeps the message to send again later.
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2}
BROKER_CONNECT_TIMEOUT = 2.0


def create_app() -> Celery:
    app = Celery("flowsched", broker=conf.celery.broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=False,
        worker_prefetch_multiplier=1,
        task_default_queue=conf.celery.default_queue,
        task_publish_retry_policy=PUBLISH_RETRY_POLICY,
        broker_connection_timeout=BROKER_CONNECT_TIMEOUT,
        broker_connection_retry_on_startup=True,
    )
    app.task(name=TASK_NAME)(run_try_message)
    return app
