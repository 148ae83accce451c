"""Secrets masking: known secret values are replaced by ``***`` in task logs.

Values are registered when they are read (a sensitive variable, a connection password),
so masking costs nothing for tasks that touch no secret.
"""

from __future__ import annotations

import logging
import re

SENSITIVE_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "private_key",
    "access_key",
)
MASK = "***"
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def is_sensitive(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SENSITIVE_WORDS)


def register_secret(value: str) -> None:
    """Mask this value from now on (values shorter than 3 characters would mask noise)."""
    global _pattern
    if value and len(value) >= 3 and value not in _secrets:
        _secrets.add(value)
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def register_secret_if_sensitive(name: str, value: str) -> None:
    if is_sensitive(name):
        register_secret(value)


def mask_secrets(text: str) -> str:
    return _pattern.sub(MASK, text) if _pattern else text


class MaskingFilter(logging.Filter):
    """A logging filter that rewrites each record's message with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _pattern is not None:
            record.msg = mask_secrets(record.getMessage())
            record.args = None
        return True
