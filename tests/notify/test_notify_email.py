"""The alert e-mail: what it says, and that it reaches a real SMTP server exactly once."""

import smtplib

import pytest

from flowsched.masking import register_secret
from flowsched.notify.email import render_email, send_email

RUN_ID = "scheduled__2025-03-02T07:00:00+00:00"


def _tail_of(body: str) -> list[str]:
    lines = body.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Last "))
    return lines[start + 1 :]


def test_mail_names_the_try_and_carries_the_log_tail_and_link(smtp_server, make_event, tmp_path):
    log = tmp_path / "attempt=2.log"
    log.write_text("".join(f"line {i:03d}\n" for i in range(1, 201)))
    event = make_event(log_path=log, map_index=3)

    send_email(render_email(event))

    [msg] = smtp_server.messages
    assert smtp_server.envelopes == [["oncall@example.com"]]
    assert msg["Subject"] == "[flowsched] Failed: etl.load[3] (try 2/3)"
    assert msg["From"] == "alerts@flowsched.test"
    assert msg["To"] == "oncall@example.com"
    plain = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for fact in ("DAG:", "etl", "Task:", "load", "Map index:", RUN_ID, "Logical date:"):
        assert fact in plain
    assert "2025-03-02T07:00:00+00:00" in plain
    assert "Try:" in plain and "2 of 3" in plain
    assert "ValueError: bad row 17" in plain and "worker-1" in plain
    assert f"Log: {event.log_url}" in plain
    assert f"Last 50 lines of the log ({log}):" in plain
    assert _tail_of(plain) == [f"line {i:03d}" for i in range(151, 201)]
    assert "line 150" not in html and "line 151" in html and "line 200" in html
    assert event.log_url.replace("&", "&amp;") in html


def test_html_part_escapes_log_and_values(smtp_server, make_event, tmp_path):
    log = tmp_path / "attempt=2.log"
    log.write_text("<script>alert('log')</script>\n")
    event = make_event(log_path=log, exception="<b>bold</b> & co")

    send_email(render_email(event))

    html = smtp_server.messages[0].get_body(("html",)).get_content()
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#x27;log&#x27;)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html


def test_registered_secrets_are_masked_in_the_exception(smtp_server, make_event):
    register_secret("tok-9f8e7d6c")
    send_email(render_email(make_event(exception="login failed with tok-9f8e7d6c")))

    plain = smtp_server.messages[0].get_body(("plain",)).get_content()
    assert "tok-9f8e7d6c" not in plain and "login failed with ***" in plain


def test_unreadable_log_is_reported_in_the_mail(smtp_server, make_event, tmp_path):
    missing = tmp_path / "gone.log"
    send_email(render_email(make_event(log_path=missing)))

    plain = smtp_server.messages[0].get_body(("plain",)).get_content()
    assert f"Log file {missing} could not be read" in plain


def test_run_failure_mail_links_to_the_run(smtp_server, make_event):
    event = make_event(kind="dag_failure", task_id=None, state="failed")
    send_email(render_email(event))

    msg = smtp_server.messages[0]
    # a long subject is folded; Python's parser keeps the folding space, mail clients do not
    assert msg["Subject"].strip() == f"[flowsched] Run failed: etl (run {RUN_ID})"
    plain = msg.get_body(("plain",)).get_content()
    assert f"Run: {event.log_url}" in plain and "Try:" not in plain


def test_temporary_refusal_is_retried_into_one_mail(smtp_server, make_event):
    smtp_server.answers = ["451 4.3.0 try again later"]

    send_email(render_email(make_event()))

    assert smtp_server.data_commands == 2
    assert len(smtp_server.messages) == 1


def test_permanent_refusal_is_not_retried(smtp_server, make_event):
    smtp_server.answers = ["554 5.7.1 rejected"]

    with pytest.raises(smtplib.SMTPDataError):
        send_email(render_email(make_event()))
    assert smtp_server.data_commands == 1
    assert smtp_server.messages == []
