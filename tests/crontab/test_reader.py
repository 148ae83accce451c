"""Reading crontabs: each kind of line means what it meant to cron."""

from __future__ import annotations

import pytest

from flowsched.crontab import CrontabError, read_crontab
from flowsched.crontab.reader import split_percent


def jobs(text: str, *, system: bool = False, timezone: str = "UTC"):
    return read_crontab(text, system=system, timezone=timezone).jobs


def test_variables_apply_to_the_lines_below_them() -> None:
    first, second = jobs(
        'PATH=/usr/bin\nA = "one two"\n0 1 * * * first\nA=\'three\'\n"B"=x\n0 2 * * * second\n'
    )
    assert first.environment == {"PATH": "/usr/bin", "A": "one two"}
    assert second.environment == {"PATH": "/usr/bin", "A": "three", "B": "x"}


def test_mailto_and_cron_tz_are_read_not_passed_on() -> None:
    unset, listed, muted = jobs(
        "0 1 * * * a\nMAILTO=ops@example.com, me@example.com\nCRON_TZ=Europe/Amsterdam\n"
        '0 1 * * * b\nMAILTO=""\n0 1 * * * c\n',
        timezone="America/New_York",
    )
    assert (unset.mailto, unset.timezone) == (None, "America/New_York")
    assert (listed.mailto, listed.timezone) == (
        ["ops@example.com", "me@example.com"],
        "Europe/Amsterdam",
    )
    assert muted.mailto == [] and muted.environment == {}


def test_tz_alone_is_the_jobs_environment_and_says_so() -> None:
    crontab = read_crontab("TZ=Asia/Tokyo\n0 9 * * * report\n", system=False, timezone="UTC")
    assert crontab.jobs[0].timezone == "UTC"
    assert crontab.jobs[0].environment == {"TZ": "Asia/Tokyo"}
    assert crontab.warnings == [
        "line 1: TZ=Asia/Tokyo is the jobs' environment only; cron reads their schedule in UTC "
        "(set CRON_TZ= or --timezone to change that)"
    ]


def test_specials_comments_and_blank_lines() -> None:
    comments = "# a comment\n\n   # indented comment\n"
    read = jobs(comments + "@annually a\n@midnight b # not a comment\n@reboot c\n")
    assert [(job.line_number, job.special, job.schedule, job.command) for job in read] == [
        (4, "@annually", "@yearly", "a"),
        (5, "@midnight", "@daily", "b # not a comment"),
        (6, "@reboot", None, "c"),
    ]
    assert read[2].runs_at_reboot


def test_system_crontab_has_a_user_field_and_tabs() -> None:
    (job,) = jobs("17 *\t* * *\troot\tcd / && run-parts --report /etc/cron.hourly\n", system=True)
    assert (job.schedule, job.user, job.command) == (
        "17 * * * *",
        "root",
        "cd / && run-parts --report /etc/cron.hourly",
    )


def test_percent_is_standard_input_and_escaped_percent_is_literal() -> None:
    assert split_percent(r"date +\%F") == ("date +%F", None)
    assert split_percent("mail -s hi me%Dear me,%all good.%") == (
        "mail -s hi me",
        "Dear me,\nall good.\n",
    )
    assert split_percent(r"printf 'a\tb' %100\% done") == ("printf 'a\\tb' ", "100% done")


def test_a_trailing_backslash_continues_the_line() -> None:
    (job,) = jobs("0 1 * * * run \\\n  --flag \\\n  --other\n# comment \\\n")
    assert job.command == "run   --flag   --other"
    assert job.original == "0 1 * * * run \\\n  --flag \\\n  --other"


@pytest.mark.parametrize(
    ("text", "system", "message"),
    [
        ("0 1 * *\n", False, "line 1: expected five time fields and a command"),
        ("0 25 * * * x\n", False, "line 1: Invalid cron expression '0 25 * * *'"),
        ("0 0 30 2 * x\n", False, "line 1: Cron expression '0 0 30 2 *' never fires"),
        ("@fortnightly x\n", False, "line 1: unknown '@fortnightly'; cron knows @reboot"),
        (
            "# ok\n0 1 * * * root\n",
            True,
            "line 2: a system crontab line needs a user and a command",
        ),
        ("@daily root\n", True, "line 1: a system crontab line needs a user and a command"),
        ("CRON_TZ=Mars/Olympus\n", False, "line 1: CRON_TZ: unknown time zone 'Mars/Olympus'"),
    ],
)
def test_a_line_cron_would_reject_is_named(text: str, system: bool, message: str) -> None:
    with pytest.raises(CrontabError) as error:
        jobs(text, system=system)
    assert str(error.value).startswith(message)
