"""Sending alerts without letting a bad mail or webhook server hurt the caller.

Each message is sent in its own daemon thread and the caller waits for it no longer than
the worst case its settings allow (plus a little grace). Socket timeouts alone do not give
that bound: name resolution ignores them and a server that trickles bytes resets them. A
sender still running when its time is up is left behind (it cannot stop the process from
exiting) and reported as an error.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from smtplib import SMTPResponseException

from flowsched.notify.email import SmtpSettings, render_email, send_email
from flowsched.notify.events import TaskEvent
from flowsched.notify.webhook import post_webhook, redact_url, webhook_payload, webhook_worst_case

logger = logging.getLogger("flowsched.notify")

GRACE_SECONDS = 0.5  # thread start, rendering and the last attempt's own overhead


@dataclass(frozen=True)
class Delivery:
    """One message for one channel, not yet sent."""

    target: str  # for people: "e-mail to a@example.com", "webhook https://host/…"
    send: Callable[[], str]  # sends; returns what was sent, for people
    budget: float  # seconds the caller waits for ``send``


@dataclass(frozen=True)
class Outcome:
    target: str
    sent: str | None  # what ``send`` returned, when it succeeded in time
    error: str | None  # one line, when it did not


def email_delivery(event: TaskEvent, recipients: Sequence[str]) -> Delivery:
    """The alert e-mail for ``event`` to ``recipients``."""
    event = replace(event, recipients=list(recipients))
    settings = SmtpSettings.from_conf()

    def send() -> str:
        msg = render_email(event)
        send_email(msg, settings)
        return f"e-mail {msg['Subject']!r} to {msg['To']} via {settings.host}:{settings.port}"

    return Delivery(f"e-mail to {', '.join(recipients)}", send, settings.worst_case + GRACE_SECONDS)


def webhook_delivery(event: TaskEvent, url: str) -> Delivery:
    """The webhook POST for ``event`` to ``url``."""
    target = f"webhook {redact_url(url)}"

    def send() -> str:
        status = post_webhook(url, webhook_payload(event))
        return f"{target} (HTTP {status})"

    return Delivery(target, send, webhook_worst_case() + GRACE_SECONDS)


def describe(exc: BaseException) -> str:
    """One line saying what went wrong, without the wrappers' noise."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        exc = exc.reason
    if isinstance(exc, SMTPResponseException):
        answer = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else exc.smtp_error
        )
        text = f"server answered {exc.smtp_code} {answer}"
    else:
        text = str(exc)
    text = " ".join(text.split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Sender(threading.Thread):
    def __init__(self, delivery: Delivery) -> None:
        super().__init__(name=f"flowsched-notify {delivery.target}", daemon=True)
        self.delivery = delivery
        self.sent: str | None = None
        self.error: str | None = None

    def run(self) -> None:
        try:
            self.sent = self.delivery.send()
        except Exception as exc:
            self.error = describe(exc)


def deliver(deliveries: Sequence[Delivery]) -> list[Outcome]:
    """Send all at once; return within the largest budget, whatever the servers do."""
    started = time.monotonic()
    senders = [_Sender(delivery) for delivery in deliveries]
    for sender in senders:
        sender.start()
    outcomes = []
    for sender in senders:
        budget = sender.delivery.budget
        sender.join(max(0.0, started + budget - time.monotonic()))
        if sender.is_alive():
            error = f"no result within {budget:.1f} s, stopped waiting (server too slow?)"
            outcomes.append(Outcome(sender.delivery.target, None, error))
        else:
            outcomes.append(Outcome(sender.delivery.target, sender.sent, sender.error))
    return outcomes


def deliver_logging_failures(event: TaskEvent, deliveries: Sequence[Delivery]) -> None:
    """Send ``deliveries`` for ``event`` (as ``deliver``); one ERROR line per message that
    did not go out, since alerts sent for a task must never raise into it."""
    for outcome in deliver(deliveries):
        if outcome.error is not None:
            logger.error(
                "alert %r (run %s) not sent: %s: %s",
                event.headline,
                event.run_id,
                outcome.target,
                outcome.error,
            )
