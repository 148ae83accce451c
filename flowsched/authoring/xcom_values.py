"""The rule that XCom values are JSON, checked where a task's return value is stored."""

from __future__ import annotations

import json
from typing import Any

from flowsched.exceptions import XComNotSerializable


def ensure_json(value: Any, task_id: str) -> Any:
    """Return ``value`` unchanged if it can be stored as JSON, else say which type cannot.

    NaN and infinity are refused too: they are not JSON, and PostgreSQL rejects them.
    """

    def refuse(obj: Any) -> Any:
        raise XComNotSerializable(
            f"Task {task_id!r} returned a value containing a {type(obj).__name__!r}, which "
            "is not JSON-serialisable; XCom values are stored as JSON (return dicts, lists, "
            "strings, numbers, booleans or None)"
        )

    try:
        json.dumps(value, default=refuse, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise XComNotSerializable(
            f"Task {task_id!r} returned a value that is not JSON-serialisable: {err}"
        ) from None
    return value
