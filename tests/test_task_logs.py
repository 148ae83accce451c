"""Task log paths: every reader and writer gets the same path, never one outside the folder."""

from __future__ import annotations

import pytest

from flowsched.masking import register_secret
from flowsched.task_logs import LogPathError, log_path, read_chunk, read_from, try_log_file


@pytest.mark.parametrize(
    "ids",
    [
        ("d", "../../../../etc", "t"),
        ("d", "r", "../../../../x"),
        ("d/../..", "r", "t"),
        ("d", "r/../../../..", "t"),
    ],
)
def test_ids_that_lead_outside_their_folder_are_refused(home, ids):
    with pytest.raises(LogPathError, match="path separator"):
        log_path(*ids, -1, 1)


def test_ordinary_ids_give_the_airflow_layout(home):
    assert log_path("etl", "manual__1", "load", 3, 2) == (
        home
        / "logs"
        / "dag_id=etl"
        / "run_id=manual__1"
        / "task_id=load"
        / "map_index=3"
        / "attempt=2.log"
    )
    # dots are no way out: each id is one folder level below its "key=" prefix
    assert log_path("..", "..", "..", -1, 1) == (
        home / "logs" / "dag_id=.." / "run_id=.." / "task_id=.." / "attempt=1.log"
    )


def test_lines_written_are_masked_and_read_back_whole(home):
    path = log_path("etl", "r1", "load", -1, 1)
    register_secret("hunter2")
    with try_log_file(path) as sink:
        sink.write_line("password is hunter2")
    path.open("a").write("half a li")
    text, offset = read_from(path)
    assert text == "password is ***\n"  # the unfinished line waits for its end
    assert read_chunk(path, offset, complete=True).text == "half a li"
