"""Which files in the dags folder may hold DAGs.

A ``.flowschedignore`` file holds gitignore-style glob patterns (``#`` comments, ``!``
negation, ``dir/`` for folders only, ``**``). It applies to its own folder and every
folder below it, with paths read relative to the folder it sits in, so a team can drop
one into a sub-folder without knowing where that folder is mounted. Each ignore file is
matched on its own: a ``!pattern`` re-includes only what an earlier line of the same file
excluded. An ignored folder is not walked at all, which keeps scans of big trees cheap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pathspec import GitIgnoreSpec

IGNORE_FILE_NAME = ".flowschedignore"


@dataclass(frozen=True)
class _IgnoreRules:
    base: str
    spec: GitIgnoreSpec

    def ignores(self, path: str, is_dir: bool) -> bool:
        relative = os.path.relpath(path, self.base).replace(os.sep, "/")
        return self.spec.match_file(relative + "/" if is_dir else relative)


def might_contain_dag(source: bytes) -> bool:
    """Airflow's safe-mode heuristic: a file that never says "dag" cannot define one.

    Importing a module is far dearer than this substring test, and helper modules
    beside DAG files (and their import-time side effects) are then never run.
    """
    return b"dag" in source or b"DAG" in source


def list_dag_files(folder: Path) -> list[Path]:
    """Every ``*.py`` file under ``folder`` that no ``.flowschedignore`` excludes, sorted.

    The order is stable (sorted by path) because it decides which of two files defining
    the same dag_id is reported as the duplicate. A missing folder holds no files.
    """
    found: list[Path] = []
    _walk(str(folder), [], set(), found)
    return sorted(found)


def _walk(
    folder: str, inherited: list[_IgnoreRules], seen: set[tuple[int, int]], found: list[Path]
) -> None:
    try:
        entries = list(os.scandir(folder))
        identity = os.stat(folder)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return
    if (identity.st_dev, identity.st_ino) in seen:  # a symlink loop
        return
    seen.add((identity.st_dev, identity.st_ino))
    rules = inherited + _rules_in(folder)
    for entry in entries:
        is_dir = entry.is_dir()
        if any(rule.ignores(entry.path, is_dir) for rule in rules):
            continue
        if is_dir:
            _walk(entry.path, rules, seen, found)
        elif entry.name.endswith(".py") and entry.is_file():
            found.append(Path(entry.path))


def _rules_in(folder: str) -> list[_IgnoreRules]:
    try:
        text = Path(folder, IGNORE_FILE_NAME).read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, IsADirectoryError):
        return []
    return [_IgnoreRules(folder, GitIgnoreSpec.from_lines(text.splitlines()))]
