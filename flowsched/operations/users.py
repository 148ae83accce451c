"""Accounts that may log in to the web UI and its API: create, delete, find, list.

Passwords are kept only as werkzeug hashes (scrypt), so a leaked database does not leak
them. Checking a password at login is the web UI's business (``webui.users``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from flowsched.db.tables import User
from flowsched.db.user import ROLES
from flowsched.operations import audit
from flowsched.operations.errors import Conflict, Invalid, NotFound


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    email: str | None = None,
    *,
    actor: str,
) -> User:
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not username.strip():
        raise Invalid("the username cannot be empty")
    if not password:
        raise Invalid("the password cannot be empty")
    if find_user(session, username) is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(
        username=username, password_hash=generate_password_hash(password), role=role, email=email
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user_create", extra={"username": username, "role": role})
    return user


def delete_user(session: Session, username: str, *, actor: str) -> None:
    """Their open sessions end at their next request (the session names a user id)."""
    user = find_user(session, username)
    if user is None:
        raise NotFound(f"no user named {username!r}")
    session.delete(user)
    audit.record(session, actor, "user_delete", extra={"username": username})


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))
