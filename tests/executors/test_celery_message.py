"""The Celery message names the try and its DAG file in a way any worker can resolve."""

from pathlib import Path

from flowsched.executors.celery_message import message_args, read_message
from flowsched.tries import TaskKey

KEY = TaskKey("etl", "manual__2024-03-01T00:00:00+00:00", "load", 3, 2)


def test_a_worker_finds_the_file_under_its_own_dags_folder(home, monkeypatch, tmp_path):
    sent = message_args(KEY, str(home / "dags" / "team" / "etl.py"))
    assert sent[2] == "team/etl.py"

    worker_dags = tmp_path / "mounted" / "dags"  # the shared folder, mounted elsewhere
    monkeypatch.setenv("FLOWSCHED__CORE__DAGS_FOLDER", str(worker_dags))
    key, fileloc = read_message(*sent)
    assert key == KEY
    assert Path(fileloc) == worker_dags / "team" / "etl.py"


def test_a_file_outside_the_dags_folder_travels_as_its_absolute_path(home, tmp_path):
    outside = tmp_path / "elsewhere" / "etl.py"
    sent = message_args(KEY, str(outside))
    assert sent[1:] == [str(outside), None]
    assert read_message(*sent) == (KEY, str(outside))
