"""``flowsched jobs check``: is a scheduler (or worker) alive? For probes and scripts.

As Airflow's ``airflow jobs check``: exit status 0 when at least one matching job is
alive (its Job row is ``running`` and its heartbeat recent, see ``flowsched.liveness``),
1 with one line on stderr when none is. Usable as a Kubernetes liveness probe::

    flowsched jobs check --job-type scheduler --hostname "$(hostname)"
"""

from __future__ import annotations

import click

from flowsched.cli.lookups import reading
from flowsched.cli.output import output_option, render
from flowsched.liveness import JOB_TYPES

COLUMNS = ("id", "job_type", "hostname", "pid", "start_date", "latest_heartbeat",
           "heartbeat_age_seconds")  # fmt: skip


@click.group()
def jobs() -> None:
    """Long-running flowsched processes (schedulers, workers) and their heartbeats."""


@jobs.command("check")
@click.option("--job-type", type=click.Choice(JOB_TYPES), help="Only jobs of this type.")
@click.option(
    "--hostname",
    help="Only jobs on this machine (a worker's node name worker1@HOST matches HOST).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    help="List at most this many alive jobs (most recent heartbeat first) [default: all].",
)
@output_option
def check(job_type: str | None, hostname: str | None, limit: int | None, output: str) -> None:
    """List the alive jobs with the age of their heartbeat; exit 1 if there is none."""
    from flowsched.liveness import alive_jobs, alive_threshold

    with reading() as session:
        found = alive_jobs(session, job_type, hostname, limit)
    if output != "table" or found:
        render((job.as_dict() for job in found), COLUMNS, output)
    if not found:
        what = f"{job_type} job" if job_type else "job"
        where = f" on {hostname}" if hostname else ""
        click.echo(
            f"No alive {what}{where}: none has a heartbeat from the last {alive_threshold():g} s.",
            err=True,
        )
        click.get_current_context().exit(1)
    if output == "table":
        click.echo(f"Found {len(found)} alive job{'' if len(found) == 1 else 's'}.")
