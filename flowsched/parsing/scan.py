"""One scan of the dags folder: files on disk in, DAG rows and import errors out.

The scheduler calls ``parse_dags_folder`` every ``scheduler.dag_dir_list_interval``, and
every `flowsched dags ...` command calls it before it answers, so a scan of an unchanged
folder costs a folder walk, a stat per file and three narrow queries: no child process,
no write.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from flowsched.config import conf
from flowsched.parsing.changes import ChangedFile, ScanPlan, plan_scan
from flowsched.parsing.dagbag import FileResult
from flowsched.parsing.discover import list_dag_files, might_contain_dag
from flowsched.parsing.isolation import load_files
from flowsched.parsing.ownership import DUPLICATE_PREFIX, resolve_owners
from flowsched.parsing.store import DagRow, ScanWrite, Snapshot, read_snapshot, write_scan

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanResult:
    parsed: int  # files whose new content was read (imported, unless it never says "dag")
    unchanged: int  # files skipped: same mtime, or same content
    errors: int  # files with an import error after this scan
    removed: int  # DAGs this scan marked inactive (their file is gone or no longer has them)
    duration: float  # seconds


def parse_dags_folder(folder: Path | None = None) -> ScanResult:
    """Bring the DB up to date with ``folder`` (default: ``core.dags_folder``)."""
    started = time.monotonic()
    root = Path(folder or conf.core.dags_folder).absolute()
    snapshot = read_snapshot()
    plan = plan_scan(list_dag_files(root), snapshot.files)
    results = _load(plan.changed)
    claims = _claims(plan, results, snapshot)
    owners = resolve_owners(claims, snapshot.active_owners())
    stale = _needing_reimport(plan.unchanged, claims, owners, snapshot)
    if stale:
        results.update(_load(plan.reimport(stale)))
        claims = _claims(plan, results, snapshot)
        owners = resolve_owners(claims, snapshot.active_owners())
    if not plan.has_changes:
        return ScanResult(0, len(plan.unchanged), len(snapshot.errors), 0, _since(started))
    removed, errors = write_scan(ScanWrite(plan, results, claims, owners))
    result = ScanResult(len(plan.changed), len(plan.unchanged), errors, removed, _since(started))
    log.info("Scanned %s: %s", root, result)
    return result


def _since(started: float) -> float:
    return time.monotonic() - started


def _load(changed: list[ChangedFile]) -> dict[str, FileResult]:
    """Import the changed files; one that never mentions "dag" holds no DAG, unimported."""
    results = {file.fileloc: FileResult(file.fileloc) for file in changed}
    candidates = [file.path for file in changed if might_contain_dag(file.source)]
    for result in load_files(
        candidates,
        timeout=conf.core.dagbag_import_timeout,
        processes=conf.core.parsing_processes,
    ):
        results[result.fileloc] = result
    return results


def _claims(
    plan: ScanPlan, results: dict[str, FileResult], snapshot: Snapshot
) -> dict[str, list[str]]:
    """file -> the dag_ids it defines.

    A file that fails to import keeps the dag_ids of its last good import, so a typo
    being fixed does not deactivate its DAGs (they keep their last good structure).
    """
    claims = {fileloc: list(snapshot.files[fileloc].dag_ids) for fileloc in plan.unchanged}
    for fileloc, result in results.items():
        if result.failure is None:
            claims[fileloc] = [dag.dag_id for dag in result.dags]
        else:
            known = snapshot.files.get(fileloc)
            claims[fileloc] = list(known.dag_ids) if known else []
    return claims


def _needing_reimport(
    unchanged: list[str], claims: dict[str, list[str]], owners: dict[str, str], snapshot: Snapshot
) -> list[str]:
    """Unchanged files that now own a DAG the DB does not show as theirs.

    That happens when the file that held a dag_id drops it (the duplicate becomes the
    DAG) or when a DAG's row was deleted by hand while its file stayed. A file whose last
    import failed is left alone: importing the same bytes again fails the same way.
    """
    stale = []
    for fileloc in unchanged:
        error = snapshot.errors.get(fileloc)
        if error is not None and not error.startswith(DUPLICATE_PREFIX):
            continue
        mine = DagRow(fileloc, is_active=True)
        if any(
            owners.get(dag_id) == fileloc and snapshot.dags.get(dag_id) != mine
            for dag_id in claims[fileloc]
        ):
            stale.append(fileloc)
    return stale
