"""Trigger rules as a pure function of the states of a task's direct upstream instances.

The verdicts follow Airflow 2's ``TriggerRuleDep`` with ``flag_upstream_failed``: a rule
that can no longer be met settles the task at once (``skipped`` or ``upstream_failed``)
instead of leaving it waiting, so a failure or a branch propagates down in the same pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from flowsched.db.states import TaskInstanceState as TI
from flowsched.utils.trigger_rule import TriggerRule as TR


class Verdict(Enum):
    WAIT = "wait"
    READY = "ready"
    SKIP = TI.SKIPPED.value
    UPSTREAM_FAILED = TI.UPSTREAM_FAILED.value


@dataclass(frozen=True)
class UpstreamCounts:
    """How many upstream instances ended in each state (removed ones do not count)."""

    total: int = 0
    success: int = 0
    skipped: int = 0
    failed: int = 0
    upstream_failed: int = 0

    @classmethod
    def of(cls, states: Iterable[str | None]) -> UpstreamCounts:
        tally: dict[str | None, int] = {
            TI.SUCCESS: 0,
            TI.SKIPPED: 0,
            TI.FAILED: 0,
            TI.UPSTREAM_FAILED: 0,
        }
        total = 0
        for state in states:
            if state == TI.REMOVED:
                continue
            total += 1
            if state in tally:
                tally[state] += 1
        return cls(
            total,
            tally[TI.SUCCESS],
            tally[TI.SKIPPED],
            tally[TI.FAILED],
            tally[TI.UPSTREAM_FAILED],
        )

    @property
    def failures(self) -> int:
        return self.failed + self.upstream_failed

    @property
    def all_done(self) -> bool:
        return self.success + self.skipped + self.failures == self.total


def _all_success(c: UpstreamCounts) -> Verdict:
    if c.failures:
        return Verdict.UPSTREAM_FAILED
    if c.skipped:
        return Verdict.SKIP
    return Verdict.READY if c.success == c.total else Verdict.WAIT


def _all_failed(c: UpstreamCounts) -> Verdict:
    if c.success or c.skipped:
        return Verdict.SKIP
    return Verdict.READY if c.failures == c.total else Verdict.WAIT


def _all_done(c: UpstreamCounts) -> Verdict:
    return Verdict.READY if c.all_done else Verdict.WAIT


def _all_skipped(c: UpstreamCounts) -> Verdict:
    if c.success or c.failures:
        return Verdict.SKIP
    return Verdict.READY if c.skipped == c.total else Verdict.WAIT


def _one_success(c: UpstreamCounts) -> Verdict:
    if c.success:
        return Verdict.READY
    if not c.all_done:
        return Verdict.WAIT
    return Verdict.SKIP if c.skipped == c.total else Verdict.UPSTREAM_FAILED


def _one_failed(c: UpstreamCounts) -> Verdict:
    if c.failures:
        return Verdict.READY
    return Verdict.SKIP if c.all_done else Verdict.WAIT


def _one_done(c: UpstreamCounts) -> Verdict:
    if c.success or c.failed:
        return Verdict.READY
    return Verdict.SKIP if c.all_done else Verdict.WAIT


def _none_failed(c: UpstreamCounts) -> Verdict:
    if c.failures:
        return Verdict.UPSTREAM_FAILED
    return Verdict.READY if c.success + c.skipped == c.total else Verdict.WAIT


def _none_failed_min_one_success(c: UpstreamCounts) -> Verdict:
    if c.failures:
        return Verdict.UPSTREAM_FAILED
    if c.skipped == c.total:
        return Verdict.SKIP
    return Verdict.READY if c.success + c.skipped == c.total else Verdict.WAIT


def _none_skipped(c: UpstreamCounts) -> Verdict:
    if c.skipped:
        return Verdict.SKIP
    return Verdict.READY if c.all_done else Verdict.WAIT


def _always(_c: UpstreamCounts) -> Verdict:
    return Verdict.READY


_RULES = {
    TR.ALL_SUCCESS: _all_success,
    TR.ALL_FAILED: _all_failed,
    TR.ALL_DONE: _all_done,
    TR.ALL_SKIPPED: _all_skipped,
    TR.ONE_SUCCESS: _one_success,
    TR.ONE_FAILED: _one_failed,
    TR.ONE_DONE: _one_done,
    TR.NONE_FAILED: _none_failed,
    TR.NONE_FAILED_MIN_ONE_SUCCESS: _none_failed_min_one_success,
    TR.NONE_SKIPPED: _none_skipped,
    TR.ALWAYS: _always,
}


def evaluate(rule: str, counts: UpstreamCounts) -> Verdict:
    """What a task with ``rule`` should do now; a task without upstream is always ready."""
    if counts.total == 0:
        return Verdict.READY
    return _RULES[TR(rule)](counts)
