"""Who is told what, for one event (docs/how-to/alerts.md), and the two ways to send it.

The rules, which make alerts exact (one e-mail per failed try when asked, none otherwise):

- ``failure``: one e-mail to ``event.recipients`` if ``email_on_failure``; a webhook POST
  to each of ``event.webhook_urls`` and ``[alerts] webhook_urls``.
- ``retry``: one e-mail if ``email_on_retry``; no webhook. Chat channels get the final
  verdict, not every hiccup; a DAG author who wants retries there sets
  ``on_retry_callback=send_webhook_notification(url)``.
- ``dag_failure``: as ``failure``, with ``[alerts] email`` as the recipients when the
  event names none.
- ``sla_miss``: as ``dag_failure`` (the task's ``email``, else ``[alerts] email``; the
  webhooks), whatever ``email_on_failure`` says: an SLA is asked for explicitly.
- ``success``: nothing (``on_success_callback`` with a notifier is the way to ask).

Each event must be dispatched once; the caller (runner or scheduler) owns that.

Which entry point to use:

- the task runner calls ``dispatch(event)`` at the end of a try, after the try's state is
  committed (so downstream scheduling never waits for a mail server). It blocks at most
  max([smtp] timeout x (retries + 1), [alerts] webhook_timeout x (webhook_retries + 1)),
  plus the short backoffs and 0.5 s of grace: about 21 s with the defaults, milliseconds
  when the servers answer. A forked child that leaves with ``os._exit`` may instead use
  ``dispatch_in_background`` only if it joins the thread first: ``os._exit`` kills
  threads, and the alert with them.
- the scheduler, which must not wait at all, calls ``dispatch_in_background(event)``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from flowsched.config import conf
from flowsched.notify.delivery import (
    Delivery,
    deliver_logging_failures,
    describe,
    email_delivery,
    webhook_delivery,
)
from flowsched.notify.events import TaskEvent

logger = logging.getLogger("flowsched.notify")


def _unique(values: Iterable[str]) -> list[str]:
    """Non-empty values, first spelling kept, duplicates (ignoring case) dropped."""
    seen: set[str] = set()
    result = []
    for value in (v.strip() for v in values):
        if value and value.lower() not in seen:
            seen.add(value.lower())
            result.append(value)
    return result


def _recipients(event: TaskEvent) -> list[str]:
    if event.kind == "retry":
        wanted = event.email_on_retry
    elif event.kind == "sla_miss":
        wanted = True
    else:
        wanted = event.kind in ("failure", "dag_failure") and event.email_on_failure
    if not wanted:
        return []
    recipients = _unique(event.recipients)
    if not recipients and event.kind in ("dag_failure", "sla_miss"):
        recipients = _unique(conf.alerts.email)
    return recipients


def _webhook_urls(event: TaskEvent) -> list[str]:
    if event.kind not in ("failure", "dag_failure", "sla_miss"):
        return []
    return _unique([*event.webhook_urls, *conf.alerts.webhook_urls])


def plan(event: TaskEvent) -> list[Delivery]:
    """The messages ``event`` calls for, by the rules above."""
    deliveries = []
    recipients = _recipients(event)
    if recipients:
        deliveries.append(email_delivery(event, recipients))
    deliveries += [webhook_delivery(event, url) for url in _webhook_urls(event)]
    return deliveries


def dispatch(event: TaskEvent) -> None:
    """Send every alert ``event`` calls for; never raises, returns within the timeouts.

    Failures are logged on ``flowsched.notify`` at ERROR, one line each.
    """
    try:
        deliveries = plan(event)
    except Exception as exc:
        logger.error(
            "alerts for %r (run %s) not sent: %s", event.headline, event.run_id, describe(exc)
        )
        return
    deliver_logging_failures(event, deliveries)


def dispatch_in_background(event: TaskEvent) -> threading.Thread:
    """Start ``dispatch(event)`` in a thread and return it at once.

    The thread is not a daemon, so a process that exits normally still sends its alerts
    (bounded as ``dispatch`` is); ``join(timeout)`` on it is safe at any time.
    """
    thread = threading.Thread(
        target=dispatch, args=(event,), name=f"flowsched-dispatch {event.label}"
    )
    thread.start()
    return thread
