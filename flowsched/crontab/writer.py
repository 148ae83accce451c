"""Writing crontab jobs as one readable DAG file: one DAG per job, in crontab order.

The file is meant to be read and edited by a person, so it spells out every choice the
importer made (retries, alert address, zone, environment) next to the crontab line it
came from, instead of hiding them in a helper.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass
from datetime import date

from flowsched.crontab.reader import CronJob, Crontab
from flowsched.masking import is_sensitive
from flowsched.timetables.describe import describe_cron

# What the generated file sets; cron itself never retried a failed job.
RETRIES = 1
RETRY_DELAY_MINUTES = 5

TASK_ID = "command"
STDIN_DELIMITER = "CRON_STDIN"

# Words that start or glue a shell command, or interpreters, which do not say what the
# command does: a DAG id is named after the program or script that follows them.
_SHELL_WORDS = "test [ ] [[ ]] ! { } ( ) cd if then else elif fi do done while until for in case"
_WRAPPERS = "esac command exec nice ionice nohup env timeout sudo flock chronic time true false"
_INTERPRETERS = "sh bash dash zsh python python3 perl php ruby node"
_NOT_A_NAME = frozenset(f"{_SHELL_WORDS} {_WRAPPERS} {_INTERPRETERS}".split())
_LIST_SEPARATOR = re.compile(r"&&|\|\||;|\n")
_BAD_ID_CHARACTERS = re.compile(r"[^A-Za-z0-9_.-]+")
_JINJA_MARKERS = ("{{", "{%", "{#")
_TEMPLATE_FILE_ENDINGS = (".sh", ".bash")  # BashOperator.template_ext


@dataclass(frozen=True)
class GeneratedDagFile:
    """The Python source of the DAG file, its DAG ids, and what the user must be told:
    jobs not imported, secrets written into the file."""

    source: str
    dag_ids: list[str]
    warnings: list[str]


def write_dag_file(
    crontab: Crontab, *, source_name: str, prefix: str, start_date: date
) -> GeneratedDagFile:
    """The DAG file for a crontab: a header, then each job as a DAG or, for @reboot, a
    comment saying why it is not one."""
    blocks: list[str] = []
    dag_ids: list[str] = []
    warnings: list[str] = []
    for job in crontab.jobs:
        if job.runs_at_reboot:
            warnings.append(
                f"line {job.line_number}: @reboot job not imported (flowsched has no start-up "
                f"trigger; the DAG file says what to do): {job.command.strip()}"
            )
            blocks.append(_reboot_comment(job))
        else:
            dag_id = dag_id_for(job, prefix)
            dag_ids.append(dag_id)
            blocks.append(_dag_block(job, dag_id, start_date))
    warnings += _secret_warnings(crontab)
    source = "\n\n".join([_header(source_name), *blocks]) + "\n"
    return GeneratedDagFile(source, dag_ids, warnings)


def _secret_warnings(crontab: Crontab) -> list[str]:
    """Once per variable name: the web UI shows a DAG file's source to every viewer."""
    names = dict.fromkeys(
        name
        for job in crontab.jobs
        if not job.runs_at_reboot
        for name in job.environment
        if is_sensitive(name)
    )
    return [
        f"{name} looks like a secret and is written into the DAG file, which the web UI "
        f"shows to every viewer; consider a variable instead: {_variable_hint(name)}"
        for name in names
    ]


def _variable_hint(name: str) -> str:
    return "{{ var.value." + name.lower() + " }}"


def dag_id_for(job: CronJob, prefix: str) -> str:
    """E.g. "crontab_line17_run_parts": unique by line number, named after the program."""
    return _identifier(f"{prefix}_line{job.line_number}_{_program_name(job.command)}")


def safe_prefix(text: str) -> str:
    """A file stem or user choice made fit to start DAG ids and name the file."""
    return _identifier(text).strip("._-") or "crontab"


def _identifier(text: str) -> str:
    return _BAD_ID_CHARACTERS.sub("_", text).strip("_")[:200]


def _program_name(command: str) -> str:
    """The program a command runs: in `test -x X || { cd / && run-parts ...; }` that is
    run-parts, the last command of the list that is not a guard or a keyword."""
    for part in reversed(_LIST_SEPARATOR.split(command)):
        words = part.split("|")[0].split()
        if words and words[0] in ("test", "[", "[["):
            continue
        for word in words:
            if word in _NOT_A_NAME or word.startswith("-") or "=" in word:
                continue
            name = os.path.basename(word.rstrip("/")).lstrip(".").split(".")[0]
            if name:
                return name
    return "job"


def _header(source_name: str) -> str:
    return f'''"""DAGs imported from {source_name} by `flowsched import-crontab`.

One DAG per crontab job, each below its original line. What the importer chose:
- retries: cron never retried a failed job; RETRIES below sets how many times a failed
  job runs again (RETRY_DELAY apart). Set it to 0 for a command that must not run twice.
- alerts: MAILTO becomes the e-mail that gets one message per failed try (cron mailed any
  output; flowsched keeps the output in the task log and mails on failure).
- catchup=False: like cron, a job missed while the scheduler was down is not run later.
- commands run with bash, in the worker's environment plus the crontab's variables.
New DAGs start paused: `flowsched dags unpause DAG_ID` to let the scheduler run one.
"""

from datetime import timedelta

import pendulum

from flowsched import DAG
from flowsched.operators.bash import BashOperator

RETRIES = {RETRIES}
RETRY_DELAY = timedelta(minutes={RETRY_DELAY_MINUTES})'''


def _reboot_comment(job: CronJob) -> str:
    return "\n".join(
        [
            f"# crontab line {job.line_number} is NOT imported: @reboot runs when the machine "
            "starts,",
            "# and flowsched has no start-up trigger. Run it from the machine's init system",
            "# instead (e.g. a systemd unit), or have that unit `flowsched dags trigger` a DAG.",
            *_original_lines(job),
        ]
    )


def _original_lines(job: CronJob) -> list[str]:
    return [f"#   {line}".rstrip() for line in job.original.splitlines()]


def _dag_block(job: CronJob, dag_id: str, start_date: date) -> str:
    assert job.schedule is not None  # only @reboot has none
    ran_as = f", run by cron as {job.user}" if job.user else ""
    lines = [
        f"# crontab line {job.line_number}{ran_as}:",
        *_original_lines(job),
        "with DAG(",
        f"    dag_id={_text(dag_id)},",
        f"    description={_text(_description(job))},",
        f"    schedule={_text(job.schedule)},",
        f"    start_date=pendulum.datetime({start_date.year}, {start_date.month}, "
        f"{start_date.day}, tz={_text(job.timezone)}),",
        "    catchup=False,",
        '    tags=["crontab"],',
        "    default_args={",
        *_default_args(job),
        "    },",
        "):",
        *_operator(job),
    ]
    return "\n".join(lines)


def _description(job: CronJob) -> str:
    command = job.command.strip().splitlines()[0] if job.command.strip() else ""
    words = describe_cron(job.schedule or "")
    text = f"{words}: {command}"
    return text if len(text) <= 200 else text[:199] + "…"


def _default_args(job: CronJob) -> list[str]:
    lines = []
    if job.user:
        lines.append(f"        {_text('owner')}: {_text(job.user)},")
    lines += ['        "retries": RETRIES,', '        "retry_delay": RETRY_DELAY,']
    if job.mailto:
        emails = ", ".join(_text(address) for address in job.mailto)
        lines += [
            f'        "email": [{emails}],',
            '        "email_on_failure": True,',
            '        "email_on_retry": False,',
        ]
    elif job.mailto == []:
        lines.append('        # MAILTO="" above this line: cron sent no mail, so no alert here.')
    else:
        lines += [
            "        # No MAILTO: cron mailed the crontab's owner. For an alert on failure:",
            '        # "email": ["you@example.com"], "email_on_failure": True,',
        ]
    return lines


def _operator(job: CronJob) -> list[str]:
    command, notes = bash_command_for(job)
    lines = [f"    # {note}" for note in notes]
    lines += [
        "    BashOperator(",
        f"        task_id={_text(TASK_ID)},",
        f"        bash_command={_text(command, indent=8)},",
    ]
    if job.environment:
        lines.append("        env={")
        for name, value in job.environment.items():
            entry = f"            {_text(name)}: {_text(_jinja_literal(value))},"
            if is_sensitive(name):
                entry += f"  # a secret? use {_variable_hint(name)}"
            lines.append(entry)
        lines += ["        },", "        append_env=True,"]
    lines.append("    )")
    return lines


def bash_command_for(job: CronJob) -> tuple[str, list[str]]:
    """The BashOperator command that does what cron did, and notes for the reader.

    cron ran `$SHELL -c command` with the text after % on standard input. bash runs sh
    commands as they are; another SHELL is called explicitly. Standard input becomes a
    here-document on the whole command list, so every command in it sees it, as under cron.
    """
    notes = []
    command = job.command
    shell = job.environment.get("SHELL", "/bin/sh")
    if os.path.basename(shell) not in ("sh", "bash", "dash"):
        command = f"{shell} -c {shlex.quote(command)}"
        notes.append(f"SHELL={shell}: cron ran the command with it, so it does here too.")
    if job.stdin is not None:
        command = _with_stdin(command, job.stdin)
        notes.append("The text after % in the crontab line is the command's standard input.")
    command = _jinja_literal(command)
    if command.endswith(_TEMPLATE_FILE_ENDINGS):
        command += " "
        notes.append("The trailing space keeps BashOperator (as in Airflow) from reading")
        notes.append("the command as the name of a template file.")
    return command, notes


def _with_stdin(command: str, stdin: str) -> str:
    """cron's input has no final newline unless the line ended with %; a here-document
    always ends with one, which is the only difference."""
    body = stdin[:-1] if stdin.endswith("\n") else stdin
    delimiter = STDIN_DELIMITER
    while delimiter in body.split("\n"):
        delimiter += "_"
    return f"{{\n{command}\n}} <<'{delimiter}'\n{body}\n{delimiter}"


def _jinja_literal(text: str) -> str:
    """Commands are Jinja templates in a BashOperator; `${#array[@]}` or `{{` from cron
    must reach the shell unchanged, so such text is wrapped in a raw block."""
    if any(marker in text for marker in _JINJA_MARKERS):
        return "{% raw %}" + text + "{% endraw %}"
    return text


def _text(value: str, indent: int = 4) -> str:
    """A Python string literal in double quotes; a multi-line one is split at its line
    ends into adjacent literals, one per line, so it reads like the shell text it is."""
    if "\n" not in value:
        return json.dumps(value, ensure_ascii=False)
    pad = " " * (indent + 4)
    pieces = [json.dumps(line, ensure_ascii=False) for line in value.splitlines(keepends=True)]
    return "(\n" + "\n".join(pad + piece for piece in pieces) + "\n" + " " * indent + ")"
