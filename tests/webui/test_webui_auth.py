"""Who may do what: login, roles, CSRF, session cookie, HTTP basic auth on the API."""

from __future__ import annotations

import base64

from flowsched.db import session_scope
from flowsched.db.tables import DagModel, User
from tests.webui.seed import PASSWORD, csrf_token, log_in


def basic(username: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_anonymous_pages_redirect_to_login_with_next(anonymous, etl):
    response = anonymous.get("/dags/etl/grid")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/dags/etl/grid")


def test_anonymous_api_gets_401_json(anonymous, etl):
    response = anonymous.get("/api/v1/dags")
    assert response.status_code == 401
    assert response.get_json()["message"]
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_health_and_metrics_need_no_login(anonymous, app):
    assert anonymous.get("/health").status_code in (200, 503)
    assert anonymous.get("/metrics").status_code == 200
    assert anonymous.get("/api/v1/openapi.json").status_code == 200


def test_login_goes_back_to_the_page_asked_for(anonymous, etl):
    token = csrf_token(anonymous)
    response = anonymous.post(
        "/login?next=/dags/etl/graph",
        data={"username": "admin", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/dags/etl/graph"


def test_login_never_redirects_off_site(anonymous, app):
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        token = csrf_token(anonymous)
        response = anonymous.post(
            "/login",
            data={"username": "admin", "password": PASSWORD, "csrf_token": token, "next": target},
        )
        assert response.headers["Location"] == "/", target


def test_wrong_password_is_refused_with_a_message(anonymous, app):
    token = csrf_token(anonymous)
    response = anonymous.post(
        "/login", data={"username": "admin", "password": "nope", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Wrong username or password" in response.get_data(as_text=True)
    assert anonymous.get("/").status_code == 302


def test_login_records_the_time_and_logout_ends_the_session(anonymous, app):
    log_in(anonymous, "admin")
    with session_scope() as session:
        assert session.query(User).filter_by(username="admin").one().last_login is not None
    anonymous.post("/logout", data={"csrf_token": csrf_token(anonymous, "/")})
    assert anonymous.get("/").status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax(anonymous, app):
    token = csrf_token(anonymous)
    response = anonymous.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_password_change_ends_existing_sessions(admin, app):
    from werkzeug.security import generate_password_hash

    with session_scope() as session:
        session.query(User).filter_by(
            username="admin"
        ).one().password_hash = generate_password_hash("new password")
    assert admin.get("/").status_code == 302


def test_post_without_csrf_token_is_rejected(admin, etl):
    response = admin.post("/dags/etl/pause", data={"is_paused": "true"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    with session_scope() as session:
        assert session.get(DagModel, "etl").is_paused is False


def test_viewer_reads_but_gets_403_on_every_change(viewer, etl):
    assert viewer.get("/dags/etl/grid").status_code == 200
    token = csrf_token(viewer, "/")
    for path in (
        "/dags/etl/pause",
        "/dags/etl/trigger",
        "/dags/etl/runs/x/clear",
        "/dags/etl/runs/x/mark",
        "/variables",
        "/connections",
        "/pools",
    ):
        assert viewer.post(path, data={"csrf_token": token}).status_code == 403, path
    assert viewer.get("/variables/new").status_code == 403
    assert viewer.get("/connections/new").status_code == 403


def test_viewer_sees_no_change_buttons(viewer, etl):
    page = viewer.get("/dags/etl/grid").get_data(as_text=True)
    assert "▶ Trigger" not in page
    assert "disabled" in page  # the pause switch


def test_api_basic_auth_reads_and_admin_changes(anonymous, etl):
    assert anonymous.get("/api/v1/dags", headers=basic("viewer")).status_code == 200
    assert anonymous.get("/api/v1/dags", headers=basic("viewer", "bad")).status_code == 401
    denied = anonymous.patch("/api/v1/dags/etl", json={"is_paused": True}, headers=basic("viewer"))
    assert denied.status_code == 403
    assert "viewer" in denied.get_json()["message"]
    allowed = anonymous.patch("/api/v1/dags/etl", json={"is_paused": True}, headers=basic("admin"))
    assert allowed.status_code == 200 and allowed.get_json()["is_paused"] is True


def test_session_api_calls_need_the_csrf_header_to_change(admin, etl):
    assert admin.get("/api/v1/dags").status_code == 200
    assert admin.patch("/api/v1/dags/etl", json={"is_paused": True}).status_code == 400
    token = csrf_token(admin, "/")
    response = admin.patch(
        "/api/v1/dags/etl", json={"is_paused": True}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200


def test_api_changes_need_a_json_body(anonymous, etl):
    response = anonymous.patch("/api/v1/dags/etl", data="is_paused=true", headers=basic("admin"))
    assert response.status_code == 415


def test_pages_carry_a_strict_content_security_policy(admin, app):
    policy = admin.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_secret_key_is_generated_once_and_kept(home, monkeypatch):
    from webui.secret import KEY_FILE_NAME, secret_key

    first = secret_key()
    assert secret_key() == first == (home / KEY_FILE_NAME).read_text()
    assert oct((home / KEY_FILE_NAME).stat().st_mode & 0o777) == "0o600"
    monkeypatch.setenv("FLOWSCHED__WEBSERVER__SECRET_KEY", "from-config")
    assert secret_key() == "from-config"


def test_basic_auth_stops_working_as_soon_as_the_password_changes(anonymous, etl):
    from werkzeug.security import generate_password_hash

    assert anonymous.get("/api/v1/dags", headers=basic("admin")).status_code == 200
    with session_scope() as session:
        session.query(User).filter_by(
            username="admin"
        ).one().password_hash = generate_password_hash("new password")
    assert anonymous.get("/api/v1/dags", headers=basic("admin")).status_code == 401
    assert anonymous.get("/api/v1/dags", headers=basic("admin", "new password")).status_code == 200


def _try_login(client, username: str, password: str):
    token = csrf_token(client)
    form = {"username": username, "password": password, "csrf_token": token}
    return client.post("/login", data=form)


def test_failed_logins_lock_the_user_out_for_a_while(anonymous, app, monkeypatch):
    monkeypatch.setenv("FLOWSCHED__WEBSERVER__FAILED_LOGINS_PER_USER", "3 per 5 minutes")
    for _ in range(3):
        assert _try_login(anonymous, "admin", "wrong").status_code == 401
    locked = _try_login(anonymous, "admin", PASSWORD)  # even the right password, for now
    assert locked.status_code == 429
    assert b"too many failed logins for this user" in locked.data
    assert int(locked.headers["Retry-After"]) > 0
    api = anonymous.get("/api/v1/dags", auth=("admin", PASSWORD))  # API basic auth too
    assert api.status_code == 429
    assert api.get_json()["message"] == "too many failed logins for this user: try again later"
    assert _try_login(anonymous, "viewer", PASSWORD).status_code == 302  # others may log in


def test_failed_logins_from_one_address_lock_that_address_out(anonymous, app, monkeypatch):
    monkeypatch.setenv("FLOWSCHED__WEBSERVER__FAILED_LOGINS_PER_ADDRESS", "4 per 5 minutes")
    for n in range(4):  # a different user name each time: the per-user count never trips
        assert anonymous.get("/api/v1/dags", auth=(f"guess{n}", "x")).status_code == 401
    refused = anonymous.get("/api/v1/dags", auth=("viewer", PASSWORD))
    assert refused.status_code == 429
    assert "from this address" in refused.get_json()["message"]
    other = app.test_client()  # another client address
    answer = other.get(
        "/api/v1/dags", auth=("viewer", PASSWORD), environ_base={"REMOTE_ADDR": "127.0.0.2"}
    )
    assert answer.status_code == 200
