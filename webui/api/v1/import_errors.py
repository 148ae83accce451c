"""/api/v1/importErrors: DAG files that failed to load, with their tracebacks."""

from __future__ import annotations

from flask import Response, jsonify

from flowsched.db import session_scope
from webui.api.v1.common import bp
from webui.api.v1.schemas import import_error_json
from webui.queries.dag_summaries import import_errors


@bp.get("/importErrors")
def list_import_errors_api() -> Response:
    with session_scope(readonly=True) as session:
        errors = [import_error_json(e) for e in import_errors(session)]
    return jsonify({"import_errors": errors, "total_entries": len(errors)})
