"""BashSensor: exit 0 ends the wait; other codes mean "not yet" unless retry_exit_code."""

from __future__ import annotations

import pytest

from flowsched import DAG
from flowsched.exceptions import TaskFailedNoRetry
from flowsched.sensors.bash import BashSensor


def sensor(command, **kwargs):
    with DAG("bash_sensors"):
        return BashSensor(task_id="check", bash_command=command, **kwargs)


def test_exit_zero_is_done_and_other_codes_mean_not_yet(tmp_path):
    marker = tmp_path / "ready"
    check = sensor(f"test -e {marker}")
    assert check.poke({}) is False
    marker.touch()
    assert check.poke({}) is True


def test_with_a_retry_exit_code_any_other_failure_fails_the_task():
    assert sensor("exit 3", retry_exit_code=3).poke({}) is False
    with pytest.raises(TaskFailedNoRetry, match="Command exited with return code 2"):
        sensor("exit 2", retry_exit_code=3).poke({})


def test_the_command_runs_as_a_script_in_a_scratch_folder_with_the_given_env(tmp_path):
    out = tmp_path / "out"
    command = f'if [ "$GREETING" = hi ]; then pwd > {out}; fi\nexit 0'
    assert sensor(command, env={"GREETING": "hi"}).poke({}) is True
    scratch = out.read_text().strip()
    assert "flowsched-bash-sensor-" in scratch
