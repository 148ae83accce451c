"""FileSensor: wait for a file (or a glob match, or a non-empty directory) to exist."""

from __future__ import annotations

import glob
import os
from typing import Any

from flowsched.sensors.base import BaseSensorOperator

DEFAULT_CONN_ID = "fs_default"


class FileSensor(BaseSensorOperator):
    """``filepath`` may be a glob (``**`` with ``recursive=True``). A relative path is
    joined to the ``path`` extra of the ``fs_conn_id`` connection, as Airflow's FSHook
    does; a missing ``fs_default`` connection means no base path."""

    template_fields = ("filepath",)
    ui_color = "#91818a"

    def __init__(
        self,
        *,
        filepath: str,
        fs_conn_id: str = DEFAULT_CONN_ID,
        recursive: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filepath = filepath
        self.fs_conn_id = fs_conn_id
        self.recursive = recursive

    def poke(self, context: dict[str, Any]) -> bool:
        pattern = self.filepath
        if not os.path.isabs(pattern):
            pattern = os.path.join(self._base_path(), pattern)
        self.log.info("Poking for file %s", pattern)
        for path in glob.glob(pattern, recursive=self.recursive):
            if os.path.isfile(path):
                self.log.info("Found file %s", path)
                return True
            for _, _, files in os.walk(path):
                if files:
                    self.log.info("Found files in directory %s", path)
                    return True
        return False

    def _base_path(self) -> str:
        from flowsched.db.connection import Connection, ConnectionNotFound

        try:
            connection = Connection.get_connection_from_secrets(self.fs_conn_id)
        except ConnectionNotFound:
            if self.fs_conn_id == DEFAULT_CONN_ID:
                return ""
            raise
        return connection.extra_dejson.get("path", "")
