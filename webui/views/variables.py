"""Variables: list, create, edit, delete. Sensitive values are masked in the list."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from flowsched.db import session_scope
from flowsched.db.tables import Variable
from flowsched.masking import MASK, is_sensitive
from webui import audit
from webui.auth import require_admin

bp = Blueprint("variables", __name__, url_prefix="/variables")


def shown_value(key: str, value: str) -> str:
    return MASK if is_sensitive(key) else value


@bp.route("")
def index() -> str:
    with session_scope(readonly=True) as session:
        rows = session.scalars(select(Variable).order_by(Variable.key)).all()
        return render_template("variables.html", variables=rows, shown_value=shown_value)


@bp.route("/new")
def new() -> str:
    require_admin()
    return render_template("variable_form.html", variable=None, form={}, error=None)


@bp.route("/<path:key>/edit")
def edit(key: str) -> str:
    require_admin()
    with session_scope(readonly=True) as session:
        variable = _get_or_404(session, key)
        form = {"key": variable.key, "val": variable.val, "description": variable.description}
        return render_template("variable_form.html", variable=variable, form=form, error=None)


@bp.route("", methods=["POST"])
def create() -> Any:
    form = _form()
    if not form["key"]:
        return _invalid(None, form, "The key cannot be empty.")
    with session_scope() as session:
        if session.get(Variable, form["key"]) is not None:
            return _invalid(None, form, f"A variable {form['key']!r} already exists.")
        session.add(Variable(**form))
        audit.record(session, "variable_create", extra={"key": form["key"]})
    flash(f"Variable {form['key']} created.", "success")
    return redirect(url_for("variables.index"))


@bp.route("/<path:key>", methods=["POST"])
def update(key: str) -> Response:
    form = _form()
    with session_scope() as session:
        variable = _get_or_404(session, key)
        variable.val = form["val"]
        variable.description = form["description"]
        audit.record(session, "variable_update", extra={"key": key})
    flash(f"Variable {key} saved.", "success")
    return redirect(url_for("variables.index"))


@bp.route("/<path:key>/delete", methods=["POST"])
def delete(key: str) -> Response:
    with session_scope() as session:
        session.delete(_get_or_404(session, key))
        audit.record(session, "variable_delete", extra={"key": key})
    flash(f"Variable {key} deleted.", "success")
    return redirect(url_for("variables.index"))


def _form() -> dict[str, Any]:
    return {
        "key": request.form.get("key", "").strip(),
        "val": request.form.get("val", ""),
        "description": request.form.get("description", "").strip() or None,
    }


def _invalid(variable: Variable | None, form: dict[str, Any], error: str) -> tuple[str, int]:
    return render_template("variable_form.html", variable=variable, form=form, error=error), 400


def _get_or_404(session: Any, key: str) -> Variable:
    variable = session.get(Variable, key)
    if variable is None:
        abort(404, f"no variable {key!r}")
    return variable
