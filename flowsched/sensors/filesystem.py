"""FileSensor: wait for a file (or a glob match, or a non-empty directory) to exist."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from flowsched.exceptions import FlowschedException
from flowsched.sensors.base import BaseSensorOperator
from flowsched.triggers.base import default_deferrable
from flowsched.triggers.file import FileTrigger, find_file

DEFAULT_CONN_ID = "fs_default"


class FileSensor(BaseSensorOperator):
    """``filepath`` may be a glob (``**`` with ``recursive=True``). A relative path is
    joined to the ``path`` extra of the ``fs_conn_id`` connection, as Airflow's FSHook
    does; a missing ``fs_default`` connection means no base path. With ``deferrable=True``
    it waits without holding a worker slot between pokes."""

    template_fields = ("filepath",)
    ui_color = "#91818a"

    def __init__(
        self,
        *,
        filepath: str,
        fs_conn_id: str = DEFAULT_CONN_ID,
        recursive: bool = False,
        deferrable: bool | None = None,
        start_from_trigger: bool = False,
        trigger_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filepath = filepath
        self.fs_conn_id = fs_conn_id
        self.recursive = recursive
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.start_from_trigger = start_from_trigger

    @property
    def path(self) -> str:
        if os.path.isabs(self.filepath):
            return self.filepath
        return os.path.join(self._base_path(), self.filepath)

    def poke(self, context: dict[str, Any]) -> bool:
        pattern = self.path
        self.log.info("Poking for file %s", pattern)
        found = find_file(pattern, self.recursive)
        if found is not None:
            self.log.info("Found %s", found)
        return found is not None

    def execute(self, context: dict[str, Any]) -> Any:
        if not self.deferrable:
            return super().execute(context)
        if not self.poke(context):
            trigger = FileTrigger(self.path, self.recursive, self.poke_interval)
            self.defer(
                trigger=trigger,
                method_name="execute_complete",
                timeout=timedelta(seconds=self.timeout),
            )
        return None

    def execute_complete(self, context: dict[str, Any], event: bool | None = None) -> None:
        if not event:
            raise FlowschedException(f"{self.task_id} task failed as {self.filepath} not found.")
        self.log.info("%s completed successfully as %s found.", self.task_id, self.filepath)

    def _base_path(self) -> str:
        from flowsched.db.connection import Connection, ConnectionNotFound

        try:
            connection = Connection.get_connection_from_secrets(self.fs_conn_id)
        except ConnectionNotFound:
            if self.fs_conn_id == DEFAULT_CONN_ID:
                return ""
            raise
        return connection.extra_dejson.get("path", "")
