"""Importing one DAG file: the only place (with the runner) where user code runs.

``import_dag_file`` is the in-process import the runner uses. ``load_file`` is what a
parsing child does with one file: import it, serialize its DAGs and turn any failure into
an ``ImportFailure`` whose one-line message points at the user's line, because that
message is what people read in `dags list-import-errors` and in the UI.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from flowsched.config import conf

if TYPE_CHECKING:
    from flowsched.authoring.dag import DAG


TIMEOUT_SETTING = "core.dagbag_import_timeout"


class ImportTimeout(BaseException):
    """Raised inside a parsing child when core.dagbag_import_timeout runs out.

    A BaseException, so that a DAG file's own ``except Exception`` cannot swallow it.
    """


@dataclass
class ParsedDag:
    dag_id: str
    data: dict[str, Any]
    dag_hash: str


@dataclass
class ImportFailure:
    message: str
    traceback: str = ""


@dataclass
class FileResult:
    """What importing one file gave: its DAGs, or why it failed."""

    fileloc: str
    dags: list[ParsedDag] = field(default_factory=list)
    failure: ImportFailure | None = None
    duration: float = 0.0


def module_name_for(path: Path) -> str:
    """A module name unique to the path, so two ``etl.py`` in different folders never clash."""
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:16]
    return f"unusual_prefix_{digest}_{path.stem.replace('.', '_')}"


def import_dag_file(path: Path | str) -> list[DAG]:
    """Import ``path`` as a fresh module and return the DAGs it defines.

    The dags folder goes on ``sys.path`` first, as in Airflow, so that DAG files can
    import helper modules kept beside them.
    """
    from flowsched.authoring.dag import collect_dags, reset_registry

    path = Path(path).absolute()
    _ensure_on_sys_path(conf.core.dags_folder)
    name = module_name_for(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    reset_registry()
    try:
        spec.loader.exec_module(module)
        return collect_dags(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise


def _ensure_on_sys_path(folder: str) -> None:
    if folder not in sys.path:
        sys.path.append(folder)


def load_file(path: Path) -> FileResult:
    """Import and serialize one file; every failure becomes the file's ImportFailure."""
    from flowsched.parsing.serialize import serialize_dag
    from flowsched.serialized import dag_hash

    started = time.monotonic()
    result = FileResult(fileloc=str(path))
    try:
        for dag in import_dag_file(path):
            data = serialize_dag(dag)
            result.dags.append(ParsedDag(dag.dag_id, data, dag_hash(data)))
    except BaseException as exc:  # the user's code may raise anything, SystemExit included
        result.dags = []
        result.failure = describe_failure(exc, path)
    result.duration = time.monotonic() - started
    return result


def describe_failure(exc: BaseException, path: Path) -> ImportFailure:
    """One line that says what and where, plus the traceback from the user's frame on."""
    frames = _from_first_frame_in(exc.__traceback__, str(path))
    line = _last_line_in(frames, str(path))
    where = f" (line {line})" if line is not None and not isinstance(exc, SyntaxError) else ""
    if isinstance(exc, ImportTimeout):
        message = f"{exc}{where}; the limit is {TIMEOUT_SETTING}"
    else:
        message = " ".join(f"{type(exc).__name__}: {exc}".split()) + where
    if frames is None and not isinstance(exc, SyntaxError):
        frames = exc.__traceback__
    report = traceback.TracebackException(type(exc), exc, frames)
    if isinstance(exc, ImportTimeout):  # the last frame is the alarm handler, not the user's
        report.stack = traceback.StackSummary.from_list(report.stack[:-1])
    return ImportFailure(message, "".join(report.format()))


def _from_first_frame_in(tb: TracebackType | None, filename: str) -> TracebackType | None:
    """Drop the importlib and flowsched frames above the user's file: they are noise."""
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    return tb


def _last_line_in(tb: TracebackType | None, filename: str) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
