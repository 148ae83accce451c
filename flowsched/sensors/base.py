"""BaseSensorOperator: poke until true, in one long try (poke) or many short ones (reschedule).

In reschedule mode a try pokes once and gives its slot back by raising RescheduleTask;
the timeout is then measured from the task instance's start_date, which the runner keeps
across reschedules, so the total wait is bounded however often it was rescheduled.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flowsched.authoring.baseoperator import BaseOperator
from flowsched.exceptions import (
    FlowschedException,
    RescheduleTask,
    SensorTimeout,
    TaskSkipped,
)

MODES = ("poke", "reschedule")


@dataclass
class PokeReturnValue:
    """Returned by ``poke`` to finish with an XCom value: ``PokeReturnValue(True, {...})``."""

    is_done: bool
    xcom_value: Any = None


class BaseSensorOperator(BaseOperator):
    """Subclasses implement ``poke(context) -> bool | PokeReturnValue``."""

    is_sensor = True
    ui_color = "#e6f1f2"

    def __init__(
        self,
        *,
        poke_interval: timedelta | float = 60,
        timeout: timedelta | float = timedelta(days=7),
        soft_fail: bool = False,
        mode: str = "poke",
        exponential_backoff: bool = False,
        max_wait: timedelta | float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.poke_interval = self._seconds(poke_interval, "poke_interval")
        self.timeout = self._seconds(timeout, "timeout")
        self.soft_fail = soft_fail
        if mode not in MODES:
            raise self._invalid(f"mode must be 'poke' or 'reschedule', got {mode!r}")
        self.mode = mode
        self.exponential_backoff = exponential_backoff
        self.max_wait = None if max_wait is None else self._seconds(max_wait, "max_wait")

    def _seconds(self, value: timedelta | float, name: str) -> float:
        delta = self._duration(value, name)
        assert delta is not None
        return delta.total_seconds()

    def poke(self, context: dict[str, Any]) -> bool | PokeReturnValue:
        raise NotImplementedError(f"{type(self).__name__} must implement poke(context)")

    def execute(self, context: dict[str, Any]) -> Any:
        started = time.monotonic()
        first_try_start = _ti_start(context) if self.mode == "reschedule" else None
        pokes = 0
        while True:
            pokes += 1
            result = self.poke(context)
            if isinstance(result, PokeReturnValue):
                if result.is_done:
                    return result.xcom_value
            elif result:
                return None
            if first_try_start is not None:
                elapsed = (datetime.now(UTC) - first_try_start).total_seconds()
            else:
                elapsed = time.monotonic() - started
            if elapsed >= self.timeout:
                self._timed_out(elapsed)
            interval = self._next_interval(pokes, elapsed)
            if self.mode == "reschedule":
                raise RescheduleTask(datetime.now(UTC) + timedelta(seconds=interval))
            time.sleep(min(interval, self.timeout - elapsed))

    def resume_execution(
        self, next_method: str, next_kwargs: dict[str, Any] | None, context: dict[str, Any]
    ) -> Any:
        """A deferred sensor that cannot go on skips instead of failing with ``soft_fail``."""
        try:
            return super().resume_execution(next_method, next_kwargs, context)
        except FlowschedException as error:  # TaskDeferralError included
            if self.soft_fail and not isinstance(error, TaskSkipped):
                raise TaskSkipped(str(error)) from error
            raise

    def _next_interval(self, pokes: int, elapsed: float) -> float:
        """With exponential backoff the wait doubles per poke; a reschedule-mode try sees
        one poke only, so there the wait grows with the time already waited."""
        if not self.exponential_backoff:
            return self.poke_interval
        if self.mode == "reschedule":
            interval = max(self.poke_interval, elapsed)
        else:
            interval = self.poke_interval * 2 ** min(pokes - 1, 40)
        return min(interval, self.max_wait) if self.max_wait is not None else interval

    def _timed_out(self, elapsed: float) -> None:
        message = (
            f"Sensor {self.task_id!r} timed out after {elapsed:.1f}s (timeout {self.timeout:g}s)"
        )
        if self.soft_fail:
            raise TaskSkipped(message + "; skipping (soft_fail)")
        raise SensorTimeout(message)


def _ti_start(context: dict[str, Any]) -> datetime:
    start = getattr(context.get("ti"), "start_date", None)
    if start is None:
        return datetime.now(UTC)
    return start if start.tzinfo else start.replace(tzinfo=UTC)
