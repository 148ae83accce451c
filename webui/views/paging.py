"""Reading ``limit``/``offset``-style paging arguments safely from the query string."""

from __future__ import annotations

from flask import request


def int_arg(name: str, default: int, *, low: int = 0, high: int = 10_000) -> int:
    """An integer query argument, clamped; junk falls back to the default, not to a 500."""
    try:
        value = int(request.args.get(name, default))
    except ValueError:
        return default
    return max(low, min(high, value))
