"""JSON that people and clients send (a run conf, a variable, an API body), parsed safely.

``json.loads`` raises ``RecursionError`` (not a ``ValueError``) on a document nested deep
enough, and a document just under that depth breaks the recursive code that walks it
later (masking, rendering), so a crafted body turned into a 500 or a traceback. Here any
document nested more than ``MAX_DEPTH`` levels is invalid JSON like any other: a
``json.JSONDecodeError`` with a clear message, which every caller already turns into one
line (CLI) or a 400 (web).
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64  # arrays and objects inside each other; real confs use a handful


def loads(text: str | bytes) -> Any:
    """``json.loads`` that refuses documents nested more than ``MAX_DEPTH`` levels."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    too_deep = json.JSONDecodeError(f"nested more than {MAX_DEPTH} levels", text, 0)
    try:
        value = json.loads(text)
    except RecursionError:
        raise too_deep from None
    if _depth(value) > MAX_DEPTH:
        raise too_deep
    return value


def _depth(value: Any) -> int:
    """How many arrays/objects are nested at the deepest point (iterative: no recursion)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if level <= MAX_DEPTH:
            todo.extend((child, level + 1) for child in children)
    return deepest
