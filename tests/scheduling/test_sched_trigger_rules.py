"""Every trigger rule against the upstream outcomes that matter to it (Airflow's table)."""

from __future__ import annotations

import pytest

from flowsched.scheduling.trigger_rules import UpstreamCounts, Verdict, evaluate

S, K, F, UF, R = "success", "skipped", "failed", "upstream_failed", "removed"
RUNNING = "running"

READY, WAIT, SKIP, UPF = Verdict.READY, Verdict.WAIT, Verdict.SKIP, Verdict.UPSTREAM_FAILED

CASES = [
    ("all_success", [S, S], READY),
    ("all_success", [S, RUNNING], WAIT),
    ("all_success", [S, K], SKIP),
    ("all_success", [K, F], UPF),
    ("all_success", [RUNNING, UF], UPF),
    ("all_failed", [F, UF], READY),
    ("all_failed", [F, RUNNING], WAIT),
    ("all_failed", [F, S], SKIP),
    ("all_failed", [K, F], SKIP),
    ("all_done", [S, F, K, UF], READY),
    ("all_done", [S, None], WAIT),
    ("all_skipped", [K, K], READY),
    ("all_skipped", [K, RUNNING], WAIT),
    ("all_skipped", [K, S], SKIP),
    ("all_skipped", [F, K], SKIP),
    ("one_success", [S, RUNNING], READY),
    ("one_success", [F, RUNNING], WAIT),
    ("one_success", [K, K], SKIP),
    ("one_success", [F, K], UPF),
    ("one_failed", [F, RUNNING], READY),
    ("one_failed", [UF, None], READY),
    ("one_failed", [S, RUNNING], WAIT),
    ("one_failed", [S, K], SKIP),
    ("one_done", [S, RUNNING], READY),
    ("one_done", [F, None], READY),
    ("one_done", [K, RUNNING], WAIT),
    ("one_done", [K, UF], SKIP),
    ("none_failed", [S, K], READY),
    ("none_failed", [K, K], READY),
    ("none_failed", [S, RUNNING], WAIT),
    ("none_failed", [S, UF], UPF),
    ("none_failed_min_one_success", [S, K], READY),
    ("none_failed_min_one_success", [K, K], SKIP),
    ("none_failed_min_one_success", [K, RUNNING], WAIT),
    ("none_failed_min_one_success", [F, S], UPF),
    ("none_skipped", [S, F], READY),
    ("none_skipped", [S, RUNNING], WAIT),
    ("none_skipped", [K, RUNNING], SKIP),
    ("always", [RUNNING, None], READY),
    ("always", [F, F], READY),
]


@pytest.mark.parametrize(("rule", "states", "verdict"), CASES)
def test_rule_verdict(rule: str, states: list[str | None], verdict: Verdict) -> None:
    assert evaluate(rule, UpstreamCounts.of(states)) is verdict


@pytest.mark.parametrize("rule", sorted({case[0] for case in CASES}))
def test_a_task_without_upstream_is_ready_whatever_its_rule(rule: str) -> None:
    assert evaluate(rule, UpstreamCounts.of([])) is READY


def test_removed_upstream_instances_do_not_count() -> None:
    assert evaluate("all_success", UpstreamCounts.of([S, R])) is READY
    assert evaluate("all_failed", UpstreamCounts.of([F, R])) is READY
