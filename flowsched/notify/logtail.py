"""The last lines of a try's log, read from the end of the file.

Task logs can be gigabytes, and a notifier runs while a worker slot or the scheduler
waits, so only a bounded window at the end of the file is ever read.
"""

from __future__ import annotations

import os
from pathlib import Path

TAIL_LINES = 50
# Caps the alert size when the last lines are huge (a dumped blob without newlines).
MAX_TAIL_BYTES = 64 * 1024


def tail_lines(path: Path, count: int = TAIL_LINES, max_bytes: int = MAX_TAIL_BYTES) -> list[str]:
    """The last ``count`` lines of ``path`` that fit in its last ``max_bytes`` bytes."""
    with path.open("rb") as file:
        end = file.seek(0, os.SEEK_END)
        start = max(0, end - max_bytes)
        file.seek(start)
        data = file.read(end - start)
    if start > 0 and b"\n" in data:
        # the window began mid-line (maybe mid-character): drop that partial line
        data = data.split(b"\n", 1)[1]
    text = data.decode("utf-8", errors="replace").rstrip("\n")
    if not text:
        return []
    return [line.rstrip("\r") for line in text.split("\n")[-count:]]
