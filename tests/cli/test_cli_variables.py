"""`flowsched variables`: what a user types, what they see, and what lands in the DB."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from flowsched.cli import cli
from flowsched.db.tables import Variable

pytestmark = pytest.mark.usefixtures("migrated_db")


def flowsched(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin)


def test_set_then_get_prints_the_value() -> None:
    assert flowsched("variables", "set", "region", "eu-west-1").exit_code == 0

    result = flowsched("variables", "get", "region")

    assert result.exit_code == 0
    assert result.stdout == "eu-west-1\n"


def test_get_json_prints_the_structure() -> None:
    flowsched("variables", "set", "limits", '{"rows": 10}', "--json")

    result = flowsched("variables", "get", "limits", "--json")

    assert json.loads(result.stdout) == {"rows": 10}


def test_set_json_refuses_invalid_json() -> None:
    result = flowsched("variables", "set", "limits", "{rows: 10}", "--json")

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: VALUE is not valid JSON")
    assert len(result.stderr.splitlines()) == 1


def test_get_of_a_missing_key_is_one_error_line_unless_a_default_is_given() -> None:
    missing = flowsched("variables", "get", "nope")
    with_default = flowsched("variables", "get", "nope", "--default", "fallback")

    assert missing.exit_code == 1
    assert missing.stderr == ("Error: no variable named 'nope' (run `flowsched variables list`)\n")
    assert with_default.stdout == "fallback\n"


def test_environment_wins_over_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    flowsched("variables", "set", "region", "eu-west-1")
    monkeypatch.setenv("FLOWSCHED_VAR_REGION", "us-east-2")

    assert flowsched("variables", "get", "region").stdout == "us-east-2\n"


def test_list_masks_sensitive_values_in_table_and_json() -> None:
    flowsched("variables", "set", "region", "eu-west-1", "--description", "where we run")
    flowsched("variables", "set", "api_token", "s3cr3t")

    table = flowsched("variables", "list")
    rows = json.loads(flowsched("variables", "list", "--output", "json").stdout)

    assert "eu-west-1" in table.stdout and "where we run" in table.stdout
    assert "s3cr3t" not in table.stdout
    assert rows == [
        {"key": "api_token", "value": "***", "description": None},
        {"key": "region", "value": "eu-west-1", "description": "where we run"},
    ]


def test_delete_removes_the_variable_and_a_second_delete_fails() -> None:
    flowsched("variables", "set", "region", "eu-west-1")

    first = flowsched("variables", "delete", "region")
    second = flowsched("variables", "delete", "region")

    assert first.exit_code == 0
    assert Variable.get("region", default_var=None) is None
    assert second.exit_code == 1
    assert "no variable named 'region'" in second.stderr


def test_import_stores_strings_as_is_and_other_values_as_json(tmp_path: Path) -> None:
    source = tmp_path / "vars.json"
    source.write_text(json.dumps({"region": "eu", "retries": 3, "cfg": {"a": [1, 2]}}))

    result = flowsched("variables", "import", str(source))

    assert result.exit_code == 0
    assert result.stdout == "Imported 3 variables.\n"
    assert Variable.get("region") == "eu"
    assert Variable.get("retries", deserialize_json=True) == 3
    assert Variable.get("cfg", deserialize_json=True) == {"a": [1, 2]}


def test_import_if_exists_skip_keeps_existing_values(tmp_path: Path) -> None:
    flowsched("variables", "set", "region", "eu")
    source = tmp_path / "vars.json"
    source.write_text('{"region": "us", "zone": "b"}')

    result = flowsched("variables", "import", str(source), "--if-exists", "skip")

    assert result.stdout == "Imported 1 variable (1 existing skipped).\n"
    assert Variable.get("region") == "eu"


def test_import_if_exists_fail_imports_nothing(tmp_path: Path) -> None:
    flowsched("variables", "set", "region", "eu")
    source = tmp_path / "vars.json"
    source.write_text('{"zone": "b", "region": "us"}')

    result = flowsched("variables", "import", str(source), "--if-exists", "fail")

    assert result.exit_code == 1
    assert "variable 'region' already exists" in result.stderr
    assert Variable.get("zone", default_var=None) is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"region": "eu",}', "is not valid JSON: Expecting property name"),
        ('["region"]', "expected a JSON object of key: value, got a JSON list"),
    ],
)
def test_import_of_a_bad_file_is_one_clear_line(tmp_path: Path, content: str, message: str) -> None:
    source = tmp_path / "vars.json"
    source.write_text(content)

    result = flowsched("variables", "import", str(source))

    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_import_of_a_missing_file_says_so() -> None:
    result = flowsched("variables", "import", "/no/such/vars.json")

    assert result.exit_code == 1
    assert result.stderr == "Error: no such file: /no/such/vars.json\n"


def test_export_then_import_gives_back_the_same_text(tmp_path: Path) -> None:
    values = {"number_as_text": "1e3", "cfg": '{"a": 1}', "plain": "hello"}
    for key, value in values.items():
        Variable.set(key, value)
    exported = tmp_path / "out.json"

    assert flowsched("variables", "export", str(exported)).exit_code == 0
    for key in values:
        Variable.delete(key)
    flowsched("variables", "import", str(exported))

    assert json.loads(exported.read_text())["cfg"] == {"a": 1}
    assert {key: Variable.get(key) for key in values} == {
        "number_as_text": "1e3",
        "cfg": '{"a": 1}',
        "plain": "hello",
    }


def test_export_to_stdout_and_import_from_stdin() -> None:
    Variable.set("region", "eu")

    exported = flowsched("variables", "export", "-").stdout
    Variable.delete("region")
    imported = flowsched("variables", "import", "-", stdin=exported)

    assert json.loads(exported) == {"region": "eu"}
    assert imported.exit_code == 0
    assert Variable.get("region") == "eu"
