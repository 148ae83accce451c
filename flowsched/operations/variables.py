"""Variables: the key/value settings DAG files read with ``Variable.get``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from sqlalchemy.orm import Session

from flowsched.db.tables import Variable
from flowsched.operations import audit
from flowsched.operations.errors import Conflict, Invalid, NotFound

KEY_LENGTH = 250


def check_key(key: str) -> str:
    if not key.strip():
        raise Invalid("the key cannot be empty")
    if len(key) > KEY_LENGTH:
        raise Invalid(f"a key has at most {KEY_LENGTH} characters")
    return key


def get_variable(session: Session, key: str) -> Variable:
    variable = session.get(Variable, key)
    if variable is None:
        raise NotFound(f"no variable named {key!r}")
    return variable


def create_variable(
    session: Session, key: str, value: str, *, actor: str, description: str | None = None
) -> Variable:
    """A new variable; a key that exists is refused (update it instead)."""
    if session.get(Variable, check_key(key)) is not None:
        raise Conflict(f"variable {key!r} already exists")
    variable = Variable(key=key, val=_text(value), description=description)
    session.add(variable)
    audit.record(session, actor, "variable_create", extra={"key": key})
    return variable


def update_variable(session: Session, key: str, *, actor: str, **changes: Any) -> Variable:
    """Change ``value`` and/or ``description`` (only those given) of an existing variable."""
    unknown = set(changes) - {"value", "description"}
    if unknown:
        raise Invalid(f"a variable has no field {', '.join(sorted(unknown))}")
    variable = get_variable(session, key)
    if "value" in changes:
        variable.val = _text(changes["value"])
    if "description" in changes:
        variable.description = changes["description"]
    audit.record(session, actor, "variable_update", extra={"key": key})
    return variable


def set_variable(
    session: Session, key: str, value: str, *, actor: str, description: str | None = None
) -> Variable:
    """Create or change; a description of None leaves the stored one as it is."""
    if session.get(Variable, check_key(key)) is None:
        return create_variable(session, key, value, actor=actor, description=description)
    changes = (
        {"value": value} if description is None else {"value": value, "description": description}
    )
    return update_variable(session, key, actor=actor, **changes)


def delete_variable(session: Session, key: str, *, actor: str) -> None:
    session.delete(get_variable(session, key))
    audit.record(session, actor, "variable_delete", extra={"key": key})


def import_variables(
    session: Session,
    values: Mapping[str, Any],
    *,
    actor: str,
    if_exists: Literal["overwrite", "skip", "fail"] = "overwrite",
) -> tuple[list[str], list[str]]:
    """Load many at once; strings are stored as they are, other values as JSON (so
    ``Variable.get(key, deserialize_json=True)`` reads them). Returns (written, skipped)."""
    written, skipped = [], []
    for key, value in values.items():
        exists = session.get(Variable, check_key(key)) is not None
        if exists and if_exists == "fail":
            raise Conflict(f"variable {key!r} already exists; nothing was imported")
        if exists and if_exists == "skip":
            skipped.append(key)
            continue
        text = value if isinstance(value, str) else json.dumps(value)
        set_variable(session, key, text, actor=actor)
        written.append(key)
    return written, skipped


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise Invalid("a variable's value must be a string")
    return value
