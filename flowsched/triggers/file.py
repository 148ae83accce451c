"""FileTrigger: fires once a file matching a glob exists (or a matching folder holds files)."""

from __future__ import annotations

import glob
import os
from datetime import datetime, timedelta
from typing import Any

from flowsched.triggers.base import BaseTrigger, TriggerEvent


def find_file(pattern: str, recursive: bool = False) -> str | None:
    """The first path matching ``pattern`` that is a file or a folder with files in it."""
    for path in glob.glob(pattern, recursive=recursive):
        if os.path.isfile(path):
            return path
        for _, _, files in os.walk(path):
            if files:
                return path
    return None


class FileTrigger(BaseTrigger):
    def __init__(self, filepath: str, recursive: bool = False, poke_interval: float = 5.0) -> None:
        self.filepath = filepath
        self.recursive = recursive
        self.poke_interval = poke_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "flowsched.triggers.file.FileTrigger",
            {
                "filepath": self.filepath,
                "recursive": self.recursive,
                "poke_interval": self.poke_interval,
            },
        )

    def poll(self) -> TriggerEvent | None:
        found = find_file(self.filepath, self.recursive)
        if found is None:
            return None
        self.log.info("Found %s", found)
        return TriggerEvent(True)

    def next_check(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.poke_interval)
