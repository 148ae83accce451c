"""BashOperator: run a shell command, streaming its output into the task log."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from flowsched.authoring.baseoperator import BaseOperator
from flowsched.exceptions import FlowschedException, TaskSkipped


class BashOperator(BaseOperator):
    """``bash -c bash_command`` in its own process group, so that stopping the task stops
    everything the command started. Exit code ``skip_on_exit_code`` (99) skips the task;
    any other non-zero exit fails it. Returns the last line of output, as Airflow does."""

    template_fields: ClassVar[Sequence[str]] = ("bash_command", "env", "cwd")
    template_ext = (".sh", ".bash")
    ui_color = "#f0ede4"

    def __init__(
        self,
        *,
        bash_command: str,
        env: dict[str, str] | None = None,
        append_env: bool = False,
        output_encoding: str = "utf-8",
        skip_on_exit_code: int | Iterable[int] | None = 99,
        cwd: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.bash_command = bash_command
        self.env = env
        self.append_env = append_env
        self.output_encoding = output_encoding
        self.skip_on_exit_code = _codes(skip_on_exit_code)
        self.cwd = cwd
        self._process: subprocess.Popen[bytes] | None = None

    def execute(self, context: dict[str, Any]) -> str:
        if self.cwd is not None and not os.path.isdir(self.cwd):
            raise FlowschedException(f"Task {self.task_id!r}: cwd {self.cwd!r} is not a directory")
        if self.cwd is not None:
            return self._run(self.cwd, context)
        with tempfile.TemporaryDirectory(prefix="flowsched-bash-") as scratch:
            return self._run(scratch, context)

    def _run(self, cwd: str, context: dict[str, Any]) -> str:
        self.log.info("Running command: %s", self.bash_command)
        self._process = subprocess.Popen(
            ["bash", "-c", self.bash_command],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=self._environment(context),
            start_new_session=True,
        )
        try:
            last_line = self._stream_output(self._process)
            exit_code = self._process.wait()
        finally:
            self.on_kill()
        self.log.info("Command exited with return code %s", exit_code)
        if exit_code in self.skip_on_exit_code:
            raise TaskSkipped(f"Bash command returned exit code {exit_code}. Skipping.")
        if exit_code != 0:
            raise FlowschedException(
                f"Bash command failed. The command returned a non-zero exit code {exit_code}."
            )
        return last_line

    def _stream_output(self, process: subprocess.Popen[bytes]) -> str:
        """Log each line; the last one is the result (``""`` for no output, as in Airflow,
        whose XCom is then the empty string, not missing)."""
        assert process.stdout is not None
        last_line = ""
        for raw in iter(process.stdout.readline, b""):
            last_line = raw.decode(self.output_encoding, errors="backslashreplace").rstrip()
            self.log.info("%s", last_line)
        return last_line

    def _environment(self, context: dict[str, Any]) -> dict[str, str]:
        """``env`` replaces the environment unless ``append_env``; the run's ids are added
        as FLOWSCHED_CTX_* so scripts can tell which run they belong to."""
        env = dict(os.environ) if self.env is None or self.append_env else {}
        env.update(self.env or {})
        env.update(_context_variables(context))
        return env

    def on_kill(self) -> None:
        """Stop the whole process group, including what the command started in background."""
        process = self._process
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _codes(skip_on_exit_code: int | Iterable[int] | None) -> frozenset[int]:
    if skip_on_exit_code is None:
        return frozenset()
    if isinstance(skip_on_exit_code, int):
        return frozenset({skip_on_exit_code})
    return frozenset(skip_on_exit_code)


def _context_variables(context: dict[str, Any]) -> dict[str, str]:
    dag, task, ti = context.get("dag"), context.get("task"), context.get("ti")
    values = {
        "FLOWSCHED_CTX_DAG_ID": getattr(dag, "dag_id", None),
        "FLOWSCHED_CTX_TASK_ID": getattr(task, "task_id", None),
        "FLOWSCHED_CTX_DAG_RUN_ID": context.get("run_id"),
        "FLOWSCHED_CTX_LOGICAL_DATE": context.get("ts"),
        "FLOWSCHED_CTX_TRY_NUMBER": getattr(ti, "try_number", None),
    }
    return {name: str(value) for name, value in values.items() if value is not None}
