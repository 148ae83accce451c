"""Living through a database that is unreachable for a while (SPEC §6, issue 10).

A database outage is the platform's failure, never a task's: the scheduler, the workers
and the web server wait it out, however long, and record what happened meanwhile once the
database is back. They say so once per change ("database unreachable: ..., retrying every
N s", then "database back after N s"), not once per attempt, so that a long outage does
not bury the log.

"Unreachable" is what SQLAlchemy reports as an operational or interface error: the server
refused or dropped the connection, SQLite's file is locked past its busy timeout, its disk
is full or read-only. Errors in what was asked (a constraint, a bad statement) are not
outages and are raised as before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from flowsched.config import conf

log = logging.getLogger("flowsched.db")

T = TypeVar("T")


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` means the database could not be reached or written at all."""
    if isinstance(error, (OperationalError, InterfaceError)):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def first_line(error: BaseException) -> str:
    """The driver's message without SQLAlchemy's statement dump and help link."""
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()
    return text[0] if text else type(original).__name__


class OutageWatch:
    """Tells one process's log when the database goes away and when it comes back."""

    def __init__(self, logger: logging.Logger = log) -> None:
        self.logger = logger
        self.down_since: float | None = None
        self.back_at: float | None = None  # time.monotonic() when the last outage ended

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, error: BaseException, retry_every: float) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()
            self.logger.error(
                "database unreachable: %s; retrying every %g s", first_line(error), retry_every
            )

    def succeeded(self) -> None:
        if self.down_since is not None:
            self.back_at = time.monotonic()
            self.logger.warning("database back after %.0f s", self.back_at - self.down_since)
            self.down_since = None


def retry_interval() -> float:
    return conf.database.outage_retry_interval


def until_reachable(
    attempt: Callable[[], T], watch: OutageWatch | None = None, what: str = ""
) -> T:
    """``attempt()`` until it gets through an outage, with backoff (``[database]
    outage_retry_interval`` doubling up to ``outage_max_retry_interval``); other errors
    are raised."""
    watch = watch or OutageWatch()
    delay = retry_interval()
    ceiling = conf.database.outage_max_retry_interval
    while True:
        try:
            result = attempt()
        except Exception as error:
            if not is_outage(error):
                raise
            if not watch.down and what:
                watch.logger.error("%s: waiting for the database", what)
            watch.failed(error, delay)
            time.sleep(delay)
            delay = min(ceiling, delay * 2)
            continue
        watch.succeeded()
        return result
