"""``flowsched alerts test`` against real SMTP and HTTP servers."""

from urllib.parse import urlsplit

from click.testing import CliRunner

from flowsched.cli import cli


def _run(*args: str):
    return CliRunner().invoke(cli, ["alerts", "test", *args])


def test_sends_to_the_given_address_and_url(smtp_server, webhook_server):
    result = _run("--email", "me@example.com", "--webhook", webhook_server.url)

    assert result.exit_code == 0, result.output
    assert smtp_server.envelopes == [["me@example.com"]]
    assert webhook_server.requests[0]["json"]["dag_id"] == "flowsched_alerts_test"
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Sent e-mail '[flowsched] Failed: flowsched_alerts_test.alerts_test")
    assert lines[0].endswith(f"to me@example.com via 127.0.0.1:{smtp_server.port}")
    port = urlsplit(webhook_server.url).port
    assert lines[1] == f"Sent webhook http://127.0.0.1:{port}/… (HTTP 200)"


def test_uses_the_configured_targets_without_options(smtp_server, monkeypatch):
    monkeypatch.setenv("FLOWSCHED__ALERTS__EMAIL", "ops@example.com")

    result = _run()

    assert result.exit_code == 0, result.output
    assert smtp_server.envelopes == [["ops@example.com"]]


def test_failure_is_one_line_and_exit_status_1(refusing_smtp):
    result = _run("--email", "me@example.com")

    assert result.exit_code == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: e-mail to me@example.com: ConnectionRefusedError")


def test_nothing_to_send_to_is_an_error():
    result = _run()

    assert result.exit_code == 1
    assert "nothing to send to" in result.stderr
