"""``flowsched pools``: named limits on how many task slots run at once.

``default_pool`` always exists: tasks that name no pool use it, so it is created with
``core.default_pool_slots`` the first time it is needed and can be resized, never deleted.
"""

from __future__ import annotations

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flowsched.cli.lookups import operate
from flowsched.cli.output import output_option, render
from flowsched.db import require_current_schema, session_scope
from flowsched.db.tables import Pool, TaskInstance, TaskInstanceState
from flowsched.operations import pools as pool_ops
from flowsched.operations.pools import ensure_default_pool


@click.group()
def pools() -> None:
    """Set, list and delete pools."""


@pools.command("set")
@click.argument("name")
@click.argument("slots", type=click.IntRange(min=0))
@click.option("--description", help="What the pool limits.")
def set_pool(name: str, slots: int, description: str | None) -> None:
    """Create a pool or change its slots (and description)."""
    operate(pool_ops.set_pool, name, slots, description=description)
    click.echo(f"Pool {name!r} set to {slots} slot{'' if slots == 1 else 's'}.")


@pools.command("list")
@output_option
def list_pools(output: str) -> None:
    """Every pool with its slots in use (running, queued) and open."""
    require_current_schema()
    with session_scope() as session:
        ensure_default_pool(session)
        used = _slots_in_use(session)
        rows = []
        for pool in session.scalars(select(Pool).order_by(Pool.pool)):
            running = used.get((pool.pool, TaskInstanceState.RUNNING), 0)
            queued = used.get((pool.pool, TaskInstanceState.QUEUED), 0)
            rows.append(
                {
                    "pool": pool.pool,
                    "slots": pool.slots,
                    "running": running,
                    "queued": queued,
                    "open": pool.slots - running - queued,
                    "description": pool.description,
                }
            )
    render(rows, ["pool", "slots", "running", "queued", "open", "description"], output)


def _slots_in_use(session: Session) -> dict[tuple[str, str | None], int]:
    """(pool, state) -> slots taken by running and queued task instances."""
    statement = (
        select(TaskInstance.pool, TaskInstance.state, func.sum(TaskInstance.pool_slots))
        .where(TaskInstance.state.in_([TaskInstanceState.RUNNING, TaskInstanceState.QUEUED]))
        .group_by(TaskInstance.pool, TaskInstance.state)
    )
    return {(pool, state): int(total) for pool, state, total in session.execute(statement)}


@pools.command("delete")
@click.argument("name")
def delete_pool(name: str) -> None:
    """Delete a pool (not default_pool: tasks without a pool need it)."""
    operate(pool_ops.delete_pool, name)
    click.echo(f"Pool {name!r} deleted.")
