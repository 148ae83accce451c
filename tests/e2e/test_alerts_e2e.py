"""Alerts end to end (docs/how-to/alerts.md): real failing DAGs under the real scheduler
process, a real SMTP server (aiosmtpd) and a real HTTP webhook receiver on localhost; the
assertions are on what arrived.

- one e-mail per failed try when asked (retries=2: two retry mails, one failure mail),
  none when not asked; the DAG-level failure mail goes to ``[alerts] email``;
- the mail names DAG, task, run and try, has the end of that try's log and a link to it
  in the web UI (followed here through the real Flask app);
- the webhook gets the JSON on final failure only;
- an SMTP server that refuses or hangs changes no state and delays nobody by more than
  the notifier timeout.
"""

from __future__ import annotations

import html
import re
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select

from flowsched.db import session_scope
from flowsched.db.tables import TaskInstanceHistory
from tests.e2e.alert_servers import (
    HangingSmtp,
    Inbox,
    SmtpServer,
    WebhookReceiver,
    WebhookServer,
    free_port,
)
from tests.e2e.support import (
    Scheduler,
    finished_run,
    flowsched,
    runs_of,
    tis_of,
    wait_for,
    write_dag,
)

pytestmark = pytest.mark.e2e

DEADLINE = 60.0  # for any one condition; polled, so a quick machine never waits for it
BASE_URL = "http://flowsched.test:8080/ui/"  # a path prefix and a trailing slash, on purpose
ONCALL = "oncall@example.com"
OWNER = "dag-owner@example.com"
SMTP_TIMEOUT = 2.0  # [smtp] timeout for the misbehaving servers
BOUND = SMTP_TIMEOUT + 5  # how much later than "at once" another task may start


@pytest.fixture
def alert_env(scheduler: Scheduler, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Settings common to every test; the scheduler subprocess inherits them."""
    monkeypatch.setenv("FLOWSCHED__WEBSERVER__BASE_URL", BASE_URL)
    monkeypatch.setenv("FLOWSCHED__SMTP__HOST", "127.0.0.1")
    monkeypatch.setenv("FLOWSCHED__SMTP__MAIL_FROM", "flowsched@example.com")
    monkeypatch.setenv("FLOWSCHED__ALERTS__EMAIL", OWNER)
    monkeypatch.setenv("FLOWSCHED__ALERTS__WEBHOOK_URLS", "")
    return monkeypatch


@pytest.fixture
def inbox(alert_env: pytest.MonkeyPatch) -> Iterator[Inbox]:
    with SmtpServer() as inbox:
        alert_env.setenv("FLOWSCHED__SMTP__PORT", str(inbox.port))
        yield inbox


@pytest.fixture
def webhook(alert_env: pytest.MonkeyPatch) -> Iterator[WebhookReceiver]:
    with WebhookServer() as receiver:
        alert_env.setenv("FLOWSCHED__ALERTS__WEBHOOK_URLS", receiver.url)
        yield receiver


def log_url(dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
    """What the link to a try's log must be: base_url + the web UI's task-try path."""
    page = f"/dags/{dag_id}/runs/{quote(run_id, safe='')}/tasks/{task_id}"
    return f"{BASE_URL.rstrip('/')}{page}?map_index=-1&try={try_number}"


def fact(text: str, label: str) -> str:
    """The value of a ``Label:   value`` line of a mail body."""
    found = re.search(rf"^{re.escape(label)}:\s+(.*)$", text, re.MULTILINE)
    assert found, f"no {label!r} line in:\n{text}"
    return found.group(1).strip()


def seconds(later: datetime | None, earlier: datetime | None) -> float:
    assert later is not None and earlier is not None
    return (later - earlier).total_seconds()


def stop(scheduler: Scheduler) -> int:
    """SIGTERM; the scheduler and its workers send (or give up on) their alerts first."""
    try:
        return scheduler.stop(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        raise AssertionError(
            f"the scheduler did not stop within {DEADLINE:g} s: is an alert waiting on its "
            f"server without a deadline?\n{scheduler.output()[-3000:]}"
        ) from None


def tries_of(dag_id: str) -> list[tuple[str, int, str | None]]:
    """(task_id, try_number, state) of every recorded try, in order."""
    with session_scope(readonly=True) as session:
        rows = session.execute(
            select(
                TaskInstanceHistory.task_id,
                TaskInstanceHistory.try_number,
                TaskInstanceHistory.state,
            )
            .where(TaskInstanceHistory.dag_id == dag_id)
            .order_by(TaskInstanceHistory.task_id, TaskInstanceHistory.try_number)
        ).all()
    return [tuple(row) for row in rows]


# ---- 1-3, 5: a working SMTP server and webhook receiver ------------------------------

ALERTING_DAGS = """
    import pendulum
    from datetime import timedelta
    from flowsched import DAG, task

    START = pendulum.datetime(2024, 1, 1)

    with DAG("alerting", schedule=None, start_date=START):
        @task(retries=2, retry_delay=timedelta(seconds=1), email=["{oncall}"],
              email_on_failure=True, email_on_retry=True)
        def flaky(ti=None):
            print(f"checkpoint before failing: try {ti.try_number}")
            raise RuntimeError("disk quota exceeded on /data")

        flaky()

    with DAG("quiet", schedule=None, start_date=START):
        @task(retries=1, retry_delay=timedelta(seconds=1), email=["{oncall}"],
              email_on_failure=False, email_on_retry=False)
        def flags_off():
            raise RuntimeError("nobody is told by mail")

        @task(retries=1, retry_delay=timedelta(seconds=1))
        def no_email():
            raise RuntimeError("nobody to tell by mail")

        flags_off()
        no_email()
"""


def test_one_mail_per_failed_try_none_unasked_and_webhook_on_final_failure(
    inbox: Inbox, webhook: WebhookReceiver, scheduler: Scheduler, dags_folder: Path
) -> None:
    write_dag(dags_folder, "alerting", ALERTING_DAGS, oncall=ONCALL)
    scheduler.start()
    flowsched("dags", "trigger", "alerting")
    flowsched("dags", "trigger", "quiet")
    run = wait_for(lambda: finished_run("alerting"), "the alerting run to end", DEADLINE)
    quiet = wait_for(lambda: finished_run("quiet"), "the quiet run to end", DEADLINE)
    assert (run.state, quiet.state) == ("failed", "failed")
    flaky = {ti.task_id: ti for ti in tis_of("alerting")}["flaky"]
    assert (flaky.state, flaky.try_number) == ("failed", 3)

    # 3 task mails + 2 run mails; stopping the scheduler then lets any extra one arrive
    # (workers and the scheduler finish sending their alerts before they exit)
    wait_for(lambda: len(inbox.mails) >= 5, "5 alert e-mails", DEADLINE)
    wait_for(lambda: len(webhook.posts) >= 5, "5 webhook posts", DEADLINE)
    assert stop(scheduler) == 0

    # 1. exactly one mail per failed try when asked; none for the quiet DAG's tasks
    by_subject = {mail.subject: mail for mail in inbox.mails}
    assert sorted(mail.subject for mail in inbox.mails) == sorted(
        [
            "[flowsched] Up for retry: alerting.flaky (try 1/3)",
            "[flowsched] Up for retry: alerting.flaky (try 2/3)",
            "[flowsched] Failed: alerting.flaky (try 3/3)",
            f"[flowsched] Run failed: alerting (run {run.run_id})",
            f"[flowsched] Run failed: quiet (run {quiet.run_id})",
        ]
    )
    task_mails = [
        by_subject["[flowsched] Up for retry: alerting.flaky (try 1/3)"],
        by_subject["[flowsched] Up for retry: alerting.flaky (try 2/3)"],
        by_subject["[flowsched] Failed: alerting.flaky (try 3/3)"],
    ]

    # 2. each names DAG, task, run and try, with that try's log tail and a link to it
    for try_number, mail in enumerate(task_mails, start=1):
        text = mail.text
        assert mail.recipients == [ONCALL]
        assert fact(text, "DAG") == "alerting"
        assert fact(text, "Task") == "flaky"
        assert fact(text, "Run") == run.run_id
        assert fact(text, "Try") == f"{try_number} of 3"
        assert fact(text, "State") == ("failed" if try_number == 3 else "up_for_retry")
        assert "RuntimeError: disk quota exceeded on /data" in text
        assert f"checkpoint before failing: try {try_number}" in text  # the log tail
        for other in {1, 2, 3} - {try_number}:
            assert f"checkpoint before failing: try {other}" not in text
        url = log_url("alerting", run.run_id, "flaky", try_number)
        assert fact(text, "Log") == url
        assert f'href="{html.escape(url)}"' in mail.message.get_body(("html",)).get_content()

    # 5. the DAG-level failure goes to [alerts] email, with a link to the run
    for dag_id, dag_run in (("alerting", run), ("quiet", quiet)):
        mail = by_subject[f"[flowsched] Run failed: {dag_id} (run {dag_run.run_id})"]
        assert mail.recipients == [OWNER]
        assert fact(mail.text, "DAG") == dag_id
        assert fact(mail.text, "Run") == dag_run.run_id
        assert fact(mail.text, "State") == "failed"
        run_path = f"/dags/{dag_id}/runs/{quote(dag_run.run_id, safe='')}"
        assert f"\nRun: {BASE_URL.rstrip('/')}{run_path}\n" in mail.text

    # 3. the webhook: final failures (and failed runs) only, never a retry
    assert sorted((p["dag_id"], p["task_id"] or "", p["kind"]) for p in webhook.posts) == [
        ("alerting", "", "dag_failure"),
        ("alerting", "flaky", "failure"),
        ("quiet", "", "dag_failure"),
        ("quiet", "flags_off", "failure"),
        ("quiet", "no_email", "failure"),
    ]
    [post] = [p for p in webhook.posts if p["task_id"] == "flaky"]
    url = log_url("alerting", run.run_id, "flaky", 3)
    assert {key: post[key] for key in ("dag_id", "task_id", "run_id", "try_number", "state")} == {
        "dag_id": "alerting",
        "task_id": "flaky",
        "run_id": run.run_id,
        "try_number": 3,
        "state": "failed",
    }
    assert post["log_url"] == url
    assert post["text"].startswith("[flowsched] Failed: alerting.flaky (try 3/3)")
    assert f"<{url}|View log>" in post["text"]
    assert "disk quota exceeded on /data" in post["text"]

    # the link is a real page of the web UI, and the log it shows is that try's
    for try_number in (1, 3):
        log = log_behind_link(log_url("alerting", run.run_id, "flaky", try_number))
        assert f"checkpoint before failing: try {try_number}" in log

    shown = task_mails[1]
    headers = "".join(f"{key}: {shown.message[key]}\n" for key in ("From", "To", "Subject"))
    print(f"\n---- one received alert e-mail (text part) ----\n{headers}\n{shown.text}")


def log_behind_link(url: str) -> str:
    """Open ``url`` in the real Flask app as a logged-in viewer; the log text it shows."""
    from flowsched.db.tables import User
    from flowsched.operations.users import create_user
    from webui.app import create_app

    with session_scope() as session:
        if session.scalar(select(User).where(User.username == "reader")) is None:
            create_user(session, "reader", "reader-password-1", "viewer", actor="test")
    app = create_app({"TESTING": True})
    with app.test_client() as client:
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        login = {"username": "reader", "password": "reader-password-1", "csrf_token": token}
        assert client.post("/login", data=login).status_code == 302
        response = client.get(url.removeprefix(BASE_URL.rstrip("/")))
        assert response.status_code == 200, response.get_data(as_text=True)[:2000]
        page = response.get_data(as_text=True)
        data_url = html.unescape(re.search(r'id="log" class="log"\s+data-url="([^"]+)"', page)[1])
        log = client.get(data_url)
        assert log.status_code == 200
        return log.get_json()["content"]


# ---- 4: a mail server that refuses or hangs ------------------------------------------

# The same DAG twice: "alerted" mails its failures, "control" does not. ``side_a`` ends only
# once ``fail``'s first try is recorded as up for retry (so the alert about it is being
# sent as ``side_b`` becomes ready).
BROKEN_SMTP_DAGS = """
    import time
    import pendulum
    from datetime import timedelta
    from pathlib import Path
    from flowsched import DAG, task

    LOGS = Path("{home}") / "logs"

    def build(dag_id, email):
        with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2024, 1, 1)) as dag:
            @task(retries=1, retry_delay=timedelta(seconds=1), email=email)
            def fail():
                print("failing on purpose")
                raise RuntimeError("boom")

            @task
            def side_a():
                pattern = f"dag_id={dag_id}/run_id=*/task_id=fail/attempt=1.log"
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    if any("UP_FOR_RETRY" in p.read_text() for p in LOGS.glob(pattern)):
                        return
                    time.sleep(0.1)
                raise RuntimeError("fail's first try never ended")

            @task
            def side_b():
                pass

            fail()
            side_a() >> side_b()
        return dag

    alerted = build("alerted", ["{oncall}"])
    control = build("control", [])
"""


@pytest.mark.parametrize("server", ["refusing", "hanging"])
def test_a_broken_mail_server_changes_no_state_and_delays_nobody(
    server: str,
    alert_env: pytest.MonkeyPatch,
    scheduler: Scheduler,
    dags_folder: Path,
    home: Path,
) -> None:
    alert_env.setenv("FLOWSCHED__SMTP__TIMEOUT", str(SMTP_TIMEOUT))
    alert_env.setenv("FLOWSCHED__SMTP__RETRIES", "1")
    with HangingSmtp() as hanging:
        port = hanging.port if server == "hanging" else free_port()
        alert_env.setenv("FLOWSCHED__SMTP__PORT", str(port))
        write_dag(dags_folder, "broken_smtp", BROKEN_SMTP_DAGS, home=home, oncall=ONCALL)
        scheduler.start()
        flowsched("dags", "trigger", "alerted")
        flowsched("dags", "trigger", "control")
        for dag_id in ("alerted", "control"):
            wait_for(lambda d=dag_id: finished_run(d), f"the {dag_id} run to end", DEADLINE)
        # 4 alerts (retry, failure, two failed runs), each tried twice ([smtp] retries = 1)
        attempts = 4 * 2 if server == "hanging" else 0
        wait_for(lambda: hanging.connections >= attempts, "every attempt to connect", DEADLINE)
        assert stop(scheduler) == 0
        assert hanging.connections == attempts
    output = scheduler.output()

    # the run and every try end exactly as without alerts
    outcome = {}
    for dag_id in ("alerted", "control"):
        [run] = runs_of(dag_id)
        tis = {ti.task_id: (ti.state, ti.try_number) for ti in tis_of(dag_id)}
        outcome[dag_id] = (run.state, tis, tries_of(dag_id))
    assert outcome["alerted"] == outcome["control"]
    assert outcome["alerted"] == (
        "failed",
        {"fail": ("failed", 2), "side_a": ("success", 1), "side_b": ("success", 1)},
        [
            ("fail", 1, "up_for_retry"),
            ("fail", 2, "failed"),
            ("side_a", 1, "success"),
            ("side_b", 1, "success"),
        ],
    )
    # the alerts failed loudly, not silently
    cause = "Connection refused" if server == "refusing" else "timed out"
    for headline in (
        r"Up for retry: alerted\.fail \(try 1/2\)",
        r"Failed: alerted\.fail \(try 2/2\)",
    ):
        assert re.search(rf"alert '{headline}' .* not sent: e-mail to {ONCALL}: .*{cause}", output)
    assert re.search(
        rf"alert 'Run failed: alerted .* not sent: e-mail to {OWNER}: .*{cause}", output
    )

    # nobody waited on the mail server beyond the notifier timeout (from TI timestamps)
    [run] = runs_of("alerted")
    tis = {ti.task_id: ti for ti in tis_of("alerted")}
    gap = seconds(tis["side_b"].start_date, tis["side_a"].end_date)
    assert gap <= BOUND, f"side_b started {gap:.1f} s after side_a ended"
    with session_scope(readonly=True) as session:
        first, second = session.scalars(
            select(TaskInstanceHistory)
            .where(TaskInstanceHistory.dag_id == "alerted", TaskInstanceHistory.task_id == "fail")
            .order_by(TaskInstanceHistory.try_number)
        ).all()
        retry_gap = seconds(second.start_date, first.end_date)
    assert 1.0 <= retry_gap <= 1.0 + BOUND, f"the retry started {retry_gap:.1f} s after try 1"
    last_end = max(ti.end_date for ti in tis.values() if ti.end_date is not None)
    finish_gap = seconds(run.end_date, last_end)
    assert finish_gap <= BOUND, f"the run ended {finish_gap:.1f} s after its last task"
