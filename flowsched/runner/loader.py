"""The DAG a try belongs to, imported from its file once per version of that file.

A worker runs many tries of the same few files; importing a file costs far more than a
try of a small task, so the imported DAGs are kept until the file's mtime or size
changes. Forked try processes inherit them for free.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from flowsched.exceptions import FlowschedException

if TYPE_CHECKING:
    from flowsched.authoring.dag import DAG

_cache: dict[str, tuple[tuple[int, int], dict[str, DAG]]] = {}


class DagNotFound(FlowschedException):
    """The DAG file no longer defines the DAG a task instance belongs to."""


def _version(path: str) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_mtime_ns, stat.st_size


def load_dags(fileloc: str) -> dict[str, DAG]:
    """The DAGs of ``fileloc`` by id; user code runs here when the file is new or changed."""
    from flowsched.authoring.templating import jinja_env_for
    from flowsched.parsing.dagbag import import_dag_file

    path = os.path.abspath(fileloc)
    version = _version(path)
    cached = _cache.get(path)
    if cached is not None and cached[0] == version:
        return cached[1]
    dags = {dag.dag_id: dag for dag in import_dag_file(path)}
    for dag in dags.values():
        jinja_env_for(dag)  # built once here and cached on the DAG, not in every try
    _cache[path] = (version, dags)
    return dags


def load_dag(fileloc: str, dag_id: str) -> DAG:
    dags = load_dags(fileloc)
    if dag_id not in dags:
        raise DagNotFound(f"DAG {dag_id!r} is not defined in {fileloc} (any more)")
    return dags[dag_id]
