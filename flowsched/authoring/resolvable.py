"""Values that stand for something known only at run time (an XCom, a DAG param)."""

from __future__ import annotations

from typing import Any


class Resolvable:
    """Template rendering replaces these by ``resolve(context)`` wherever they are nested."""

    def resolve(self, context: dict[str, Any]) -> Any:
        raise NotImplementedError
