"""Who is asking, and may they? Login/logout, HTTP basic auth and the access rule.

One rule, applied before every request, keeps each view free of permission code:
anonymous users may reach only the public endpoints; viewers may read (GET/HEAD) but get
403 on any change; admins may do everything. Session-authenticated API calls that change
something must carry the CSRF token in a header; basic-auth calls carry no cookie a
third-party page could ride on, so they need none.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import Unauthorized
from werkzeug.wrappers import Response

from flowsched.db import session_scope
from flowsched.db.tables import User, utcnow
from webui import users
from webui.redirects import local_path

bp = Blueprint("auth", __name__)

PUBLIC_ENDPOINTS = frozenset(
    {"auth.login", "static", "ops.health", "ops.metrics", "api_v1.health", "api_v1.openapi"}
)
# Changes any signed-in user may make, whatever the role.
ANY_USER_CHANGES = frozenset({"auth.logout"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_basic_auth_checked = users.VerifiedCredentials()


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def actor() -> str:
    """Who the audit log names for a change made in this request."""
    return g.user.username


def _fingerprint(user: User) -> str:
    """Ties a session to the password it was opened with: a password change ends it."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _as_current(user: User) -> CurrentUser:
    return CurrentUser(id=user.id, username=user.username, role=user.role)


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def load_user() -> None:
    """Find the caller from HTTP basic auth (API only) or the session cookie."""
    g.user = None
    g.auth_method = None
    if is_api_request() and request.authorization and request.authorization.type == "basic":
        g.user = _basic_auth_user()
        g.auth_method = "basic"
    elif "user_id" in session:
        g.user = _session_user()
        g.auth_method = "session" if g.user else None


def _basic_auth_user() -> CurrentUser:
    credentials = request.authorization
    assert credentials is not None
    with session_scope(readonly=True) as db:
        user = users.authenticate(
            db, credentials.username or "", credentials.password or "", _basic_auth_checked
        )
        if user is None:
            raise Unauthorized("invalid username or password")
        return _as_current(user)


def _session_user() -> CurrentUser | None:
    with session_scope(readonly=True) as db:
        user = db.get(User, session["user_id"])
        if user is None or _fingerprint(user) != session.get("fingerprint"):
            session.clear()
            return None
        return _as_current(user)


def enforce_access() -> Response | None:
    """The access rule of the module docstring, run after ``load_user``."""
    endpoint = request.endpoint or ""
    if endpoint in PUBLIC_ENDPOINTS:
        return None
    if g.user is None:
        if is_api_request():
            raise Unauthorized("log in, or send HTTP basic credentials")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if request.method in SAFE_METHODS or endpoint in ANY_USER_CHANGES:
        return None
    if not g.user.is_admin:
        abort(403, f"user {g.user.username!r} has the viewer role: it may look, not change")
    if is_api_request() and g.auth_method == "session":
        current_app.extensions["csrf"].protect()
    return None


def require_admin() -> None:
    """For the few GET pages that show what only admins may see (e.g. an edit form)."""
    if not g.user.is_admin:
        abort(403, "this page is for admins")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    next_url = request.values.get("next")
    if request.method == "GET":
        return render_template("login.html", next_url=next_url, error=None)
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    with session_scope() as db:
        user = users.authenticate(db, username, password)
        if user is None:
            page = render_template(
                "login.html", next_url=next_url, error="Wrong username or password."
            )
            return page, 401
        user.last_login = utcnow()
        session.clear()
        session["user_id"] = user.id
        session["fingerprint"] = _fingerprint(user)
    return redirect(local_path(next_url, url_for("dags.index")))


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    session.clear()
    return redirect(url_for("auth.login"))
