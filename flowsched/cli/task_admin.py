"""``flowsched tasks`` commands that read or change task instances: list, state, clear."""

import click

ADMIN_COMMANDS: list[click.Command] = []
