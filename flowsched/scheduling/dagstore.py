"""Serialized DAGs by dag_id, read from the database only when their hash changes.

The scheduler looks a DAG up for every run it touches; parsing its JSON each time would
dominate a pass for big DAGs. A DAG's hash is checked at most once between two calls of
``new_pass`` (the scheduler calls it on full passes, so an event pass costs no lookup).
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from flowsched.db.tables import SerializedDagModel
from flowsched.serialized import SerializedDAG

_HASH = select(SerializedDagModel.dag_hash).where(SerializedDagModel.dag_id == bindparam("dag_id"))


class DagStore:
    def __init__(self) -> None:
        self._dags: dict[str, tuple[str, SerializedDAG]] = {}
        self._checked: set[str] = set()

    def new_pass(self) -> None:
        """Forget which hashes were checked, so DAGs parsed since then are seen."""
        self._checked.clear()

    def get(self, session: Session, dag_id: str) -> SerializedDAG | None:
        """The current structure of ``dag_id``, or None if it has none (deleted, never parsed)."""
        if dag_id not in self._checked:
            stored = session.connection().execute(_HASH, {"dag_id": dag_id}).scalar()
            self._load_if_changed(session, dag_id, stored)
        cached = self._dags.get(dag_id)
        return cached[1] if cached else None

    def changed(self, session: Session) -> list[str]:
        """Load every DAG whose hash differs from the cached one; their ids (new ones too)."""
        query = select(SerializedDagModel.dag_id, SerializedDagModel.dag_hash)
        stored = dict(session.execute(query).all())
        for gone in set(self._dags) - set(stored):
            del self._dags[gone]
        changed = [
            dag_id
            for dag_id, dag_hash in stored.items()
            if self._load_if_changed(session, dag_id, dag_hash)
        ]
        return changed

    def _load_if_changed(self, session: Session, dag_id: str, dag_hash: str | None) -> bool:
        self._checked.add(dag_id)
        cached = self._dags.get(dag_id)
        if dag_hash is None:
            self._dags.pop(dag_id, None)
            return False
        if cached is not None and cached[0] == dag_hash:
            return False
        data = session.scalars(
            select(SerializedDagModel.data).where(SerializedDagModel.dag_id == dag_id)
        ).one()
        self._dags[dag_id] = (dag_hash, SerializedDAG.from_dict(data))
        return True
