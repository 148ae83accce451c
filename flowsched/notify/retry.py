"""Bounded retries with a small backoff, shared by the SMTP and webhook senders.

A notifier runs while a worker slot (or the scheduler) waits for it, so the number of
attempts and the pauses between them are small and known in advance: ``worst_case``
gives the longest a retried action can take, which is how long callers wait for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

BACKOFF_SECONDS = 0.2  # doubled after each failed attempt


def with_retries(
    action: Callable[[], T], retries: int, is_transient: Callable[[Exception], bool]
) -> T:
    """Run ``action``; on a transient error try again, up to ``retries`` more times."""
    attempt = 0
    while True:
        try:
            return action()
        except Exception as exc:
            if attempt >= retries or not is_transient(exc):
                raise
            time.sleep(BACKOFF_SECONDS * 2**attempt)
            attempt += 1


def worst_case(attempt_timeout: float, retries: int) -> float:
    """Longest ``with_retries`` can take when each attempt stops at ``attempt_timeout``."""
    attempts = max(retries, 0) + 1
    backoff = sum(BACKOFF_SECONDS * 2**i for i in range(attempts - 1))
    return attempts * attempt_timeout + backoff
