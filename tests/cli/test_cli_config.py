"""`flowsched config`: effective values, where each came from, secrets masked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from flowsched.cli import cli


def flowsched(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def values(*args: str) -> dict[tuple[str, str], dict]:
    rows = json.loads(flowsched("config", "list", "-o", "json", *args).stdout)
    return {(row["section"], row["key"]): row for row in rows}


def test_get_prints_the_effective_value(home: Path) -> None:
    result = flowsched("config", "get", "core", "parallelism")

    assert result.exit_code == 0
    assert result.stdout == "32\n"


def test_list_says_where_each_value_comes_from(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (home / "flowsched.toml").write_text("[core]\nparallelism = 4\n")
    monkeypatch.setenv("FLOWSCHED__CORE__DEFAULT_TIMEZONE", "Europe/Amsterdam")

    listed = values("--section", "core")

    assert listed["core", "parallelism"] == {
        "section": "core",
        "key": "parallelism",
        "value": 4,
        "source": "file",
        "type": "int",
        "help": "Most task instances running at once, over all DAGs.",
    }
    assert listed["core", "default_timezone"]["source"] == "env"
    assert listed["core", "executor"]["source"] == "default"
    assert {section for section, _ in listed} == {"core"}


def test_a_key_the_file_misspells_is_listed_as_unknown(home: Path) -> None:
    (home / "flowsched.toml").write_text("[core]\nparalelism = 4\n")

    listed = values("--section", "core")

    assert listed["core", "paralelism"]["source"] == "file, unknown key"
    assert listed["core", "parallelism"]["source"] == "default"


def test_a_value_of_the_wrong_type_is_one_error_line(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWSCHED__CORE__PARALLELISM", "many")

    for args in (["get", "core", "parallelism"], ["list"]):
        result = flowsched("config", *args)

        assert result.exit_code == 1
        assert result.stderr == "Error: [core] parallelism must be int, got 'many'\n"


def test_secrets_are_masked(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWSCHED__SMTP__PASSWORD", "hunter22")
    monkeypatch.setenv(
        "FLOWSCHED__DATABASE__SQL_ALCHEMY_CONN", "postgresql+psycopg://app:hunter22@db/flow"
    )

    listed = values()

    assert listed["smtp", "password"]["value"] == "***"
    assert listed["database", "sql_alchemy_conn"]["value"] == "postgresql+psycopg://app:***@db/flow"
    assert flowsched("config", "get", "smtp", "password").stdout == "***\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["get", "core", "nope"], "Error: unknown config option [core] nope\n"),
        (["list", "--section", "nope"], "Error: no section named 'nope'\n"),
    ],
)
def test_unknown_names_are_one_error_line(home: Path, args: list[str], message: str) -> None:
    result = flowsched("config", *args)

    assert result.exit_code == 1
    assert result.stderr == message


def test_an_unreadable_config_file_is_one_error_line(home: Path) -> None:
    (home / "flowsched.toml").write_text("[core\n")

    result = flowsched("config", "get", "core", "parallelism")

    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot read {home / 'flowsched.toml'}: ")
    assert len(result.stderr.splitlines()) == 1
