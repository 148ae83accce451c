"""The /api/v1 blueprint and what its endpoints share: JSON bodies, paging, errors."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request

from flowsched import json_text

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def json_body() -> dict[str, Any]:
    """The request's JSON object. Demanding the JSON content type also means a form on
    another site cannot post here: browsers send JSON cross-site only after a preflight.
    """
    if not request.is_json:
        abort(415, "send a JSON body with Content-Type: application/json")
    try:
        body = json_text.loads(request.get_data())
    except ValueError as exc:  # not JSON, not UTF-8, nested too deep
        abort(400, f"the body is not valid JSON: {exc}")
    if not isinstance(body, dict):
        abort(400, "the body must be a JSON object")
    return body


MAX_OFFSET = 2**63 - 1  # what the databases' OFFSET takes (a signed 64-bit integer)


def paging() -> tuple[int, int]:
    """``limit`` (1..1000, default 100) and ``offset`` (0..2**63-1) from the query string."""
    limit = _int_arg("limit", DEFAULT_LIMIT)
    offset = _int_arg("offset", 0)
    if not 1 <= limit <= MAX_LIMIT:
        abort(400, f"limit must be from 1 to {MAX_LIMIT}")
    if not 0 <= offset <= MAX_OFFSET:
        abort(400, f"offset must be from 0 to {MAX_OFFSET}")
    return limit, offset


def _int_arg(name: str, default: int) -> int:
    value = request.args.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        abort(400, f"{name} must be an integer, not {value!r}")


def bool_field(body: dict[str, Any], name: str, default: bool = False) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        abort(400, f"{name} must be true or false")
    return value
