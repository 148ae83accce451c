"""Endpoints for load balancers and monitoring: /health and /metrics (no login)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST

from webui.health import check_health
from webui.metrics import render_metrics

bp = Blueprint("ops", __name__)


def health_response() -> Response:
    """200 when healthy, 503 otherwise, so a load balancer can act on the status alone."""
    health = check_health()
    response = jsonify(health.as_json())
    response.status_code = 200 if health.healthy else 503
    return response


@bp.route("/health")
def health() -> Response:
    return health_response()


@bp.route("/metrics")
def metrics() -> Response:
    return Response(render_metrics(), mimetype=CONTENT_TYPE_LATEST)
