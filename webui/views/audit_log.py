"""The audit log page: who changed what, newest first, filterable."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from flowsched.db import session_scope
from flowsched.db.tables import AuditLog
from webui.views.paging import int_arg

bp = Blueprint("audit_log", __name__, url_prefix="/audit")

PAGE_SIZE = 100
FILTERS = ("user", "event", "dag_id")


@bp.route("")
def index() -> str:
    filters = {name: request.args.get(name, "").strip() for name in FILTERS}
    conditions = [getattr(AuditLog, name) == value for name, value in filters.items() if value]
    offset = int_arg("offset", 0, high=100_000_000)
    with session_scope(readonly=True) as session:
        total = session.scalar(select(func.count()).select_from(AuditLog).where(*conditions))
        entries = session.scalars(
            select(AuditLog)
            .where(*conditions)
            .order_by(AuditLog.dttm.desc(), AuditLog.id.desc())
            .limit(PAGE_SIZE)
            .offset(offset)
        ).all()
        return render_template(
            "audit.html",
            entries=entries,
            filters=filters,
            total=total or 0,
            offset=offset,
            page_size=PAGE_SIZE,
        )
