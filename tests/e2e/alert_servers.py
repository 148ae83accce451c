"""Real alert receivers on 127.0.0.1 for the end-to-end alert tests: an SMTP inbox
(aiosmtpd), an HTTP webhook receiver, and an SMTP "server" that accepts connections and
never says a word. The scheduler subprocess finds them through ``FLOWSCHED__*`` variables.

(tests/notify/conftest.py has similar fixtures, but a conftest cannot be imported and its
fixtures are not visible from tests/e2e.)
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    """A port nothing listens on (bound once by us, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Mail:
    message: EmailMessage
    recipients: list[str]

    @property
    def subject(self) -> str:
        """As a mail client shows it: the stdlib folds a long subject that starts with "["
        onto a continuation line ("Subject:\\r\\n [flowsched] ..."), and its parser keeps
        the folding space, which clients drop."""
        return " ".join(str(self.message["Subject"]).split())

    @property
    def text(self) -> str:
        """The plain-text part, with the wire's CRLF line ends made "\\n"."""
        body = self.message.get_body(preferencelist=("plain",))
        assert body is not None, f"no text/plain part in {self.subject!r}"
        return body.get_content().replace("\r\n", "\n")


@dataclass
class Inbox:
    """Every message the SMTP server accepted, in arrival order."""

    port: int
    mails: list[Mail] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=policy.default)
        self.mails.append(Mail(message, list(envelope.rcpt_tos)))  # type: ignore[arg-type]
        return "250 OK"


class SmtpServer:
    """A real aiosmtpd server in a thread of this process."""

    def __init__(self) -> None:
        self.inbox = Inbox(port=free_port())
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.inbox.port)

    def __enter__(self) -> Inbox:
        self._controller.start()
        return self.inbox

    def __exit__(self, *exc_info: object) -> None:
        self._controller.stop()


class HangingSmtp:
    """Accepts TCP connections and holds them open without ever sending a greeting."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._server.settimeout(0.1)
        self.port: int = self._server.getsockname()[1]
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def connections(self) -> int:
        return len(self._held)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._held.append(conn)  # and never answer

    def __enter__(self) -> HangingSmtp:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        for conn in self._held:
            conn.close()
        self._server.close()


@dataclass
class WebhookReceiver:
    """Every JSON body POSTed to ``url``; answers 200."""

    url: str = ""
    posts: list[dict[str, Any]] = field(default_factory=list)


class WebhookServer:
    """A real http.server in a thread; its URL carries a secret-looking path, as Slack's."""

    def __init__(self) -> None:
        self.receiver = WebhookReceiver()
        receiver = self.receiver

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        receiver.url = f"http://127.0.0.1:{self._server.server_port}/services/T000/SECRET"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self.receiver

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
