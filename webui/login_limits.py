"""Rate limiting and temporary lockout of logins (the form and API basic auth).

Failed attempts are counted per user name and per client address (Flask-Limiter over
the ``limits`` library, a moving window in this process's memory: the web server is one
waitress process). When either count reaches its limit, further attempts are refused
with 429 and a Retry-After header before any password is checked, until the window
moves past the failures: a temporary lockout that a password-guessing client cannot
talk its way through, and that a user who mistypes a few times never meets. Successful
logins are not counted.

    [webserver]
    failed_logins_per_user = "5 per 5 minutes"
    failed_logins_per_address = "20 per 5 minutes"
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.util import get_remote_address

from flowsched.config import conf

FAILED = 401  # what a wrong password answers, the form and the API alike


def user_name() -> str:
    """Whom the attempt is for: the form's user name, or the basic-auth one."""
    if request.authorization is not None and request.authorization.type == "basic":
        return (request.authorization.username or "").lower()
    return request.form.get("username", "").lower()


def _failed(response: Response) -> bool:
    return response.status_code == FAILED


def _not_a_login() -> bool:
    """Only logins are limited: the login form's POST and API calls with basic auth."""
    if request.endpoint == "auth.login":
        return request.method != "POST"
    return request.authorization is None or request.authorization.type != "basic"


def init_limits(app: Flask) -> Limiter:
    """Count failed logins on every request that tries one. Flask-Limiter checks before
    the authentication step (installed first), so that a locked-out attempt never
    reaches the password check."""
    return Limiter(
        get_remote_address,
        app=app,
        storage_uri="memory://",
        strategy="moving-window",
        headers_enabled=True,
        application_limits=[
            ApplicationLimit(
                lambda: conf.webserver.failed_logins_per_user,
                key_function=lambda: "user:" + user_name(),
                error_message="too many failed logins for this user: try again later",
                exempt_when=_not_a_login,
                deduct_when=_failed,
            ),
            ApplicationLimit(
                lambda: conf.webserver.failed_logins_per_address,
                key_function=lambda: "address:" + get_remote_address(),
                error_message="too many failed logins from this address: try again later",
                exempt_when=_not_a_login,
                deduct_when=_failed,
            ),
        ],
    )
