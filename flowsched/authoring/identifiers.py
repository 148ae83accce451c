"""Id rules shared by dag_id, task_id and group_id, checked where the id is first given."""

from __future__ import annotations

import re

from flowsched.exceptions import InvalidIdentifierError

_ID = re.compile(r"[A-Za-z0-9_.-]{1,250}")
_GROUP_LABEL = re.compile(r"[A-Za-z0-9_-]{1,250}")


def validate_id(value: object, kind: str) -> str:
    """Return ``value`` if it is a valid id; ids end up in URLs, file paths and log names."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidIdentifierError(
            f"Invalid {kind} {value!r}: use 1-250 letters, digits, '_', '.' or '-'"
        )
    return value


def validate_group_label(value: object) -> str:
    """Group ids may not contain '.', because '.' separates a group from its children."""
    if not isinstance(value, str) or not _GROUP_LABEL.fullmatch(value):
        raise InvalidIdentifierError(
            f"Invalid group_id {value!r}: use 1-250 letters, digits, '_' or '-' (no '.')"
        )
    return value
