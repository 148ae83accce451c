"""Configuration: defaults, then ``$FLOWSCHED_HOME/flowsched.toml``, then environment.

Values are looked up at call time rather than loaded once, so that a process (or a test)
that changes ``FLOWSCHED__SECTION__KEY`` variables sees the change without a reload. The
TOML file is cached by its modification time and size, so a lookup costs a dict access and a stat.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_PREFIX = "FLOWSCHED__"

# Every known key with its default. "{home}" is replaced by $FLOWSCHED_HOME.
DEFAULTS: dict[str, dict[str, Any]] = {
    "core": {
        "dags_folder": "{home}/dags",
        "executor": "local",
        "parallelism": 32,
        "max_active_tasks_per_dag": 16,
        "max_active_runs_per_dag": 16,
        "default_pool_slots": 128,
        "dagbag_import_timeout": 30.0,
        "dags_are_paused_at_creation": True,
        "default_timezone": "UTC",
        "parsing_processes": 2,
        "default_task_retries": 0,
        "default_retry_delay": 300.0,
        "max_platform_retries": 3,
        "max_consecutive_failed_dag_runs_per_dag": 0,
        "max_conf_bytes": 65536,
    },
    "database": {
        "sql_alchemy_conn": "sqlite:///{home}/flowsched.db",
        "sqlite_busy_timeout": 30.0,
        "outage_retry_interval": 1.0,
        "outage_max_retry_interval": 15.0,
    },
    "logging": {
        "base_log_folder": "{home}/logs",
        "level": "INFO",
    },
    "scheduler": {
        "zombie_threshold": 60.0,
        "task_heartbeat_interval": 5.0,
        "scheduler_heartbeat_interval": 5.0,
        "idle_poll_interval": 1.0,
        "dag_dir_list_interval": 10.0,
        "pid_file": "{home}/scheduler.pid",
    },
    "webserver": {
        "base_url": "http://localhost:8080",
        "host": "127.0.0.1",
        "port": 8080,
        "workers": 4,
        "secret_key": "",
        "grid_runs": 25,
    },
    "smtp": {
        "host": "localhost",
        "port": 25,
        "starttls": False,
        "ssl": False,
        "user": "",
        "password": "",
        "mail_from": "flowsched@localhost",
        "timeout": 10.0,
        "retries": 1,
    },
    "alerts": {
        "email": [],
        "webhook_urls": [],
        "webhook_timeout": 5.0,
        "webhook_retries": 2,
        "scheduler_silence_threshold": 120.0,
    },
    "celery": {
        "broker_url": "redis://localhost:6379/0",
        "worker_concurrency": 8,
        "task_queued_timeout": 600.0,
        "default_queue": "default",
    },
}

SECRET_WORDS = ("password", "secret", "sql_alchemy_conn", "broker_url")


class ConfigError(Exception):
    """A configuration value is missing or cannot be read as the type asked for."""


def flowsched_home() -> Path:
    """The folder holding flowsched.toml, the SQLite DB and logs."""
    return Path(os.environ.get("FLOWSCHED_HOME", "~/flowsched")).expanduser()


@dataclass
class _FileCache:
    path: Path | None = None
    stamp: tuple[int, int] | None = None
    data: dict[str, Any] | None = None


class Config:
    """Typed access to the effective configuration, with the source of each value."""

    def __init__(self) -> None:
        self._cache = _FileCache()

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

    def _lookup(self, section: str, key: str) -> tuple[Any, str]:
        env_name = f"{ENV_PREFIX}{section.upper()}__{key.upper()}"
        if env_name in os.environ:
            return os.environ[env_name], "env"
        file_section = self._file_values().get(section, {})
        if key in file_section:
            return file_section[key], "file"
        try:
            return DEFAULTS[section][key], "default"
        except KeyError:
            raise ConfigError(f"unknown config option [{section}] {key}") from None

    def source(self, section: str, key: str) -> str:
        return self._lookup(section, key)[1]

    def get(self, section: str, key: str) -> Any:
        value, _ = self._lookup(section, key)
        if isinstance(value, str):
            return value.replace("{home}", str(flowsched_home()))
        return value

    def getint(self, section: str, key: str) -> int:
        return self._convert(section, key, int)

    def getfloat(self, section: str, key: str) -> float:
        return self._convert(section, key, float)

    def getbool(self, section: str, key: str) -> bool:
        value = self.get(section, key)
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"[{section}] {key} must be true or false, got {value!r}")

    def getlist(self, section: str, key: str) -> list[str]:
        """A list from TOML, or a comma-separated string (as environment variables give)."""
        value = self.get(section, key)
        if isinstance(value, list):
            return [str(item) for item in value]
        return [item.strip() for item in str(value).split(",") if item.strip()]

    def _convert(self, section: str, key: str, kind: type) -> Any:
        value = self.get(section, key)
        try:
            return kind(value)
        except (TypeError, ValueError):
            raise ConfigError(f"[{section}] {key} must be {kind.__name__}, got {value!r}") from None

    def items(self) -> list[tuple[str, str, Any, str]]:
        """Every known option as (section, key, value, source), file-only keys included."""
        keys = {section: dict.fromkeys(options) for section, options in DEFAULTS.items()}
        for section, options in self._file_values().items():
            if isinstance(options, dict):
                keys.setdefault(section, {}).update(dict.fromkeys(options))
        return [
            (section, key, self.get(section, key), self.source(section, key))
            for section, options in keys.items()
            for key in options
        ]


def is_secret(key: str) -> bool:
    return any(word in key.lower() for word in SECRET_WORDS)


def mask_value(key: str, value: Any) -> Any:
    """Hide a secret, keeping the URL shape of connection strings readable."""
    if not is_secret(key) or value in ("", None):
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
