"""``flowsched import-crontab``: a crontab in, a DAG file out; flowsched.crontab does the work."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path

import click
import pendulum
from pendulum.tz.local_timezone import get_local_timezone

from flowsched.cli.errors import fail
from flowsched.config import conf
from flowsched.crontab import CrontabError, GeneratedDagFile, read_crontab, write_dag_file
from flowsched.crontab.writer import safe_prefix
from flowsched.timetables.wallclock import zone_name

SYSTEM_CRONTABS = ("/etc/crontab", "/etc/cron.d/")


@click.command("import-crontab")
@click.argument("crontab_file", metavar="[FILE|-]", default="-")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the DAG file in.  [default: the dags folder, core.dags_folder]",
)
@click.option(
    "--timezone",
    metavar="TZ",
    help="Zone the cron daemon ran in, for jobs no CRON_TZ= line covers, e.g. "
    "Europe/Amsterdam.  [default: this machine's zone]",
)
@click.option(
    "--prefix",
    metavar="NAME",
    help="Start of every DAG id and the file's name.  [default: the crontab's file name, "
    "or 'crontab' for standard input]",
)
@click.option(
    "--system/--user",
    "system",
    default=None,
    help="System crontab (a user field before each command, as in /etc/crontab and "
    "/etc/cron.d/*) or a user's (`crontab -l`).  [default: system for files under /etc]",
)
@click.option(
    "--start-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="start_date of the DAGs.  [default: today]",
)
@click.option("--dry-run", is_flag=True, help="Print the DAG file instead of writing it.")
@click.option("--force", is_flag=True, help="Replace the DAG file if it exists.")
def import_crontab(
    crontab_file: str,
    out_dir: Path | None,
    timezone: str | None,
    prefix: str | None,
    system: bool | None,
    start_date: datetime | None,
    dry_run: bool,
    force: bool,
) -> None:
    """Turn every job of a crontab into a DAG, in one readable DAG file.

    Each job becomes a DAG with the same schedule in the same zone, a BashOperator
    running the command with the crontab's variables, retries, MAILTO as its alert
    e-mail, catchup off, and the original line as a comment. @reboot jobs cannot be
    scheduled and are written as a comment, with a warning.

    \b
    Examples:
      crontab -l | flowsched import-crontab - --timezone Europe/Amsterdam
      flowsched import-crontab /etc/cron.d/sysstat --dry-run
    """
    text, source_name = _read_source(crontab_file)
    is_system = system if system is not None else crontab_file.startswith(SYSTEM_CRONTABS)
    name = safe_prefix(prefix or _default_prefix(crontab_file))
    try:
        crontab = read_crontab(text, system=is_system, timezone=timezone or _local_zone())
    except CrontabError as error:
        fail(f"{source_name}: {error}")
    dag_file = write_dag_file(
        crontab,
        source_name=source_name,
        prefix=name,
        start_date=(start_date or pendulum.today()).date(),
    )
    for warning in [*crontab.warnings, *dag_file.warnings]:
        click.echo(f"Warning: {warning}", err=True)
    if not dag_file.dag_ids:
        fail(f"{source_name}: no job to import")
    target = (out_dir or Path(conf.core.dags_folder)) / f"{name}.py"
    if dry_run:
        click.echo(dag_file.source, nl=False)
        click.echo(f"Dry run: nothing written; this would be {target}", err=True)
        return
    if target.exists() and not force:
        fail(f"{target} exists; pass --force to replace it, or choose --prefix or --out")
    _write_atomically(target, dag_file.source)
    _report(target, dag_file)


def _read_source(crontab_file: str) -> tuple[str, str]:
    name = "standard input" if crontab_file == "-" else crontab_file
    with click.open_file(crontab_file, "rb") as stream:
        data = stream.read()
    try:
        return data.decode("utf-8"), name
    except UnicodeDecodeError:
        fail(f"{name}: not a crontab (not UTF-8 text)")


def _default_prefix(crontab_file: str) -> str:
    return "crontab" if crontab_file == "-" else Path(crontab_file).name.split(".")[0]


def _local_zone() -> str:
    """The zone cron itself would have used on this machine."""
    return zone_name(get_local_timezone())


def _write_atomically(target: Path, source: str) -> None:
    """The scheduler may scan the folder at any moment: it must never see half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".import-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(source)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _report(target: Path, dag_file: GeneratedDagFile) -> None:
    click.echo(f"Wrote {target} with {len(dag_file.dag_ids)} DAG(s):")
    for dag_id in dag_file.dag_ids:
        click.echo(f"  {dag_id}")
    click.echo("New DAGs start paused: `flowsched dags unpause DAG_ID` lets one run.")
