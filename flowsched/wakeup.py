"""Nudges: the CLI and the UI tell a sleeping scheduler that there is work (a trigger).

A UNIX datagram socket costs nothing while idle and needs no connection: a sender that
finds no scheduler simply gets an error it ignores. The socket lives in FLOWSCHED_HOME;
when that path would exceed the OS limit (deep temp folders), it lives in the temp folder
under a name hashed from the same path. A file path (not Linux's abstract namespace) lets
a restarted scheduler rebind even while workers forked by a killed one keep the old
socket open.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import tempfile
from pathlib import Path

from flowsched.config import flowsched_home

SOCKET_NAME = "scheduler.sock"
_MAX_PATH = 100  # sun_path holds 104-108 bytes depending on the OS


def address() -> str:
    """Where the scheduler of this FLOWSCHED_HOME listens."""
    path = str(flowsched_home().resolve() / SOCKET_NAME)
    if len(path.encode()) <= _MAX_PATH:
        return path
    digest = hashlib.sha256(path.encode()).hexdigest()[:24]
    return str(Path(tempfile.gettempdir()) / f"flowsched-{digest}.sock")


def nudge_scheduler() -> bool:
    """Wake the scheduler if one listens; True if the nudge was delivered."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(b"!", address())
        except OSError:
            return False
    return True


class NudgeListener:
    """The scheduler's end: bound for the scheduler's life, drained without blocking."""

    def __init__(self) -> None:
        self._address = address()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._address)
        self._sock.bind(self._address)
        self._sock.setblocking(False)

    def drain(self) -> bool:
        """True if at least one nudge arrived since the last call."""
        nudged = False
        while True:
            try:
                self._sock.recv(64)
            except BlockingIOError:
                return nudged
            nudged = True

    def close(self) -> None:
        self._sock.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._address)
