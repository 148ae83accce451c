"""The key that signs session cookies and CSRF tokens.

It comes from ``[webserver] secret_key`` or, when that is empty, from a random key written
once to ``$FLOWSCHED_HOME/webserver_secret_key``: every waitress thread, every restart and
``flowsched standalone`` then share one key, so sessions survive a restart.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flowsched.config import conf, flowsched_home

KEY_FILE_NAME = "webserver_secret_key"


def secret_key() -> str:
    configured = conf.webserver.secret_key
    if configured:
        return configured
    return _stored_key(flowsched_home() / KEY_FILE_NAME)


def _stored_key(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        # O_EXCL: when two processes start at once, one writes and the other reads its key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
