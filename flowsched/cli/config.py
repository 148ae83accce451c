"""``flowsched config``: effective settings and where each one came from."""

from __future__ import annotations

import click

from flowsched.cli.airflow_names import add_alias
from flowsched.cli.errors import fail
from flowsched.cli.output import output_option, render
from flowsched.config import ConfigError, conf, mask_value


@click.group()
def config() -> None:
    """Show configuration (defaults < flowsched.toml < FLOWSCHED__SECTION__KEY)."""


@config.command("get")
@click.argument("section")
@click.argument("key")
def get_value(section: str, key: str) -> None:
    """Print one value, e.g. `flowsched config get core dags_folder` (Airflow: get-value)."""
    try:
        value = conf.get(section, key)
    except ConfigError as exc:
        fail(str(exc))
    click.echo(mask_value(value) if conf.is_secret(section, key) else value)


@config.command("list")
@click.option("--section", help="Only this section.")
@output_option
def list_values(section: str | None, output: str) -> None:
    """Every effective value with its source (default, file or env) and help; secrets masked.

    A key of flowsched.toml that flowsched does not know is listed with the source
    "file, unknown key": most likely a typo."""
    try:
        items = conf.items()
    except ConfigError as exc:
        fail(str(exc))
    rows = [
        {
            "section": s,
            "key": k,
            "value": mask_value(v) if conf.is_secret(s, k) else v,
            "source": src,
            "type": _declared(s, k, "type_name"),
            "help": _declared(s, k, "help"),
        }
        for s, k, v, src in items
        if section is None or s == section
    ]
    if section and not rows:
        fail(f"no section named {section!r}")
    render(rows, ["section", "key", "value", "source", "type", "help"], output)


def _declared(section: str, key: str, attribute: str) -> str:
    try:
        return str(getattr(conf.option(section, key), attribute))
    except ConfigError:
        return ""


add_alias(config, get_value, "get-value")
