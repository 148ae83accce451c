"""/api/v1/variables: list, create, get, update, delete."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, g, jsonify
from sqlalchemy import func, select

from flowsched.db import session_scope
from flowsched.db.tables import Variable
from webui import audit
from webui.api.v1.common import bp, json_body, paging
from webui.api.v1.schemas import variable_json


def _get_or_404(session: Any, key: str) -> Variable:
    variable = session.get(Variable, key)
    if variable is None:
        abort(404, f"no variable {key!r}")
    return variable


def _string(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        abort(400, f"{name} must be a string")
    return value


def _optional_string(body: dict[str, Any], name: str) -> str | None:
    return None if body.get(name) is None else _string(body, name)


@bp.get("/variables")
def list_variables_api() -> Response:
    limit, offset = paging()
    with session_scope(readonly=True) as session:
        total = session.scalar(select(func.count()).select_from(Variable))
        rows = session.scalars(select(Variable).order_by(Variable.key).limit(limit).offset(offset))
        items = [variable_json(v, reveal=g.user.is_admin) for v in rows]
    return jsonify({"variables": items, "total_entries": total})


@bp.post("/variables")
def create_variable_api() -> tuple[Response, int]:
    body = json_body()
    key, value = _string(body, "key"), _string(body, "value")
    if not key:
        abort(400, "key cannot be empty")
    with session_scope() as session:
        if session.get(Variable, key) is not None:
            abort(409, f"variable {key!r} already exists (PATCH it to change it)")
        variable = Variable(key=key, val=value, description=_optional_string(body, "description"))
        session.add(variable)
        audit.record(session, "variable_create", extra={"key": key})
        return jsonify(variable_json(variable, reveal=True)), 201


@bp.get("/variables/<path:key>")
def get_variable_api(key: str) -> Response:
    with session_scope(readonly=True) as session:
        return jsonify(variable_json(_get_or_404(session, key), reveal=g.user.is_admin))


@bp.patch("/variables/<path:key>")
def update_variable_api(key: str) -> Response:
    """Body: ``value`` and/or ``description``."""
    body = json_body()
    with session_scope() as session:
        variable = _get_or_404(session, key)
        if "value" in body:
            variable.val = _string(body, "value")
        if "description" in body:
            variable.description = _optional_string(body, "description")
        audit.record(session, "variable_update", extra={"key": key})
        return jsonify(variable_json(variable, reveal=True))


@bp.delete("/variables/<path:key>")
def delete_variable_api(key: str) -> tuple[str, int]:
    with session_scope() as session:
        session.delete(_get_or_404(session, key))
        audit.record(session, "variable_delete", extra={"key": key})
    return "", 204
