"""`flowsched webserver` and `flowsched standalone`: real processes serving real HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from flowsched.cli.standalone import PASSWORD_FILE, ensure_admin
from flowsched.db import session_scope
from webui.users import authenticate

FLOWSCHED = [sys.executable, "-c", "from flowsched.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wait_for(url: str, process: subprocess.Popen, timeout: float = 20.0) -> tuple[int, dict, bytes]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            return get(url)
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer in {timeout}s")


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*FLOWSCHED, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=40)
    return output


@pytest.mark.e2e
def test_webserver_serves_with_waitress(migrated_db: Path) -> None:
    port = free_port()
    server = start("webserver", "--host", "127.0.0.1", "--port", str(port), "--workers", "1")
    try:
        status, headers, body = wait_for(f"http://127.0.0.1:{port}/health", server)
        login_status, _, login_page = get(f"http://127.0.0.1:{port}/login")
    finally:
        output = stop(server)
    assert status == 503  # no scheduler is running
    assert json.loads(body)["metadatabase"]["status"] == "healthy"
    assert headers["Server"] == "flowsched"
    assert login_status == 200 and b"Log in to flowsched" in login_page
    assert f"http://127.0.0.1:{port}/" in output


def test_webserver_refuses_a_database_not_upgraded(home: Path) -> None:
    result = subprocess.run(
        [*FLOWSCHED, "webserver", "--port", str(free_port())], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "run `flowsched db upgrade`" in result.stderr


def test_standalone_admin_password_is_generated_once_and_reused(migrated_db: Path) -> None:
    password_file = migrated_db / PASSWORD_FILE

    first = ensure_admin(password_file)
    again = ensure_admin(password_file)

    assert first == again and len(first) >= 16
    assert password_file.read_text().strip() == first
    assert oct(password_file.stat().st_mode & 0o777) == "0o600"
    with session_scope(readonly=True) as session:
        assert authenticate(session, "admin", first) is not None


@pytest.mark.e2e
def test_standalone_runs_scheduler_and_webserver_and_stops_both(home: Path) -> None:
    port = free_port()
    env_port = {"FLOWSCHED__WEBSERVER__PORT": str(port)}
    process = subprocess.Popen(
        [*FLOWSCHED, "standalone", "--host", "127.0.0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **env_port},
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and status != 200:
            status = wait_for(f"http://127.0.0.1:{port}/health", process)[0]
            time.sleep(0.3)
    finally:
        output = stop(process)
    password = (home / PASSWORD_FILE).read_text().strip()
    assert status == 200, output  # the scheduler heartbeats: healthy
    assert f"username: admin  password: {password}" in output
    assert process.returncode == 0, output
    assert "stopping" in output
