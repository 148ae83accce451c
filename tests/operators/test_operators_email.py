"""EmailOperator: an HTML mail through the [smtp] server, to a real SMTP inbox."""

from __future__ import annotations

import pendulum
import pytest

from flowsched import DAG
from flowsched.authoring.context import make_context
from flowsched.operators.email import EmailOperator
from tests.e2e.alert_servers import SmtpServer


@pytest.fixture
def inbox(monkeypatch, migrated_db):
    with SmtpServer() as inbox:
        monkeypatch.setenv("FLOWSCHED__SMTP__HOST", "127.0.0.1")
        monkeypatch.setenv("FLOWSCHED__SMTP__PORT", str(inbox.port))
        monkeypatch.setenv("FLOWSCHED__SMTP__MAIL_FROM", "flowsched@example.com")
        yield inbox


def send(**kwargs):
    with DAG("mail", start_date=pendulum.datetime(2024, 1, 1)):
        task = EmailOperator(task_id="send", **kwargs)
    context = make_context(
        dag=task.dag, task=task, run_id="r", logical_date=pendulum.datetime(2024, 3, 10)
    )
    task.render_template_fields(context)
    task.execute(context)


def test_sends_the_rendered_html_to_every_recipient_with_attachments(inbox, tmp_path):
    report = tmp_path / "report.csv"
    report.write_text("a,b\n1,2\n")
    send(
        to="ops@example.com; lead@example.com",
        cc=["cc@example.com"],
        bcc="hidden@example.com",
        subject="Report for {{ ds }}",
        html_content="<h1>Done on {{ ds }}</h1>",
        files=[str(report)],
        custom_headers={"X-Team": "data"},
    )
    (mail,) = inbox.mails
    assert sorted(mail.recipients) == [
        "cc@example.com",
        "hidden@example.com",
        "lead@example.com",
        "ops@example.com",
    ]
    message = mail.message
    assert message["Subject"] == "Report for 2024-03-10"
    assert message["From"] == "flowsched@example.com"
    assert message["Bcc"] is None  # blind copies stay blind
    assert message["X-Team"] == "data"
    assert message.get_body(("html",)).get_content().strip() == "<h1>Done on 2024-03-10</h1>"
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "report.csv"
    assert attachment.get_content() == "a,b\n1,2\n"


def test_a_refused_send_fails_the_task(monkeypatch, migrated_db):
    monkeypatch.setenv("FLOWSCHED__SMTP__HOST", "127.0.0.1")
    monkeypatch.setenv("FLOWSCHED__SMTP__PORT", "1")  # nothing listens there
    monkeypatch.setenv("FLOWSCHED__SMTP__RETRIES", "0")
    with pytest.raises(OSError):
        send(to="ops@example.com", subject="s", html_content="<p>x</p>")
