"""BashSensor: wait until a bash command exits 0."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

from flowsched.exceptions import TaskFailedNoRetry
from flowsched.sensors.base import BaseSensorOperator


class BashSensor(BaseSensorOperator):
    """Each poke runs ``bash_command`` as a script in a fresh temporary directory. Exit 0
    ends the wait. Any other exit code means "not yet", unless ``retry_exit_code`` is set:
    then only that code means "not yet" and any other fails the task without retry."""

    template_fields = ("bash_command", "env")

    def __init__(
        self,
        *,
        bash_command: str,
        env: dict[str, str] | None = None,
        output_encoding: str = "utf-8",
        retry_exit_code: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.bash_command = bash_command
        self.env = env
        self.output_encoding = output_encoding
        self.retry_exit_code = retry_exit_code

    def poke(self, context: dict[str, Any]) -> bool:
        with tempfile.TemporaryDirectory(prefix="flowsched-bash-sensor-") as scratch:
            script = Path(scratch, f"{self.task_id}.sh")
            script.write_text(self.bash_command)
            self.log.info("Running command: %s", self.bash_command)
            exit_code = self._run(["bash", str(script)], scratch)
        self.log.info("Command exited with return code %s", exit_code)
        if exit_code == 0:
            return True
        if self.retry_exit_code is None:
            self.log.info("Non-zero return code and no retry code set, will retry later")
            return False
        if exit_code == self.retry_exit_code:
            self.log.info("Return code matches retry code, will retry later")
            return False
        raise TaskFailedNoRetry(f"Command exited with return code {exit_code}")

    def _run(self, command: list[str], cwd: str) -> int:
        with subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=self.env,
            start_new_session=True,
        ) as process:
            assert process.stdout is not None
            for raw in iter(process.stdout.readline, b""):
                self.log.info("%s", raw.decode(self.output_encoding, errors="replace").rstrip())
            return process.wait()
