"""Reading a crontab into typed jobs, with cron's own rules for each kind of line.

The rules follow vixie cron (Debian's cron) and cronie, so that a job means here what it
meant to the cron daemon that ran it:

- A line whose first non-blank character is ``#`` is a comment; blank lines are ignored.
  A ``#`` later in a command is the shell's business and is kept.
- ``NAME = value`` sets a variable for the lines *below* it (cron snapshots the
  environment per job). Quotes around a value are removed; spaces around ``=`` are not
  part of the name or value. ``MAILTO`` and ``CRON_TZ`` are read into the job's alert
  address and schedule zone; every other variable (``SHELL``, ``PATH``, ``TZ``, ...) is
  the job's environment.
- A job is five cron fields or an ``@special`` (``@reboot``, ``@yearly``, ``@annually``,
  ``@monthly``, ``@weekly``, ``@daily``, ``@midnight``, ``@hourly``), then, in a system
  crontab (``/etc/crontab``, ``/etc/cron.d/*``), the user to run as, then the command.
- In the command, the first unescaped ``%`` ends the command; the rest is the command's
  standard input, with each further unescaped ``%`` a newline. ``\\%`` is a literal ``%``.
- A line ending in ``\\`` continues on the next line. Cron itself has no continuations;
  files that use them were written for a generator or wrapper, and joining them is what
  their author meant.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC

from flowsched.timetables.cron_times import CronTimes
from flowsched.timetables.wallclock import resolve_zone

# cron's @specials -> the schedule flowsched reads; @reboot has none.
SPECIALS: dict[str, str | None] = {
    "@reboot": None,
    "@yearly": "@yearly",
    "@annually": "@yearly",
    "@monthly": "@monthly",
    "@weekly": "@weekly",
    "@daily": "@daily",
    "@midnight": "@daily",
    "@hourly": "@hourly",
}

# NAME=value, NAME = value, "NAME"=value; a cron line never matches (its first token is
# followed by a blank, then a field, not by "=").
_VARIABLE = re.compile(r"""^\s*(?:"([^"=]+)"|'([^'=]+)'|([^\s="']+))\s*=\s*(.*?)\s*$""")
_FIVE_FIELDS = re.compile(r"^\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.*)$")
_SPECIAL = re.compile(r"^\s*(@\S+)\s+(.*)$")
_USER_AND_COMMAND = re.compile(r"^(\S+)\s+(.*)$")


class CrontabError(ValueError):
    """A line cron would reject; the message names the line."""


@dataclass(frozen=True)
class CronJob:
    """One crontab entry, with everything cron would have run it with."""

    line_number: int
    original: str  # the entry as written (continued lines joined by newlines)
    special: str | None  # "@reboot", "@daily", ... as written; None for five fields
    schedule: str | None  # what flowsched reads ("30 2 * * *", "@daily"); None for @reboot
    command: str  # the shell command, up to the first unescaped %
    stdin: str | None  # text after the first unescaped %, % turned into newlines
    user: str | None  # the user field of a system crontab
    timezone: str  # the zone the schedule is read in
    environment: dict[str, str] = field(default_factory=dict)
    mailto: list[str] | None = None  # None: MAILTO not set; []: set empty (no mail)

    @property
    def runs_at_reboot(self) -> bool:
        return self.special == "@reboot"


@dataclass(frozen=True)
class Crontab:
    """The jobs of one crontab, in file order, and what the reader wants the user to know."""

    jobs: list[CronJob]
    warnings: list[str]


@dataclass
class _State:
    """What the lines above the current one have set."""

    timezone: str
    environment: dict[str, str] = field(default_factory=dict)
    mailto: list[str] | None = None
    cron_tz: str | None = None


def read_crontab(text: str, *, system: bool, timezone: str) -> Crontab:
    """Read a whole crontab; `timezone` is the zone the cron daemon ran in (for jobs
    that no CRON_TZ line covers). Raises CrontabError on the first line cron would reject."""
    state = _State(timezone=_checked_zone(timezone, where="--timezone"))
    jobs: list[CronJob] = []
    warnings: list[str] = []
    for number, line, original in _logical_lines(text):
        if not line.strip() or _is_comment(line):
            continue
        variable = _VARIABLE.match(line)
        if variable:
            name = next(group for group in variable.groups()[:3] if group)
            _set_variable(state, name, _unquote(variable.group(4)), number, warnings)
        else:
            jobs.append(_read_job(line, original, number, state, system=system))
    return Crontab(jobs, warnings)


def _logical_lines(text: str) -> Iterator[tuple[int, str, str]]:
    """(first line number, line with continuations joined, the lines as written); a
    comment never continues, as in the shell."""
    pending: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        pending.append(raw)
        if _continues(raw) and not _is_comment(pending[0]):
            continue
        yield _joined(number - len(pending) + 1, pending)
        pending = []
    if pending:  # a continuation on the last line continues into nothing
        yield _joined(len(text.splitlines()) - len(pending) + 1, pending)


def _joined(start: int, raws: list[str]) -> tuple[int, str, str]:
    line = "".join(raw[:-1] if _continues(raw) else raw for raw in raws)
    return start, line, "\n".join(raws)


def _continues(raw: str) -> bool:
    """A trailing backslash that is not itself escaped."""
    return raw.endswith("\\") and not raw.endswith("\\\\")


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _set_variable(state: _State, name: str, value: str, number: int, warnings: list[str]) -> None:
    if name == "MAILTO":
        state.mailto = [part.strip() for part in value.split(",") if part.strip()]
    elif name == "CRON_TZ":
        state.cron_tz = _checked_zone(value, where=f"line {number}: CRON_TZ")
    else:
        state.environment[name] = value
        if name == "TZ" and state.cron_tz is None and value != state.timezone:
            warnings.append(
                f"line {number}: TZ={value} is the jobs' environment only; cron reads their "
                f"schedule in {state.timezone} (set CRON_TZ= or --timezone to change that)"
            )


def _checked_zone(name: str, *, where: str) -> str:
    try:
        resolve_zone(name)
    except ValueError:
        raise CrontabError(f"{where}: unknown time zone {name!r}") from None
    return name


def _read_job(line: str, original: str, number: int, state: _State, *, system: bool) -> CronJob:
    special, schedule, rest = _split_schedule(line, number)
    user = None
    if system:
        user_and_command = _USER_AND_COMMAND.match(rest)
        if not user_and_command:
            raise CrontabError(
                f"line {number}: a system crontab line needs a user and a command after "
                f"the schedule: {line.strip()!r}"
            )
        user, rest = user_and_command.groups()
    if not rest.strip():
        raise CrontabError(f"line {number}: no command after the schedule: {line.strip()!r}")
    command, stdin = split_percent(rest)
    return CronJob(
        line_number=number,
        original=original,
        special=special,
        schedule=schedule,
        command=command,
        stdin=stdin,
        user=user,
        timezone=state.cron_tz or state.timezone,
        environment=dict(state.environment),
        mailto=None if state.mailto is None else list(state.mailto),
    )


def _split_schedule(line: str, number: int) -> tuple[str | None, str | None, str]:
    """(special as written, schedule for flowsched, the rest of the line)."""
    special = _SPECIAL.match(line)
    if special:
        name, rest = special.groups()
        if name.lower() not in SPECIALS:
            known = ", ".join(SPECIALS)
            raise CrontabError(f"line {number}: unknown {name!r}; cron knows {known}")
        return name, SPECIALS[name.lower()], rest
    fields = _FIVE_FIELDS.match(line)
    if not fields:
        raise CrontabError(
            f"line {number}: expected five time fields and a command, or NAME=value: "
            f"{line.strip()!r}"
        )
    schedule = " ".join(fields.groups()[:5])
    try:
        CronTimes(schedule, UTC)  # syntax, and that it ever fires (`0 0 30 2 *` does not)
    except ValueError as error:
        raise CrontabError(f"line {number}: {error}") from None
    return None, schedule, fields.group(6)


def split_percent(text: str) -> tuple[str, str | None]:
    """cron's % rule: (command, standard input or None).

    Unescaped % ends the command and then stands for a newline in the input; \\% is a
    literal % (the backslash is dropped); any other backslash is kept for the shell.
    """
    parts: list[list[str]] = [[]]
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and text[index + 1 : index + 2] == "%":
            parts[-1].append("%")
            index += 2
            continue
        if char == "%":
            parts.append([])
        else:
            parts[-1].append(char)
        index += 1
    command = "".join(parts[0])
    if len(parts) == 1:
        return command, None
    return command, "\n".join("".join(part) for part in parts[1:])
