"""Where to send the browser after a form: only to a path on this site."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request


def local_path(target: str | None, default: str) -> str:
    """``target`` if it is a same-site path; an open redirect would help phishing."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    return default if parts.scheme or parts.netloc else target


def back_to(default: str) -> str:
    """The page a form says it came from (its ``next`` field), else ``default``."""
    return local_path(request.form.get("next"), default)
