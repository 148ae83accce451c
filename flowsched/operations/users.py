"""Accounts that may log in to the web UI and its API: create, delete, find, list.

Passwords are kept only as werkzeug hashes (scrypt), so a leaked database does not leak
them. Checking a password at login is the web UI's business (``webui.users``).
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from flowsched.db.tables import User
from flowsched.db.user import ROLES
from flowsched.operations import audit
from flowsched.operations.errors import Conflict, Invalid, NotFound

# Airflow's roles -> the flowsched role that allows at least what the person needs. Only
# "admin" may change anything, so Op and User (who trigger, clear and pause in Airflow)
# become admins: they can also edit connections, variables, pools and users here.
AIRFLOW_ROLES = {"Admin": "admin", "Op": "admin", "User": "admin", "Viewer": "viewer"}
NO_PUBLIC_ROLE = (
    "flowsched has no Public role (every user logs in and can read): "
    "give Viewer for read-only access"
)


def role_for(name: str) -> str:
    """flowsched's role for ``name``: one of flowsched's roles or of Airflow's (any case)."""
    lowered = name.lower()
    if lowered in ROLES:
        return lowered
    for airflow_role, role in AIRFLOW_ROLES.items():
        if airflow_role.lower() == lowered:
            return role
    if lowered == "public":
        raise Invalid(NO_PUBLIC_ROLE)
    choices = ", ".join([*ROLES, *AIRFLOW_ROLES])
    raise Invalid(f"role must be one of {choices}, not {name!r}")


def get_user(session: Session, username: str) -> User:
    user = find_user(session, username)
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def set_role(session: Session, username: str, role: str, *, actor: str) -> User:
    """Give a user a role (Airflow's name or flowsched's); a flowsched user has one role,
    so this replaces the one they had."""
    user = get_user(session, username)
    user.role = role_for(role)
    audit.record(session, actor, "user_role", extra={"username": username, "role": user.role})
    return user


def remove_role(session: Session, username: str, role: str, *, actor: str) -> User:
    """Take a role away: an admin keeps reading (becomes viewer); a viewer cannot lose
    the last role every user has -- delete the user instead."""
    user = get_user(session, username)
    if user.role != role_for(role):
        raise Conflict(f"user {username!r} does not have role {role!r} (they are {user.role})")
    if user.role == "viewer":
        raise Conflict(f"viewer is the least a user has: delete user {username!r} instead")
    return set_role(session, username, "viewer", actor=actor)


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    email: str | None = None,
    *,
    actor: str,
) -> User:
    role = role_for(role)
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
    session.delete(get_user(session, username))
    audit.record(session, actor, "user_delete", extra={"username": username})


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def set_password(session: Session, username: str, password: str, *, actor: str) -> None:
    if not password:
        raise Invalid("the password cannot be empty")
    get_user(session, username).password_hash = generate_password_hash(password)
    audit.record(session, actor, "user_password", extra={"username": username})


def import_users(session: Session, records: list[Any], *, actor: str) -> tuple[int, int]:
    """Airflow's ``users export`` format: a list of {username, email, roles, ...}. Existing
    users get the file's role and e-mail; new ones its "password", or a random one (they
    cannot log in until someone runs ``users reset-password``). Returns (created, updated)."""
    created = updated = 0
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict) or not record.get("username") or not record.get("roles"):
            raise Invalid(f"user {number}: needs a username and a list of roles")
        roles = [role_for(name) for name in record["roles"]]
        role = "admin" if "admin" in roles else "viewer"
        user = find_user(session, record["username"])
        if user is None:
            password = record.get("password") or secrets.token_urlsafe(24)
            create_user(session, record["username"], password, role, record.get("email"),
                        actor=actor)  # fmt: skip
            created += 1
        else:
            user.role, user.email = role, record.get("email") or user.email
            updated += 1
    return created, updated
