"""Variables: list, create, edit, delete. Sensitive values are masked in the list."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from werkzeug.wrappers import Response

from flowsched.db import session_scope
from flowsched.db.tables import Variable
from flowsched.masking import MASK, is_sensitive
from flowsched.operations import variables as variable_ops
from flowsched.operations.errors import OperationError
from webui.auth import actor, require_admin

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
        variable = variable_ops.get_variable(session, key)
        form = {"key": variable.key, "val": variable.val, "description": variable.description}
        return render_template("variable_form.html", variable=variable, form=form, error=None)


@bp.route("", methods=["POST"])
def create() -> ResponseReturnValue:
    form = _form()
    try:
        with session_scope() as session:
            variable_ops.create_variable(
                session, form["key"], form["val"], actor=actor(), description=form["description"]
            )
    except OperationError as exc:
        return _invalid(None, form, exc)
    flash(f"Variable {form['key']} created.", "success")
    return redirect(url_for("variables.index"))


@bp.route("/<path:key>", methods=["POST"])
def update(key: str) -> Response:
    form = _form()
    with session_scope() as session:
        variable_ops.update_variable(
            session, key, actor=actor(), value=form["val"], description=form["description"]
        )
    flash(f"Variable {key} saved.", "success")
    return redirect(url_for("variables.index"))


@bp.route("/<path:key>/delete", methods=["POST"])
def delete(key: str) -> Response:
    with session_scope() as session:
        variable_ops.delete_variable(session, key, actor=actor())
    flash(f"Variable {key} deleted.", "success")
    return redirect(url_for("variables.index"))


def _form() -> dict[str, Any]:
    return {
        "key": request.form.get("key", "").strip(),
        "val": request.form.get("val", ""),
        "description": request.form.get("description", "").strip() or None,
    }


def _invalid(variable: Variable | None, form: dict[str, Any], error: OperationError) -> Any:
    page = render_template("variable_form.html", variable=variable, form=form, error=error.message)
    return page, error.status
