"""/api/v1/variables: list, create, get, update, delete."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, g, jsonify
from sqlalchemy import func, select

from flowsched.db import session_scope
from flowsched.db.tables import Variable
from flowsched.operations import variables as variable_ops
from webui.api.v1.common import bp, json_body, paging
from webui.api.v1.schemas import variable_json
from webui.auth import actor


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
    description = _optional_string(body, "description")
    with session_scope() as session:
        variable = variable_ops.create_variable(
            session, key, value, actor=actor(), description=description
        )
        return jsonify(variable_json(variable, reveal=True)), 201


@bp.get("/variables/<path:key>")
def get_variable_api(key: str) -> Response:
    with session_scope(readonly=True) as session:
        variable = variable_ops.get_variable(session, key)
        return jsonify(variable_json(variable, reveal=g.user.is_admin))


@bp.patch("/variables/<path:key>")
def update_variable_api(key: str) -> Response:
    """Body: ``value`` and/or ``description``."""
    body = json_body()
    changes: dict[str, str | None] = {"value": _string(body, "value")} if "value" in body else {}
    if "description" in body:
        changes["description"] = _optional_string(body, "description")
    with session_scope() as session:
        variable = variable_ops.update_variable(session, key, actor=actor(), **changes)
        return jsonify(variable_json(variable, reveal=True))


@bp.delete("/variables/<path:key>")
def delete_variable_api(key: str) -> tuple[str, int]:
    with session_scope() as session:
        variable_ops.delete_variable(session, key, actor=actor())
    return "", 204
