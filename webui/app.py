"""The Flask application factory: configuration, security, blueprints, error pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, Response, g, jsonify, render_template
from flask.json.provider import DefaultJSONProvider
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, default_exceptions

from flowsched.config import conf
from flowsched.db.outage import first_line, is_outage
from flowsched.operations.errors import OperationError
from webui import auth, filters
from webui.login_limits import init_limits
from webui.secret import secret_key

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


class IsoJSONProvider(DefaultJSONProvider):
    """Datetimes as ISO-8601 (Flask's default is the HTTP date format, which drops the zone)."""

    @staticmethod
    def default(o: object) -> object:
        if isinstance(o, datetime):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.json = IsoJSONProvider(app)
    app.config.update(
        SECRET_KEY=secret_key(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=conf.webserver.base_url.startswith("https:"),
        WTF_CSRF_TIME_LIMIT=None,  # a grid left open for hours must still accept a click
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.config.update(overrides or {})
    csrf = CSRFProtect(app)
    _register_blueprints(app, csrf)
    init_limits(app)  # before authentication: a locked-out login is refused unchecked
    app.before_request(auth.load_user)
    app.before_request(auth.enforce_access)
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationError, _operation_error)
    app.register_error_handler(DBAPIError, _database_error)
    filters.register(app)
    app.context_processor(lambda: {"current_user": g.get("user")})
    return app


def _register_blueprints(app: Flask, csrf: CSRFProtect) -> None:
    from webui.api.v1 import bp as api_v1
    from webui.views import BLUEPRINTS

    app.register_blueprint(auth.bp)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    # The access rule checks CSRF itself for session-authenticated API calls.
    csrf.exempt(api_v1)
    app.register_blueprint(api_v1)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _operation_error(error: OperationError) -> Response | tuple[str, int]:
    """A refused operation answers like ``abort(status, message)``: 404, 400 or 409."""
    return _http_error(default_exceptions[error.status](description=error.message))


def _database_error(error: DBAPIError) -> Response | tuple[str, int]:
    """A database outage is a 503 with the reason (the server stays up and answers again
    once the database is back); any other database error stays a 500."""
    if not is_outage(error):
        raise error
    message = f"database unreachable: {first_line(error)}"
    return _http_error(default_exceptions[503](description=message))


def _http_error(error: HTTPException) -> Response | tuple[str, int]:
    """JSON with a message on the API, a readable page in the UI."""
    status = error.code or 500
    if auth.is_api_request():
        body = {"status": status, "error": error.name, "message": error.description}
        response = jsonify(body)
        response.status_code = status
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Basic realm="flowsched"'
        return response
    page = render_template("error.html", status=status, title=error.name, message=error.description)
    return page, status
