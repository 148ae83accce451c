"""Which files a scan looks at: *.py under the dags folder, minus .flowschedignore matches."""

from __future__ import annotations

from pathlib import Path

from flowsched.parsing.discover import list_dag_files, might_contain_dag


def make(folder: Path, *names: str) -> None:
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# dag\n")


def found(folder: Path) -> list[str]:
    return [path.relative_to(folder).as_posix() for path in list_dag_files(folder)]


def test_python_files_in_every_sub_folder_sorted(tmp_path: Path) -> None:
    make(tmp_path, "b.py", "a.py", "team/etl.py", "team/deep/x.py", "notes.txt", "a.pyc")

    assert found(tmp_path) == ["a.py", "b.py", "team/deep/x.py", "team/etl.py"]


def test_a_missing_folder_has_no_files(tmp_path: Path) -> None:
    assert list_dag_files(tmp_path / "nope") == []


def test_ignore_file_globs_files_and_folders(tmp_path: Path) -> None:
    make(tmp_path, "etl.py", "etl_wip.py", "vendor/lib.py", "team/vendor/x.py", "tests/t.py")
    (tmp_path / ".flowschedignore").write_text("# work in progress\n*_wip.py\nvendor/\n/tests\n")

    assert found(tmp_path) == ["etl.py"]


def test_negation_keeps_a_file_an_earlier_line_ignored(tmp_path: Path) -> None:
    make(tmp_path, "scratch_a.py", "scratch_keep.py", "etl.py")
    (tmp_path / ".flowschedignore").write_text("scratch_*.py\n!scratch_keep.py\n")

    assert found(tmp_path) == ["etl.py", "scratch_keep.py"]


def test_ignore_file_in_a_sub_folder_applies_below_it_only(tmp_path: Path) -> None:
    make(tmp_path, "helpers.py", "team/helpers.py", "team/etl.py", "team/sub/helpers.py")
    (tmp_path / "team" / ".flowschedignore").write_text("helpers.py\n")

    assert found(tmp_path) == ["helpers.py", "team/etl.py"]


def test_sub_folder_patterns_are_relative_to_their_own_folder(tmp_path: Path) -> None:
    make(tmp_path, "old/x.py", "team/old/x.py", "team/new/x.py")
    (tmp_path / "team" / ".flowschedignore").write_text("/old\n")

    assert found(tmp_path) == ["old/x.py", "team/new/x.py"]


def test_a_symlink_loop_is_walked_once(tmp_path: Path) -> None:
    make(tmp_path, "team/etl.py")
    (tmp_path / "team" / "loop").symlink_to(tmp_path)

    assert found(tmp_path) == ["team/etl.py"]


def test_only_sources_that_say_dag_may_hold_one() -> None:
    assert might_contain_dag(b"from flowsched import DAG")
    assert might_contain_dag(b"@dag(schedule=None)")
    assert not might_contain_dag(b"def helper():\n    return 42\n")
