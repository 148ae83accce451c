"""Checking a password: the login page and HTTP basic auth. Accounts are created and
deleted by ``flowsched.operations.users`` (the CLI and any future admin page)."""

from __future__ import annotations

import hashlib
import time

from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from flowsched.db.tables import User
from flowsched.operations.users import find_user

# A hash to compare against when the username is unknown, so that a failed login takes
# as long for a missing user as for a wrong password (no user enumeration by timing).
_DUMMY_HASH = generate_password_hash("flowsched-no-such-user")


class VerifiedCredentials:
    """Passwords checked in the last few minutes, so that a script calling the API with
    basic auth pays the deliberately slow scrypt check (~0.1 s of CPU) once in a while,
    not on every request. A changed password changes the stored hash, which is part of
    the key, so the old password stops working at once.
    """

    def __init__(self, ttl: float = 300.0, size: int = 1024) -> None:
        self.ttl = ttl
        self.size = size
        self._expiry: dict[tuple[str, str, str], float] = {}

    def check(self, user: User, password: str) -> bool:
        digest = hashlib.sha256(password.encode()).hexdigest()
        key = (user.username, user.password_hash, digest)
        now = time.monotonic()
        if self._expiry.get(key, 0.0) > now:
            return True
        if not check_password_hash(user.password_hash, password):
            return False
        if len(self._expiry) >= self.size:
            self._expiry.clear()
        self._expiry[key] = now + self.ttl
        return True


def authenticate(
    session: Session, username: str, password: str, verified: VerifiedCredentials | None = None
) -> User | None:
    """The user if the password matches, else None."""
    user = find_user(session, username)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if verified is not None:
        return user if verified.check(user, password) else None
    return user if check_password_hash(user.password_hash, password) else None
