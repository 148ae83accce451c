"""Webhook alerts: a JSON POST with a Slack-compatible ``text`` and the structured facts.

The ``text`` field makes the same URL work for Slack (and Mattermost, Rocket.Chat, ...)
incoming webhooks; the other fields let a home-made receiver route without parsing text.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from flowsched.config import conf
from flowsched.notify.events import TaskEvent, mask
from flowsched.notify.retry import with_retries, worst_case

MAX_EXCEPTION_CHARS = 500


def _slack_escape(text: str) -> str:
    # the three characters Slack reads as markup; everything else is literal
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _last_line(text: str) -> str:
    """The line of a traceback that says what went wrong (its last non-empty one)."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return line[:MAX_EXCEPTION_CHARS]


def _text(event: TaskEvent) -> str:
    date = event.logical_date.isoformat() if event.logical_date else "unknown"
    lines = [f"[flowsched] {event.headline}", f"Run {event.run_id}, logical date {date}"]
    if event.exception:
        lines.append(_last_line(mask(event.exception)))
    escaped = [_slack_escape(line) for line in lines]
    label = "View run" if event.task_id is None else "View log"
    return "\n".join([*escaped, f"<{event.log_url}|{label}>"])


def webhook_payload(event: TaskEvent) -> dict[str, Any]:
    """The JSON body posted for ``event``."""
    return {
        "text": _text(event),
        "kind": event.kind,
        "dag_id": event.dag_id,
        "task_id": event.task_id,
        "map_index": event.map_index,
        "run_id": event.run_id,
        "logical_date": event.logical_date.isoformat() if event.logical_date else None,
        "try_number": event.try_number,
        "max_tries": event.max_tries,
        "state": event.state,
        "exception": mask(event.exception) if event.exception else None,
        "hostname": event.hostname,
        "log_url": event.log_url,
    }


def redact_url(url: str) -> str:
    """``https://hooks.slack.com/…``: webhook URLs carry their secret in the path."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}/…"


def webhook_worst_case() -> float:
    """Longest a ``post_webhook`` with the ``[alerts]`` settings should take."""
    return worst_case(conf.alerts.webhook_timeout, conf.alerts.webhook_retries)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Turn a redirect into an error: urllib would replay a POST as a body-less GET."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _is_transient(exc: Exception) -> bool:
    """Worth another try: the receiver was unreachable, slow, overloaded or broken."""
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code >= 500 or exc.code == 429
    return isinstance(exc, OSError | http.client.HTTPException)


def _post_once(request: urllib.request.Request, timeout: float) -> int:
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:  # any status outside 2xx
        exc.close()
        raise


def post_webhook(url: str, payload: dict[str, Any]) -> int:
    """POST ``payload`` as JSON to ``url``; returns the 2xx status, raises on anything else.

    Each attempt waits at most ``[alerts] webhook_timeout`` per network step; transient
    failures (no connection, timeout, 5xx, 429) are retried ``[alerts] webhook_retries``
    times with a small backoff. Other 4xx and 3xx are not retried: they will not change.
    """
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"webhook URL must start with http:// or https://: {redact_url(url)}")
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "flowsched-notify"},
    )
    timeout = conf.alerts.webhook_timeout
    retries = conf.alerts.webhook_retries
    return with_retries(lambda: _post_once(request, timeout), retries, _is_transient)
