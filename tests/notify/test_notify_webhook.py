"""The webhook body and the POST itself, against a real HTTP server."""

import urllib.error

import pytest

from flowsched.masking import register_secret
from flowsched.notify.webhook import post_webhook, redact_url, webhook_payload


def test_payload_is_slack_compatible_and_structured(make_event):
    register_secret("pw-31337-abc")
    event = make_event(
        map_index=2, exception="Traceback:\n  ...\nKeyError: <pw-31337-abc> & more\n"
    )

    payload = webhook_payload(event)

    assert payload["text"] == (
        "[flowsched] Failed: etl.load[2] (try 2/3)\n"
        "Run scheduled__2025-03-02T07:00:00+00:00, logical date 2025-03-02T07:00:00+00:00\n"
        "KeyError: &lt;***&gt; &amp; more\n"
        f"<{event.log_url}|View log>"
    )
    assert payload["exception"] == "Traceback:\n  ...\nKeyError: <***> & more\n"
    assert {k: payload[k] for k in ("kind", "dag_id", "task_id", "map_index", "run_id")} == {
        "kind": "failure",
        "dag_id": "etl",
        "task_id": "load",
        "map_index": 2,
        "run_id": "scheduled__2025-03-02T07:00:00+00:00",
    }
    assert payload["try_number"] == 2 and payload["max_tries"] == 3
    assert payload["state"] == "failed" and payload["log_url"] == event.log_url
    assert payload["logical_date"] == "2025-03-02T07:00:00+00:00"


def test_post_sends_json_and_returns_the_status(webhook_server):
    webhook_server.statuses = [204]

    assert post_webhook(webhook_server.url, {"text": "hi"}) == 204
    [request] = webhook_server.requests
    assert request["json"] == {"text": "hi"}
    assert request["headers"]["Content-Type"] == "application/json"


def test_temporary_error_then_success(webhook_server):
    webhook_server.statuses = [503, 429, 200]

    assert post_webhook(webhook_server.url, {"text": "hi"}) == 200
    assert len(webhook_server.requests) == 3


@pytest.mark.parametrize("status", [404, 302])
def test_client_errors_and_redirects_fail_without_retry(webhook_server, status):
    webhook_server.statuses = [status]

    with pytest.raises(urllib.error.HTTPError) as info:
        post_webhook(webhook_server.url, {"text": "hi"})
    assert info.value.code == status
    assert len(webhook_server.requests) == 1


def test_only_http_urls_are_posted_to(tmp_path):
    with pytest.raises(ValueError, match="http:// or https://"):
        post_webhook(f"file://{tmp_path}/x", {"text": "hi"})


def test_redacted_url_keeps_only_where_it_goes():
    assert redact_url("https://user:pw@hooks.example.com:8443/services/T/B/X?t=1") == (
        "https://hooks.example.com:8443/…"
    )
