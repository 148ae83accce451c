"""``flowsched alerts``: check that alerts reach people before a real failure has to."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from flowsched.cli.errors import fail
from flowsched.config import conf
from flowsched.notify.delivery import deliver, email_delivery, webhook_delivery
from flowsched.notify.events import TaskEvent


def _sample_event() -> TaskEvent:
    """A failure alert that looks like a real one, so the test shows the real format."""
    now = datetime.now(UTC).replace(microsecond=0)
    return TaskEvent(
        kind="failure",
        dag_id="flowsched_alerts_test",
        task_id="alerts_test",
        run_id=f"manual__{now.isoformat()}",
        logical_date=now,
        state="failed",
        exception="AlertTest: sent by `flowsched alerts test`; nothing has failed.",
    )


@click.group()
def alerts() -> None:
    """Check the alert e-mail ([smtp]) and webhook ([alerts]) settings."""


@alerts.command("test")
@click.option("--email", "emails", multiple=True, metavar="ADDR", help="Send the test e-mail here.")
@click.option(
    "--webhook", "webhooks", multiple=True, metavar="URL", help="POST the test webhook here."
)
def test_alerts(emails: tuple[str, ...], webhooks: tuple[str, ...]) -> None:
    """Send a sample failure alert now and print what was sent.

    Without options, sends to [alerts] email and [alerts] webhook_urls. Both options may
    be repeated. Exits with status 1 when any message could not be sent.
    """
    if not emails and not webhooks:
        emails = tuple(conf.alerts.email)
        webhooks = tuple(conf.alerts.webhook_urls)
    if not emails and not webhooks:
        fail("nothing to send to: pass --email ADDR or --webhook URL, or set [alerts] email")
    event = _sample_event()
    deliveries = [email_delivery(event, emails)] if emails else []
    deliveries += [webhook_delivery(event, url) for url in webhooks]
    outcomes = deliver(deliveries)
    for outcome in outcomes:
        if outcome.sent is not None:
            click.echo(f"Sent {outcome.sent}")
    errors = [f"{o.target}: {o.error}" for o in outcomes if o.error is not None]
    if errors:
        fail("; ".join(errors))
