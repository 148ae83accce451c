"""The callbacks DAG authors attach: they read whatever context they get and never raise."""

import logging
from datetime import UTC, datetime
from types import SimpleNamespace

from flowsched.notify import send_email_notification, send_webhook_notification
from flowsched.notify.notifiers import event_from_context

LOGICAL_DATE = datetime(2025, 3, 2, 7, 0, tzinfo=UTC)


def _task_context(state="failed", **extra):
    ti = SimpleNamespace(
        dag_id="etl", task_id="load", run_id="manual__1", map_index=-1, try_number=2, state=state
    )
    context = {
        "dag": SimpleNamespace(dag_id="etl"),
        "task": SimpleNamespace(task_id="load", retries=2),
        "ti": ti,
        "run_id": "manual__1",
        "logical_date": LOGICAL_DATE,
        "exception": ValueError("boom"),
    }
    context.update(extra)
    return context


def test_task_context_becomes_a_try_event():
    event = event_from_context(_task_context())

    assert (event.kind, event.dag_id, event.task_id, event.run_id) == (
        "failure",
        "etl",
        "load",
        "manual__1",
    )
    assert (event.try_number, event.max_tries, event.state) == (2, 3, "failed")
    assert event.exception == "ValueError: boom"
    assert event.logical_date == LOGICAL_DATE


def test_sparse_contexts_still_make_an_event():
    assert event_from_context(_task_context(state="up_for_retry")).kind == "retry"
    run_event = event_from_context({"dag": SimpleNamespace(dag_id="etl"), "run_id": "r1"})
    assert (run_event.kind, run_event.task_id, run_event.logical_date) == (
        "dag_failure",
        None,
        None,
    )
    assert event_from_context({}).dag_id == "unknown"


def test_webhook_notifier_posts_the_context(webhook_server):
    send_webhook_notification(webhook_server.url)(_task_context())

    [request] = webhook_server.requests
    body = request["json"]
    assert (body["dag_id"], body["task_id"], body["try_number"]) == ("etl", "load", 2)
    assert body["exception"] == "ValueError: boom"


def test_email_notifier_mails_whoever_it_was_given(smtp_server):
    send_email_notification(["a@example.com", "b@example.com"])(_task_context())

    assert smtp_server.envelopes == [["a@example.com", "b@example.com"]]
    assert smtp_server.messages[0]["Subject"] == "[flowsched] Failed: etl.load (try 2/3)"


def test_failing_notifier_logs_instead_of_raising(refusing_smtp, caplog):
    caplog.set_level(logging.ERROR, logger="flowsched.notify")

    send_email_notification("a@example.com")(_task_context())

    [record] = caplog.records
    assert "e-mail to a@example.com: ConnectionRefusedError" in record.getMessage()
