"""Priming a process whose forked children will run tries.

SQLAlchemy builds its ORM loaders lazily, on a class's first query in a process. A try
process forked from a process that never ran those queries builds them again, for every
try: tens of milliseconds of pure overhead per no-op task. Running the try's read
queries once (against a key that matches nothing) in the parent leaves them built in
every child it forks later.
"""

from __future__ import annotations

from sqlalchemy.orm import configure_mappers

from flowsched.db import session_scope
from flowsched.db.tables import DagRun, TaskInstance, XCom, utcnow
from flowsched.runner.try_context import previous_success


def warm_up() -> None:
    configure_mappers()
    with session_scope(readonly=True) as session:
        session.get(TaskInstance, ("", "", "", -1))
        session.get(XCom, ("", "", "", -1, ""))
        previous_success(session, DagRun(dag_id="", logical_date=utcnow()))
