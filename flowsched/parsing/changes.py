"""Which DAG files changed since the last scan.

A stat per file is all an unchanged folder costs: a file whose mtime matches its
``dag_file`` row is skipped without being read. Only when the mtime moved is the file read
and hashed, so that a ``touch`` or a checkout that rewrites identical bytes does not make
the file be imported again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class KnownFile:
    """What the last scan stored about a file (its ``dag_file`` row)."""

    mtime: float
    content_hash: str
    dag_ids: tuple[str, ...]


@dataclass(frozen=True)
class ChangedFile:
    """A file to import: new, or its content differs from the stored one."""

    path: Path
    mtime: float
    content_hash: str
    source: bytes

    @property
    def fileloc(self) -> str:
        return str(self.path)


@dataclass
class ScanPlan:
    changed: list[ChangedFile] = field(default_factory=list)
    touched: dict[str, float] = field(default_factory=dict)  # same content, new mtime
    unchanged: list[str] = field(default_factory=list)  # touched files included
    gone: list[str] = field(default_factory=list)  # stored, but no longer in the folder

    @property
    def has_changes(self) -> bool:
        return bool(self.changed or self.touched or self.gone)

    def reimport(self, filelocs: Iterable[str]) -> list[ChangedFile]:
        """Move unchanged files to ``changed``, e.g. when a dag_id they define is free again."""
        again = [read_file(Path(fileloc)) for fileloc in filelocs]
        moved = {file.fileloc for file in again}
        self.unchanged = [fileloc for fileloc in self.unchanged if fileloc not in moved]
        for fileloc in moved:
            self.touched.pop(fileloc, None)
        self.changed.extend(again)
        return again


def read_file(path: Path) -> ChangedFile:
    mtime = path.stat().st_mtime
    source = path.read_bytes()
    return ChangedFile(path, mtime, hashlib.sha256(source).hexdigest(), source)


def plan_scan(paths: Iterable[Path], known: Mapping[str, KnownFile]) -> ScanPlan:
    plan = ScanPlan()
    seen: set[str] = set()
    for path in paths:
        fileloc = str(path)
        try:
            _classify(path, known.get(fileloc), plan)
        except FileNotFoundError:  # deleted while we scan: it is gone
            continue
        seen.add(fileloc)
    plan.gone = sorted(fileloc for fileloc in known if fileloc not in seen)
    return plan


def _classify(path: Path, previous: KnownFile | None, plan: ScanPlan) -> None:
    fileloc = str(path)
    if previous is not None and path.stat().st_mtime == previous.mtime:
        plan.unchanged.append(fileloc)
        return
    current = read_file(path)
    if previous is not None and current.content_hash == previous.content_hash:
        plan.touched[fileloc] = current.mtime
        plan.unchanged.append(fileloc)
    else:
        plan.changed.append(current)
