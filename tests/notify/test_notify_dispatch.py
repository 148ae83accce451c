"""Who gets what (docs/how-to/alerts.md), and that no mail or webhook server can hurt the caller."""

import logging
import time

import pytest

from flowsched.notify import dispatch, dispatch_in_background
from flowsched.notify.email import SmtpSettings
from flowsched.notify.webhook import webhook_worst_case

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def errors(caplog):
    caplog.set_level(logging.ERROR, logger="flowsched.notify")
    return caplog


def _lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "flowsched.notify"]


def test_failed_try_sends_one_mail_to_each_recipient_once(smtp_server, make_event):
    dispatch(make_event(recipients=["a@example.com", "A@example.com", "b@example.com", " "]))

    assert len(smtp_server.messages) == 1
    assert smtp_server.envelopes == [["a@example.com", "b@example.com"]]


@pytest.mark.parametrize(
    ("kind", "on_failure", "on_retry", "mails"),
    [
        ("failure", True, False, 1),
        ("failure", False, True, 0),
        ("retry", False, True, 1),
        ("retry", True, False, 0),
        ("success", True, True, 0),
    ],
)
def test_email_flags_decide(smtp_server, make_event, kind, on_failure, on_retry, mails):
    dispatch(make_event(kind=kind, email_on_failure=on_failure, email_on_retry=on_retry))

    assert len(smtp_server.messages) == mails
    if kind == "retry" and mails:
        assert smtp_server.messages[0]["Subject"] == "[flowsched] Up for retry: etl.load (try 2/3)"


def test_no_recipients_no_mail(smtp_server, make_event):
    dispatch(make_event(recipients=[]))

    assert smtp_server.data_commands == 0


def test_run_failure_falls_back_to_the_configured_recipients(smtp_server, make_event, monkeypatch):
    monkeypatch.setenv("FLOWSCHED__ALERTS__EMAIL", "ops@example.com,data@example.com")

    dispatch(make_event(kind="dag_failure", task_id=None, recipients=[]))

    assert smtp_server.envelopes == [["ops@example.com", "data@example.com"]]


def test_an_sla_miss_mails_the_task_owners_else_the_configured_recipients(
    smtp_server, make_event, monkeypatch
):
    monkeypatch.setenv("FLOWSCHED__ALERTS__EMAIL", "ops@example.com")

    dispatch(make_event(kind="sla_miss", recipients=["owner@example.com"], email_on_failure=False))
    dispatch(make_event(kind="sla_miss", recipients=[]))

    assert smtp_server.envelopes == [["owner@example.com"], ["ops@example.com"]]
    assert "SLA missed: " in smtp_server.messages[0]["Subject"]


def test_failure_posts_to_event_and_configured_webhooks(webhook_server, make_event, monkeypatch):
    monkeypatch.setenv("FLOWSCHED__ALERTS__WEBHOOK_URLS", webhook_server.url + "?global")

    dispatch(make_event(recipients=[], webhook_urls=[webhook_server.url]))

    assert sorted(r["path"] for r in webhook_server.requests) == [
        "/services/T000/SECRET-TOKEN",
        "/services/T000/SECRET-TOKEN?global",
    ]
    body = webhook_server.requests[0]["json"]
    assert body["kind"] == "failure" and body["dag_id"] == "etl" and body["task_id"] == "load"
    assert body["try_number"] == 2 and body["state"] == "failed"
    assert body["logical_date"] == "2025-03-02T07:00:00+00:00"
    assert body["log_url"] == make_event().log_url
    assert body["text"].startswith("[flowsched] Failed: etl.load (try 2/3)")


def test_retry_posts_no_webhook(webhook_server, make_event):
    dispatch(make_event(kind="retry", recipients=[], webhook_urls=[webhook_server.url]))

    assert webhook_server.requests == []


def test_failing_webhook_is_retried_a_bounded_number_of_times_then_logged(
    webhook_server, make_event, errors
):
    webhook_server.statuses = [500]

    dispatch(make_event(recipients=[], webhook_urls=[webhook_server.url]))

    assert len(webhook_server.requests) == 3  # [alerts] webhook_retries = 2
    [line] = _lines(errors)
    assert "webhook http://127.0.0.1:" in line and "HTTP 500" in line
    assert "SECRET-TOKEN" not in line


def test_refused_smtp_connection_is_logged_not_raised(refusing_smtp, make_event, errors):
    started = time.monotonic()
    dispatch(make_event())

    assert time.monotonic() - started < SmtpSettings.from_conf().worst_case
    [line] = _lines(errors)
    assert "not sent: e-mail to oncall@example.com: ConnectionRefusedError" in line
    assert "Failed: etl.load (try 2/3)" in line and "\n" not in line


def test_mail_that_may_have_arrived_is_not_sent_again(smtp_server, make_event, errors):
    smtp_server.answer_delay = SmtpSettings.from_conf().timeout + 0.3  # DATA answer too late

    dispatch(make_event())

    assert smtp_server.data_commands == 1
    [line] = _lines(errors)
    assert "DeliveryUnknown" in line and "may have arrived" in line


def test_silent_smtp_and_webhook_servers_cost_one_bounded_wait(
    hanging_smtp, silent_listener, make_event, errors
):
    event = make_event(webhook_urls=[f"http://127.0.0.1:{silent_listener}/hook"])
    budget = max(SmtpSettings.from_conf().worst_case, webhook_worst_case())

    started = time.monotonic()
    dispatch(event)
    elapsed = time.monotonic() - started

    assert elapsed < budget + 0.6  # both wait in parallel, each within its own budget
    lines = _lines(errors)
    assert len(lines) == 2
    assert any("e-mail to oncall@example.com:" in line and "timed out" in line for line in lines)
    assert any("webhook http://127.0.0.1:" in line and "TimeoutError" in line for line in lines)


def test_endless_smtp_greeting_is_cut_off_by_the_deadline(trickling_smtp, make_event, errors):
    budget = SmtpSettings.from_conf().worst_case + 0.5

    started = time.monotonic()
    dispatch(make_event())

    assert time.monotonic() - started < budget + 0.3
    [line] = _lines(errors)
    assert "stopped waiting" in line


def test_background_dispatch_returns_at_once_and_finishes_within_the_timeouts(
    hanging_smtp, make_event, errors
):
    started = time.monotonic()
    thread = dispatch_in_background(make_event())
    assert time.monotonic() - started < 0.2
    assert not thread.daemon

    thread.join(timeout=SmtpSettings.from_conf().worst_case + 1)
    assert not thread.is_alive()
    assert len(_lines(errors)) == 1
