"""Weight rules: how a task's effective priority is derived from its neighbours'."""

from __future__ import annotations

from enum import StrEnum


class WeightRule(StrEnum):
    """``downstream`` favours tasks that unblock much work, as Airflow does by default."""

    DOWNSTREAM = "downstream"
    UPSTREAM = "upstream"
    ABSOLUTE = "absolute"

    @classmethod
    def is_valid(cls, value: object) -> bool:
        return value in cls._value2member_map_
