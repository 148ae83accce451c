"""Pools with their use: slots taken by running and by queued task instances."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flowsched.config import conf
from flowsched.db.tables import DEFAULT_POOL, Pool, TaskInstance


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
