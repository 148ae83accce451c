"""Wake the scheduler once the caller's transaction commits, not before.

A nudge sent before the commit would wake a scheduler that cannot see the new run yet (it
would then sleep a whole poll); a rolled-back change sends none.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from flowsched.wakeup import nudge_scheduler

_PENDING = "flowsched.operations.nudge"


def nudge_after_commit(session: Session) -> None:
    """Nudge the scheduler when ``session`` next commits (once, however many changes)."""
    if session.info.get(_PENDING):
        return
    session.info[_PENDING] = True
    event.listen(session, "after_commit", _nudge, once=True)


def _nudge(session: Session) -> None:
    session.info.pop(_PENDING, None)
    nudge_scheduler()
