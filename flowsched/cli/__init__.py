"""The ``flowsched`` command line: a root group whose subcommands load on first use.

Subcommand modules are imported only when called, so ``flowsched dags list`` does not pay
for the web server's or the scheduler's imports.
"""

from __future__ import annotations

import importlib
import sys

import click

from flowsched.cli.airflow_names import not_supported
from flowsched.cli.errors import UserError, run_guarded
from flowsched.operations.errors import OperationError

# command name -> "module:attribute"
SUBCOMMANDS = {
    "alerts": "flowsched.cli.alerts:alerts",
    "celery": "flowsched.cli.worker:celery",
    "cheat-sheet": "flowsched.cli.about:cheat_sheet",
    "config": "flowsched.cli.config:config",
    "connections": "flowsched.cli.connections:connections",
    "dags": "flowsched.cli.dags:dags",
    "db": "flowsched.cli.db:db",
    "import-crontab": "flowsched.cli.import_crontab:import_crontab",
    "info": "flowsched.cli.about:info",
    "jobs": "flowsched.cli.jobs:jobs",
    "pools": "flowsched.cli.pools:pools",
    "roles": "flowsched.cli.users:roles",
    "scheduler": "flowsched.cli.scheduler:scheduler",
    "standalone": "flowsched.cli.standalone:standalone",
    "tasks": "flowsched.cli.tasks:tasks",
    "users": "flowsched.cli.users:users",
    "variables": "flowsched.cli.variables:variables",
    "version": "flowsched.cli.about:version",
    "webserver": "flowsched.cli.webserver:webserver",
    "worker": "flowsched.cli.worker:worker",
}

# Airflow 2.10 commands flowsched does not have -> why (see docs/airflow.md)
UNSUPPORTED = {
    "dag-processor": "the scheduler parses the dags folder itself; there is no separate "
    "DAG processor",
    "fab-db": "users live in flowsched's own tables (`flowsched db migrate` covers them)",
    "internal-api": "flowsched has no internal API: every process talks to the database",
    "kerberos": "flowsched has no Kerberos ticket renewer; run kinit where the workers run",
    "kubernetes": "flowsched has no Kubernetes executor",
    "plugins": "flowsched has no plugin manager",
    "providers": "flowsched has no provider packages: its hooks and operators are built in",
    "rotate-fernet-key": "flowsched does not encrypt connections and variables with a Fernet key",
    "sync-perm": "flowsched's roles (admin, viewer) are fixed: there are no permissions to sync",
    "triggerer": "flowsched has no triggerer: a deferred task waits as a reschedule",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in SUBCOMMANDS if self._importable(name))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in UNSUPPORTED:
            return not_supported(cmd_name, UNSUPPORTED[cmd_name])
        target = SUBCOMMANDS.get(cmd_name)
        if target is None or not self._importable(cmd_name):
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def invoke(self, ctx: click.Context) -> object:
        """An operation's refusal is the user's to fix: one ``Error:`` line, exit 1."""
        try:
            return super().invoke(ctx)
        except OperationError as exc:
            raise UserError(exc.message) from None

    @staticmethod
    def _importable(name: str) -> bool:
        module_name = SUBCOMMANDS[name].split(":")[0]
        return importlib.util.find_spec(module_name) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="flowsched")
def cli() -> None:
    """flowsched: schedule and run Python DAG pipelines, Airflow-style, fast."""


def main() -> None:
    sys.exit(run_guarded(cli))
