"""Airflow's command names where flowsched's differ: aliases listed in ``--help``, and the
commands flowsched refuses with one "not supported, because ..." line.

Scripts written for ``airflow`` run as ``flowsched`` unchanged; people reading ``--help``
see flowsched's name first and which Airflow command it corresponds to.
"""

from __future__ import annotations

import copy
from typing import Any

import click

from flowsched.cli.errors import fail


def add_alias(
    group: click.Group, command: click.Command, name: str, same_as: str | None = None
) -> None:
    """Also call ``command`` by Airflow's ``name``; its help says which flowsched command
    it is (``same_as``, default the group's own ``command``)."""
    alias = copy.copy(command)
    alias.name = name
    alias.short_help = f"Same as `flowsched {same_as or f'{group.name} {command.name}'}`."
    group.add_command(alias, name)


def not_supported(name: str, reason: str) -> click.Command:
    """A command that takes any arguments and says, in one line, why flowsched has none."""

    @click.command(
        name,
        hidden=True,
        add_help_option=False,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )
    @click.pass_context
    def refuse(context: click.Context, **_: Any) -> None:
        command = " ".join(["flowsched", *context.command_path.split()[1:]])
        fail(f"`{command}` is not supported, because {reason}")

    return refuse


def add_unsupported(group: click.Group, reasons: dict[str, str]) -> None:
    for name, reason in reasons.items():
        group.add_command(not_supported(name, reason))
