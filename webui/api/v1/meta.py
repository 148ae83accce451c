"""/api/v1/health and /api/v1/openapi.json: public, no login needed."""

from __future__ import annotations

from flask import Response, jsonify

from webui.api.v1.common import bp
from webui.api.v1.openapi import OPENAPI
from webui.views.ops import health_response


@bp.get("/health")
def health() -> Response:
    return health_response()


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(OPENAPI)
