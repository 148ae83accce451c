"""BashOperator really runs bash: output to the task log, exit codes, env and cwd."""

from __future__ import annotations

import logging

import pytest

from flowsched import DAG
from flowsched.exceptions import FlowschedException, TaskSkipped
from flowsched.operators.bash import BashOperator


def bash(command: str, **kwargs) -> BashOperator:
    with DAG("bash"):
        return BashOperator(task_id="run", bash_command=command, **kwargs)


def test_success_returns_the_last_line_and_logs_every_line(context_for, caplog):
    operator = bash("echo first; echo second >&2; echo last")
    with caplog.at_level(logging.INFO, logger="flowsched.task"):
        assert operator.execute(context_for(operator)) == "last"
    lines = [r.getMessage() for r in caplog.records if r.name == "flowsched.task"]
    assert ["first", "second", "last"] == [
        line for line in lines if line in {"first", "second", "last"}
    ]


def test_non_zero_exit_fails_with_the_exit_code(context_for):
    operator = bash("echo oops; exit 3")
    with pytest.raises(FlowschedException, match="non-zero exit code 3"):
        operator.execute(context_for(operator))


def test_exit_99_skips_the_task(context_for):
    operator = bash("exit 99")
    with pytest.raises(TaskSkipped, match="exit code 99"):
        operator.execute(context_for(operator))


def test_skip_exit_code_is_configurable(context_for):
    operator = bash("exit 99", skip_on_exit_code=None)
    with pytest.raises(FlowschedException, match="non-zero exit code 99"):
        operator.execute(context_for(operator))


def test_env_replaces_the_environment_unless_appended(context_for, monkeypatch):
    monkeypatch.setenv("FROM_PARENT", "parent")
    replaced = bash('echo "$GREETING-${FROM_PARENT:-unset}"', env={"GREETING": "hi"})
    appended = bash('echo "$GREETING-$FROM_PARENT"', env={"GREETING": "hi"}, append_env=True)
    inherited = bash('echo "$FROM_PARENT"')
    assert replaced.execute(context_for(replaced)) == "hi-unset"
    assert appended.execute(context_for(appended)) == "hi-parent"
    assert inherited.execute(context_for(inherited)) == "parent"


def test_run_ids_are_exported_to_the_command(context_for):
    operator = bash('echo "$FLOWSCHED_CTX_DAG_ID $FLOWSCHED_CTX_TASK_ID $FLOWSCHED_CTX_DAG_RUN_ID"')
    assert operator.execute(context_for(operator)) == "bash run manual__2024-03-10"


def test_cwd_sets_the_working_directory(context_for, tmp_path):
    operator = bash("pwd", cwd=str(tmp_path))
    assert operator.execute(context_for(operator)) == str(tmp_path)


def test_missing_cwd_is_reported(context_for, tmp_path):
    operator = bash("pwd", cwd=str(tmp_path / "absent"))
    with pytest.raises(FlowschedException, match="is not a directory"):
        operator.execute(context_for(operator))


def test_rendered_command_runs_with_the_context(context_for):
    operator = bash("echo {{ ds_nodash }}-{{ params.x }}", params={"x": 7})
    context = context_for(operator)
    operator.render_template_fields(context)
    assert operator.execute(context) == "20240310-7"


def test_command_runs_in_its_own_process_group(context_for):
    import os

    operator = bash("ps -o pgid= -p $$")
    assert int(operator.execute(context_for(operator))) != os.getpgid(0)
