"""Real servers on 127.0.0.1 for the notifier tests: an SMTP inbox, HTTP webhook receivers,
and the misbehaving peers alerts must survive (refused, silent, endlessly trickling).

Every fixture points flowsched's config at itself through ``FLOWSCHED__*`` variables, with
small timeouts so that the failure paths are quick.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from flowsched.notify.events import TaskEvent

SMTP_TIMEOUT = 0.5
WEBHOOK_TIMEOUT = 0.5


@pytest.fixture(autouse=True)
def notify_config(tmp_path, monkeypatch):
    """A fresh FLOWSCHED_HOME and quick timeouts; no alert target unless a test adds one."""
    monkeypatch.setenv("FLOWSCHED_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FLOWSCHED__WEBSERVER__BASE_URL", "http://flowsched.test:8080/")
    monkeypatch.setenv("FLOWSCHED__SMTP__MAIL_FROM", "alerts@flowsched.test")
    monkeypatch.setenv("FLOWSCHED__SMTP__TIMEOUT", str(SMTP_TIMEOUT))
    monkeypatch.setenv("FLOWSCHED__SMTP__RETRIES", "1")
    monkeypatch.setenv("FLOWSCHED__ALERTS__WEBHOOK_TIMEOUT", str(WEBHOOK_TIMEOUT))
    monkeypatch.setenv("FLOWSCHED__ALERTS__WEBHOOK_RETRIES", "2")
    monkeypatch.setenv("FLOWSCHED__ALERTS__EMAIL", "")
    monkeypatch.setenv("FLOWSCHED__ALERTS__WEBHOOK_URLS", "")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _point_smtp_at(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    monkeypatch.setenv("FLOWSCHED__SMTP__HOST", "127.0.0.1")
    monkeypatch.setenv("FLOWSCHED__SMTP__PORT", str(port))


# ---- SMTP ----------------------------------------------------------------------------


@dataclass
class Inbox:
    """What the SMTP server accepted, and the answers it gives to the next DATA commands."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[list[str]] = field(default_factory=list)
    data_commands: int = 0
    answers: list[str] = field(default_factory=list)  # popped per DATA; empty: "250 OK"
    answer_delay: float = 0.0  # seconds before answering DATA

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.data_commands += 1
        await asyncio.sleep(self.answer_delay)
        answer = self.answers.pop(0) if self.answers else "250 OK"
        if answer.startswith("250"):
            raw = envelope.original_content or envelope.content
            self.messages.append(message_from_bytes(raw, policy=policy.default))
            self.envelopes.append(list(envelope.rcpt_tos))
        return answer


@pytest.fixture
def smtp_server(monkeypatch) -> Iterator[Inbox]:
    """A real aiosmtpd server; [smtp] host/port point at it."""
    inbox = Inbox(port=_free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    _point_smtp_at(monkeypatch, inbox.port)
    yield inbox
    controller.stop()


@pytest.fixture
def refusing_smtp(monkeypatch) -> int:
    """[smtp] port points at a closed port: every connection is refused."""
    port = _free_port()
    _point_smtp_at(monkeypatch, port)
    return port


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A port whose connections are accepted (by the kernel) and never answered."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as sock:
        yield sock.getsockname()[1]


@pytest.fixture
def hanging_smtp(monkeypatch, silent_listener) -> int:
    """[smtp] points at a server that never sends its greeting."""
    _point_smtp_at(monkeypatch, silent_listener)
    return silent_listener


@pytest.fixture
def trickling_smtp(monkeypatch) -> Iterator[int]:
    """A server whose greeting never ends: a "220-" line every 0.1 s, forever.

    Every read gets data before the socket timeout, so only an overall deadline stops a
    client from waiting on it indefinitely.
    """
    stop = threading.Event()
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)

    def trickle(conn: socket.socket) -> None:
        with conn:
            while not stop.wait(0.1):
                try:
                    conn.sendall(b"220-still saying hello\r\n")
                except OSError:
                    return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=trickle, args=(conn,), daemon=True).start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    port = server.getsockname()[1]
    _point_smtp_at(monkeypatch, port)
    yield port
    stop.set()
    acceptor.join()
    server.close()


# ---- HTTP ----------------------------------------------------------------------------


@dataclass
class WebhookReceiver:
    """Records each POST; answers with ``statuses`` in turn, repeating the last one."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=lambda: [200])

    def next_status(self) -> int:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


def _handler_for(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            receiver.requests.append(
                {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
            )
            status = receiver.next_status()
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "/moved")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    return Handler


@pytest.fixture
def webhook_server() -> Iterator[WebhookReceiver]:
    """A real http.server on an ephemeral port; its ``url`` carries a secret-looking path."""
    receiver = WebhookReceiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_port}/services/T000/SECRET-TOKEN"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
    thread.join()


# ---- events --------------------------------------------------------------------------

LOGICAL_DATE = datetime(2025, 3, 2, 7, 0, tzinfo=UTC)


@pytest.fixture
def make_event(tmp_path):
    """Build a TaskEvent for a failed try of ``etl.load``; keyword arguments override."""

    def make(**overrides: Any) -> TaskEvent:
        values: dict[str, Any] = {
            "kind": "failure",
            "dag_id": "etl",
            "task_id": "load",
            "run_id": "scheduled__2025-03-02T07:00:00+00:00",
            "logical_date": LOGICAL_DATE,
            "try_number": 2,
            "max_tries": 3,
            "state": "failed",
            "exception": "ValueError: bad row 17",
            "recipients": ["oncall@example.com"],
            "hostname": "worker-1",
        }
        values.update(overrides)
        return TaskEvent(**values)

    return make
