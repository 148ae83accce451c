"""Configuration: defaults, then ``$FLOWSCHED_HOME/flowsched.toml``, then environment.

Every key is declared once, with its type, default and help, in ``config_options``; read
one typed as ``conf.core.parallelism``. Values are looked up at call time rather than
loaded once, so that a process (or a test) that changes ``FLOWSCHED__SECTION__KEY``
variables sees the change without a reload. The TOML file is cached by its modification
time and size, so a lookup costs a dict access and a stat.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from flowsched.config_options import (
    Alerts,
    Celery,
    ConfigError,
    Core,
    Database,
    Logging,
    Operators,
    Option,
    Scheduler,
    Smtp,
    Webserver,
    flowsched_home,
    option_table,
)

__all__ = ["ConfigError", "conf", "flowsched_home", "mask_value"]

UNKNOWN_KEY = "file, unknown key"
T = TypeVar("T")


@dataclass
class _FileCache:
    path: Path | None = None
    stamp: tuple[int, int] | None = None
    data: dict[str, Any] | None = None


class Config:
    """The effective configuration: typed per section, with the source of each value."""

    def __init__(self) -> None:
        self._cache = _FileCache()
        self._options = option_table()
        self.core = Core(self)
        self.database = Database(self)
        self.logging = Logging(self)
        self.scheduler = Scheduler(self)
        self.webserver = Webserver(self)
        self.smtp = Smtp(self)
        self.alerts = Alerts(self)
        self.celery = Celery(self)
        self.operators = Operators(self)

    @property
    def config_file(self) -> Path:
        return flowsched_home() / "flowsched.toml"

    def _file_values(self) -> dict[str, Any]:
        path = self.config_file
        try:
            stat = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return {}
        stamp = (stat.st_mtime_ns, stat.st_size)
        if self._cache.path != path or self._cache.stamp != stamp:
            try:
                data = tomllib.loads(path.read_text())
            except (tomllib.TOMLDecodeError, OSError) as exc:
                raise ConfigError(f"cannot read {path}: {exc}") from None
            self._cache = _FileCache(path, stamp, data)
        return self._cache.data or {}

    def option(self, section: str, key: str) -> Option[Any]:
        """The declaration of ``[section] key``; a name not declared is an error."""
        try:
            return self._options[section][key]
        except KeyError:
            raise ConfigError(f"unknown config option [{section}] {key}") from None

    def raw(self, section: str, key: str) -> tuple[object, str]:
        """The value before parsing and where it came from: env, file or default."""
        option = self.option(section, key)
        if option.env_var in os.environ:
            return os.environ[option.env_var], "env"
        file_section = self._file_values().get(section, {})
        if isinstance(file_section, dict) and key in file_section:
            return file_section[key], "file"
        return option.default, "default"

    def source(self, section: str, key: str) -> str:
        return self.raw(section, key)[1]

    def get(self, section: str, key: str) -> Any:
        """The value of a key named at run time (``config get``); code reads ``conf.core.x``."""
        return self.option(section, key).parse(self.raw(section, key)[0])

    def getint(self, section: str, key: str) -> int:
        return self._typed(section, key, int)

    def getfloat(self, section: str, key: str) -> float:
        return self._typed(section, key, float)

    def getbool(self, section: str, key: str) -> bool:
        return self._typed(section, key, bool)

    def getlist(self, section: str, key: str) -> list[str]:
        return self._typed(section, key, list)

    def _typed(self, section: str, key: str, kind: type[T]) -> T:
        value = self.get(section, key)
        if not isinstance(value, kind) or type(value) is not kind:
            declared = self.option(section, key).type_name
            raise ConfigError(f"[{section}] {key} is declared {declared}, not {kind.__name__}")
        return value

    def items(self) -> list[tuple[str, str, object, str]]:
        """Every declared key as (section, key, value, source), then the file's unknown keys."""
        rows = [
            (section, key, self.get(section, key), self.source(section, key))
            for section, options in self._options.items()
            for key in options
        ]
        for section, values in self._file_values().items():
            known = self._options.get(section, {})
            if isinstance(values, dict):
                rows += [(section, k, v, UNKNOWN_KEY) for k, v in values.items() if k not in known]
        return rows

    def is_secret(self, section: str, key: str) -> bool:
        """Declared secret; a key the file adds unknown is judged by its name."""
        if key in self._options.get(section, {}):
            return self._options[section][key].secret
        return any(word in key.lower() for word in ("password", "secret", "token"))


def mask_value(value: object) -> object:
    """Hide a secret, keeping the URL shape of connection strings readable."""
    if value in ("", None):
        return value
    text = str(value)
    if "://" in text:
        from sqlalchemy.engine import make_url

        try:
            return make_url(text).render_as_string(hide_password=True)
        except Exception:
            return "***"
    return "***"


conf = Config()
