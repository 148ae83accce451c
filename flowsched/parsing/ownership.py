"""Which file a dag_id belongs to when more than one file defines it.

The file that already owns a dag_id keeps it as long as it still defines it, so adding a
copy of a DAG file never takes the DAG away from the original. Among new claimants the
first path in sorted order wins. Every other claimant gets an import error naming both
files, and its other DAGs keep working.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

DUPLICATE_PREFIX = "Duplicate dag_id"


def resolve_owners(
    claims: Mapping[str, Sequence[str]], current: Mapping[str, str]
) -> dict[str, str]:
    """dag_id -> owning file, from file -> dag_ids it defines and dag_id -> current owner."""
    claimants: dict[str, list[str]] = {}
    for fileloc in sorted(claims):
        for dag_id in claims[fileloc]:
            claimants.setdefault(dag_id, []).append(fileloc)
    return {
        dag_id: current[dag_id] if current.get(dag_id) in files else files[0]
        for dag_id, files in claimants.items()
    }


def lost_dag_ids(fileloc: str, claims: Sequence[str], owners: Mapping[str, str]) -> list[str]:
    return [dag_id for dag_id in claims if owners.get(dag_id) != fileloc]


def duplicate_message(fileloc: str, lost: Sequence[str], owners: Mapping[str, str]) -> str:
    """One line naming both files, e.g. for `dags list-import-errors`."""
    parts = [f"{dag_id!r} is already defined in {owners[dag_id]}" for dag_id in lost]
    return f"{DUPLICATE_PREFIX}: {'; '.join(parts)}; the one in {fileloc} is ignored"
