"""The failure policy: retries, their delays, and what is recorded and announced."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from flowsched.db import session_scope
from flowsched.db.failure import FailurePolicy, retry_delay
from flowsched.db.tables import TaskInstance
from flowsched.notify.failure_alerts import wait_for_alerts
from flowsched.runner.failure import handle_failure
from tests.runner.support import create_run, history, queue_ti, read_log, run_state, ti, write_dag

FAILING_DAG = """
    import pendulum
    from datetime import timedelta
    from flowsched import DAG, task
    from flowsched.exceptions import TaskFailedNoRetry

    with DAG("flaky", start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:
        @task(retries=2, retry_delay=timedelta(seconds=10))
        def fixed():
            raise ConnectionError("database went away")

        @task(retries=5, retry_delay=timedelta(seconds=10), retry_exponential_backoff=True,
              max_retry_delay=timedelta(seconds=30))
        def backoff():
            raise ConnectionError("still down")

        @task(retries=3)
        def hopeless():
            raise TaskFailedNoRetry("bad input, retrying cannot help")

        fixed(); backoff(); hopeless()
"""


@pytest.fixture
def flaky(dags_folder):
    path = write_dag(dags_folder, "flaky", FAILING_DAG)
    create_run("flaky")
    return path


def test_a_failed_try_with_retries_left_waits_retry_delay(flaky):
    key = queue_ti("flaky", "fixed", try_number=1, max_tries=2)

    assert run_state(flaky, key) == "up_for_retry"

    row = ti(key)
    assert row.next_try_at == row.end_date + timedelta(seconds=10)
    [attempt] = history(key)
    assert attempt.state == "up_for_retry"
    assert attempt.error == "ConnectionError: database went away"
    assert "ConnectionError: database went away" in read_log(key)
    assert "Marking task as UP_FOR_RETRY" in read_log(key)


def test_the_last_try_fails_for_good(flaky):
    key = queue_ti("flaky", "fixed", try_number=3, max_tries=2)

    assert run_state(flaky, key) == "failed"
    assert ti(key).next_try_at is None


def test_exponential_backoff_doubles_the_delay_up_to_max_retry_delay(flaky):
    delays = []
    for try_number in (1, 2, 3):
        key = queue_ti("flaky", "backoff", try_number=try_number, max_tries=5)
        assert run_state(flaky, key) == "up_for_retry"
        row = ti(key)
        delays.append(row.next_try_at - row.end_date)

    assert delays == [timedelta(seconds=10), timedelta(seconds=20), timedelta(seconds=30)]


def test_retry_delays_follow_the_task_arguments():
    policy = FailurePolicy(retry_delay=timedelta(minutes=1), retry_exponential_backoff=True)
    assert [retry_delay(policy, n) for n in (1, 2, 3)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
    ]
    assert retry_delay(policy, 400) == timedelta(hours=24)  # capped even without max_retry_delay
    assert retry_delay(FailurePolicy(retry_delay=timedelta(seconds=7)), 9) == timedelta(seconds=7)


def test_an_error_that_says_no_retry_fails_at_once(flaky):
    key = queue_ti("flaky", "hopeless", try_number=1, max_tries=3)

    assert run_state(flaky, key) == "failed"
    assert "bad input, retrying cannot help" in history(key)[0].error


def test_the_failure_policy_does_nothing_to_a_try_that_is_no_longer_current(flaky):
    queue_ti("flaky", "fixed", try_number=2, state="running")
    with session_scope() as session:
        row = session.get(TaskInstance, ("flaky", "manual__2024-03-01T00:00:00+00:00", "fixed", -1))
        row.try_number = 1  # what a slow zombie check read before try 2 started
        session.expunge(row)
        assert handle_failure(session, row, FailurePolicy(), "zombie", run_callbacks=False) is None


class _Receiver(BaseHTTPRequestHandler):
    bodies: list[dict] = []

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook(monkeypatch):
    _Receiver.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    monkeypatch.setenv("FLOWSCHED__ALERTS__WEBHOOK_URLS", url)
    yield _Receiver.bodies
    server.shutdown()


def test_a_final_failure_posts_one_webhook_alert_and_a_retry_none(flaky, webhook):
    retry = queue_ti("flaky", "fixed", try_number=1, max_tries=2)
    assert run_state(flaky, retry) == "up_for_retry"
    wait_for_alerts()
    assert webhook == []

    final = queue_ti("flaky", "fixed", try_number=3, max_tries=2)
    assert run_state(flaky, final) == "failed"
    wait_for_alerts()

    [alert] = webhook
    assert alert["kind"] == "failure"
    assert "flaky.fixed (try 3/3)" in alert["text"]
