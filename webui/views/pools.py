"""Pools: named slot limits, with how many slots are taken right now."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from flowsched.db import session_scope
from flowsched.operations import pools as pool_ops
from flowsched.operations.errors import OperationError
from flowsched.operations.pools import pools_in_use
from webui.auth import actor, require_admin

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
def save() -> ResponseReturnValue:
    """Create a pool or change one (the form names it); slots must be a number >= 0."""
    form = {
        "pool": request.form.get("pool", "").strip(),
        "slots": request.form.get("slots", "").strip(),
        "description": request.form.get("description", "").strip(),
    }
    slots = int(form["slots"]) if form["slots"].isdigit() else form["slots"]
    try:
        with session_scope() as session:
            pool_ops.set_pool(
                session, form["pool"], slots, actor=actor(), description=form["description"]
            )
    except OperationError as exc:
        return _invalid(form, exc)
    flash(f"Pool {form['pool']} saved.", "success")
    return redirect(url_for("pools.index"))


@bp.route("/<name>/delete", methods=["POST"])
def delete(name: str) -> Response:
    with session_scope() as session:
        pool_ops.delete_pool(session, name, actor=actor())
    flash(f"Pool {name} deleted.", "success")
    return redirect(url_for("pools.index"))


def _invalid(form: dict[str, Any], error: OperationError) -> tuple[str, int]:
    page = render_template("pool_form.html", pool=None, form=form, error=error.message)
    return page, error.status
