"""/api/v1/pools: list, create or change, delete (Airflow's shapes: name, slots, ...)."""

from __future__ import annotations

from flask import Response, jsonify

from flowsched.db import session_scope
from flowsched.operations import pools as pool_ops
from flowsched.operations.pools import pools_in_use
from webui.api.v1.common import bp, json_body
from webui.api.v1.schemas import pool_json
from webui.auth import actor


@bp.get("/pools")
def list_pools_api() -> Response:
    with session_scope(readonly=True) as session:
        pools = [pool_json(pool) for pool in pools_in_use(session)]
    return jsonify({"pools": pools, "total_entries": len(pools)})


@bp.post("/pools")
def set_pool_api() -> Response:
    """Body: ``name``, ``slots`` and optional ``description``; an existing pool changes."""
    body = json_body()
    with session_scope() as session:
        pool_ops.set_pool(
            session, str(body.get("name", "")), body.get("slots"), actor=actor(),
            description=body.get("description"),
        )  # fmt: skip
    return _one(str(body["name"]))


@bp.delete("/pools/<name>")
def delete_pool_api(name: str) -> tuple[str, int]:
    with session_scope() as session:
        pool_ops.delete_pool(session, name, actor=actor())
    return "", 204


def _one(name: str) -> Response:
    with session_scope(readonly=True) as session:
        return jsonify(next(pool_json(p) for p in pools_in_use(session) if p.pool == name))
