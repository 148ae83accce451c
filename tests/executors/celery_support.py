"""Helpers of the Celery suites: broker queues private to one test (so that no test
consumes another's messages). The `flowsched worker` process helpers are in
tests/e2e/support.py, next to the scheduler's, since tests stop both the same way."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import pytest
from kombu import Exchange, Queue

from flowsched.executors.celery_app import create_app


def unique_queue(label: str) -> str:
    return f"fs-test-{label}-{uuid.uuid4().hex[:10]}"


@contextmanager
def private_queues(
    monkeypatch: pytest.MonkeyPatch, broker_url: str, *labels: str
) -> Iterator[dict[str, str]]:
    """Point ``[celery]`` at ``broker_url`` with a fresh default queue; one fresh queue name
    per label ("default" included); the queues are deleted from the broker afterwards."""
    names = {label: unique_queue(label) for label in ("default", *labels)}
    monkeypatch.setenv("FLOWSCHED__CELERY__BROKER_URL", broker_url)
    monkeypatch.setenv("FLOWSCHED__CELERY__DEFAULT_QUEUE", names["default"])
    try:
        yield names
    finally:
        delete_queues(names.values())


def delete_queues(names: Iterable[str]) -> None:
    """Delete the queues (and the exchanges Celery made for them) from the broker.

    Each is declared first, as Celery declares a queue it was not told about: a fresh
    channel knows no bindings, and kombu's Redis transport deletes only known ones.
    """
    app = create_app()
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for name in names:
            queue = Queue(name, Exchange(name, type="direct"), routing_key=name)(channel)
            queue.declare()
            queue.delete()
            queue.exchange.delete()
    app.close()
