"""Pools: named slot limits, with how many slots are taken right now."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from flowsched.db import session_scope
from flowsched.db.tables import DEFAULT_POOL, Pool
from webui import audit
from webui.auth import require_admin
from webui.queries.pools import pools_in_use

bp = Blueprint("pools", __name__, url_prefix="/pools")


@bp.route("")
def index() -> str:
    with session_scope(readonly=True) as session:
        return render_template("pools.html", pools=pools_in_use(session))


@bp.route("/new")
def new() -> str:
    require_admin()
    return render_template("pool_form.html", pool=None, form={}, error=None)


@bp.route("/<name>/edit")
def edit(name: str) -> str:
    require_admin()
    with session_scope(readonly=True) as session:
        pool = next((p for p in pools_in_use(session) if p.pool == name), None)
        if pool is None:
            abort(404, f"no pool {name!r}")
        form = {"pool": pool.pool, "slots": pool.slots, "description": pool.description}
        return render_template("pool_form.html", pool=pool, form=form, error=None)


@bp.route("", methods=["POST"])
def save() -> Any:
    """Create a pool or change one (the form names it); slots must be a number >= 0."""
    name = request.form.get("pool", "").strip()
    slots = request.form.get("slots", "").strip()
    description = request.form.get("description", "").strip() or None
    form = {"pool": name, "slots": slots, "description": description}
    if not name:
        return _invalid(form, "The pool name cannot be empty.")
    if not slots.isdigit():
        return _invalid(form, "Slots must be a whole number, 0 or more.")
    with session_scope() as session:
        pool = session.get(Pool, name)
        if pool is None:
            pool = Pool(pool=name)
            session.add(pool)
        pool.slots = int(slots)
        pool.description = description
        audit.record(session, "pool_set", extra={"pool": pool.pool, "slots": pool.slots})
    flash(f"Pool {name} saved.", "success")
    return redirect(url_for("pools.index"))


@bp.route("/<name>/delete", methods=["POST"])
def delete(name: str) -> Response:
    if name == DEFAULT_POOL:
        abort(400, "the default pool cannot be deleted (set its slots instead)")
    with session_scope() as session:
        pool = session.get(Pool, name)
        if pool is None:
            abort(404, f"no pool {name!r}")
        session.delete(pool)
        audit.record(session, "pool_delete", extra={"pool": name})
    flash(f"Pool {name} deleted.", "success")
    return redirect(url_for("pools.index"))


def _invalid(form: dict[str, Any], error: str) -> tuple[str, int]:
    return render_template("pool_form.html", pool=None, form=form, error=error), 400
