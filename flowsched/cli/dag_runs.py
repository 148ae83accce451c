"""``flowsched dags`` commands about runs: trigger, list-runs, state, test, backfill, delete."""

import click

RUN_COMMANDS: list[click.Command] = []
