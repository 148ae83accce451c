"""TaskEvent and the web UI links an alert carries."""

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from flowsched.notify import log_url_for, run_url_for


def test_log_url_quotes_every_id_as_one_path_segment():
    url = log_url_for("etl/v2", "scheduled__2025-03-02T07:00:00+00:00", "grp.load x", 3, 2)

    parts = urlsplit(url)
    assert parts.netloc == "flowsched.test:8080"
    assert parts.path == (
        "/dags/etl%2Fv2/runs/scheduled__2025-03-02T07%3A00%3A00%2B00%3A00/tasks/grp.load%20x"
    )
    assert parse_qs(parts.query) == {"map_index": ["3"], "try": ["2"]}


def test_run_url_has_no_double_slash_when_base_url_ends_with_one():
    assert run_url_for("etl", "manual__1") == "http://flowsched.test:8080/dags/etl/runs/manual__1"


def test_event_links_to_its_try_log_or_to_its_run(make_event):
    assert make_event(map_index=4).log_url == log_url_for(
        "etl", "scheduled__2025-03-02T07:00:00+00:00", "load", 4, 2
    )
    dag_event = make_event(kind="dag_failure", task_id=None)
    assert dag_event.log_url == run_url_for("etl", "scheduled__2025-03-02T07:00:00+00:00")


def test_explicit_log_url_is_kept(make_event):
    assert make_event(log_url="https://ui.example/x").log_url == "https://ui.example/x"


def test_headline_names_the_task_and_the_try(make_event):
    assert make_event().headline == "Failed: etl.load (try 2/3)"
    assert make_event(kind="retry", map_index=7).headline == "Up for retry: etl.load[7] (try 2/3)"
    assert make_event(kind="dag_failure", task_id=None).headline == (
        "Run failed: etl (run scheduled__2025-03-02T07:00:00+00:00)"
    )


def test_naive_logical_date_and_unknown_kind_are_refused(make_event):
    with pytest.raises(ValueError, match="timezone-aware"):
        make_event(logical_date=datetime(2025, 3, 2))
    with pytest.raises(ValueError, match="unknown event kind"):
        make_event(kind="exploded")
