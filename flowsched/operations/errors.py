"""The one error type of every operation, with a message written for the person who asked.

Adapters map it without reading the message: the CLI prints ``Error: <message>`` and exits
1; the web forms and the REST API answer 404 (NotFound), 400 (Invalid) or 409 (Conflict).
"""

from __future__ import annotations


class OperationError(Exception):
    """The operation was refused; nothing was changed. ``status`` is the HTTP answer."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(OperationError):
    """What the operation names (a DAG, a run, a task, a variable...) does not exist."""

    status = 404


class Invalid(OperationError):
    """The input breaks a rule (run id, conf size, params, a value's form)."""

    status = 400


class Conflict(OperationError):
    """The input is well formed but clashes with what exists (a run at that date, an
    inactive DAG, a key that is already there)."""

    status = 409
