"""Pools: named limits on how many task slots run at once, and the slots in use.

``default_pool`` always exists: tasks that name no pool use it, so it is created with
``core.default_pool_slots`` the first time it is needed and can be resized, never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flowsched.config import conf
from flowsched.db.tables import DEFAULT_POOL, Pool, TaskInstance
from flowsched.operations import audit
from flowsched.operations.errors import Invalid, NotFound
from flowsched.operations.nudge import nudge_after_commit

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
    (an empty string clears it)."""
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
    nudge_after_commit(session)  # more slots may let queued tries start now
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


@dataclass
class PoolUse:
    pool: str
    slots: int
    description: str | None
    running: int = 0
    queued: int = 0

    @property
    def open_slots(self) -> int:
        return self.slots - self.running - self.queued


def pools_in_use(session: Session) -> list[PoolUse]:
    """Every pool; ``default_pool`` is listed even before anyone stored it."""
    pools = {
        p.pool: PoolUse(p.pool, p.slots, p.description)
        for p in session.scalars(select(Pool).order_by(Pool.pool))
    }
    pools.setdefault(
        DEFAULT_POOL,
        PoolUse(DEFAULT_POOL, conf.core.default_pool_slots, "Default pool"),
    )
    used = session.execute(
        select(TaskInstance.pool, TaskInstance.state, func.sum(TaskInstance.pool_slots))
        .where(TaskInstance.state.in_(["running", "queued"]))
        .group_by(TaskInstance.pool, TaskInstance.state)
    )
    for pool, state, slots in used:
        if pool in pools and state:
            setattr(pools[pool], state, int(slots or 0))
    return sorted(pools.values(), key=lambda p: (p.pool != DEFAULT_POOL, p.pool))
