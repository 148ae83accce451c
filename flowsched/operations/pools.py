"""Pools: named limits on how many task slots run at once.

``default_pool`` always exists: tasks that name no pool use it, so it is created with
``core.default_pool_slots`` the first time it is needed and can be resized, never deleted.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from flowsched.config import conf
from flowsched.db.tables import DEFAULT_POOL, Pool
from flowsched.operations import audit
from flowsched.operations.errors import Invalid, NotFound

POOL_NAME_LENGTH = 256


def ensure_default_pool(session: Session) -> Pool:
    pool = session.get(Pool, DEFAULT_POOL)
    if pool is None:
        pool = Pool(
            pool=DEFAULT_POOL,
            slots=conf.core.default_pool_slots,
            description="Default pool",
        )
        session.add(pool)
        session.flush()
    return pool


def set_pool(
    session: Session, name: str, slots: object, *, actor: str, description: str | None = None
) -> Pool:
    """Create a pool or change its slots; a description of None leaves the stored one
    (an empty string clears it). The scheduler reads slots on its next pass."""
    if not 0 < len(name.strip()) <= POOL_NAME_LENGTH:
        raise Invalid(f"a pool name has 1 to {POOL_NAME_LENGTH} characters")
    if isinstance(slots, bool) or not isinstance(slots, int) or slots < 0:
        raise Invalid("slots must be a whole number, 0 or more")
    ensure_default_pool(session)
    pool = session.get(Pool, name)
    if pool is None:
        pool = Pool(pool=name)
        session.add(pool)
    pool.slots = slots
    if description is not None:
        pool.description = description or None
    audit.record(session, actor, "pool_set", extra={"pool": name, "slots": slots})
    return pool


def delete_pool(session: Session, name: str, *, actor: str) -> None:
    """Any pool but default_pool (tasks without a pool need it)."""
    if name == DEFAULT_POOL:
        raise Invalid(f"{DEFAULT_POOL} cannot be deleted (set its slots instead)")
    pool = session.get(Pool, name)
    if pool is None:
        raise NotFound(f"no pool named {name!r}")
    session.delete(pool)
    audit.record(session, actor, "pool_delete", extra={"pool": name})
