"""The Celery message that carries one try from a scheduler to a worker.

It names the try and its DAG file, nothing more: the try reads everything else from the
metadata database, which is the truth on both sides. The file is sent twice, as the
scheduler's absolute path and relative to the scheduler's dags folder, because a worker
on another machine may mount the shared dags folder somewhere else; the worker resolves
the relative path against its own ``core.dags_folder``.
"""

from __future__ import annotations

import os
from typing import Any

from flowsched.config import conf
from flowsched.tries import TaskKey

TASK_NAME = "flowsched.run_try"


def message_args(key: TaskKey, fileloc: str) -> list[Any]:
    """The task's positional arguments (JSON-serialisable)."""
    folder = os.path.abspath(conf.core.dags_folder)
    path = os.path.abspath(fileloc)
    inside = os.path.commonpath([folder, path]) == folder
    return [list(key), path, os.path.relpath(path, folder) if inside else None]


def read_message(key: list[Any], fileloc: str, dags_relative: str | None) -> tuple[TaskKey, str]:
    """The try and the path of its DAG file on this machine."""
    if dags_relative is not None:
        fileloc = os.path.join(conf.core.dags_folder, dags_relative)
    return TaskKey(*key), fileloc
