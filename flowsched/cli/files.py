"""Files the import and export commands read and write: "-" is stdin or stdout, and a
file that cannot be read or written is one error line naming it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from flowsched import json_text
from flowsched.cli.errors import fail


def read_text(file: str) -> str:
    if file == "-":
        return sys.stdin.read()
    try:
        return Path(file).read_text()
    except FileNotFoundError:
        fail(f"no such file: {file}")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    except UnicodeDecodeError:
        fail(f"cannot read {file}: it is not UTF-8 text")


def parse_json(text: str, source: str) -> Any:
    try:
        return json_text.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{source} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")


def write_text(file: str, text: str, what: str) -> None:
    """Write ``text`` to ``file`` ("-": stdout) and say how much (``what``) went where."""
    if file == "-":
        click.echo(text, nl=False)
        return
    try:
        Path(file).write_text(text)
    except OSError as exc:
        fail(f"cannot write {file}: {exc.strerror}")
    click.echo(f"Exported {what} to {file}.")
