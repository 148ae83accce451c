"""Every configuration key, declared once: its type, default and one-line help.

A section is a class, a key is one line in it. Reading a key through a section of the
live configuration gives its effective value, typed::

    conf.core.parallelism        # int: FLOWSCHED__CORE__PARALLELISM, flowsched.toml or 32

The same declarations feed ``flowsched config list``, the generic ``conf.get(section, key)``
(which refuses a key not declared here) and docs/reference/configuration.md (``make docs``).
To add a key, add one line to its section; to add a section, add a class and list it in
``SECTIONS``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar, overload

T = TypeVar("T")

HOME = "{home}"  # in a default, stands for $FLOWSCHED_HOME
ENV_PREFIX = "FLOWSCHED__"


def flowsched_home() -> Path:
    """The folder holding flowsched.toml, the SQLite DB and logs."""
    return Path(os.environ.get("FLOWSCHED_HOME", "~/flowsched")).expanduser()


class ConfigError(Exception):
    """A configuration value is missing or cannot be read as the type asked for."""


class RawValues(Protocol):
    """Where a section reads a key's value before parsing: environment, file or default."""

    def raw(self, section: str, key: str) -> tuple[object, str]: ...


class Option(Generic[T]):
    """One key of a section. Read on a section instance, it is the parsed effective value."""

    type_name: ClassVar[str]

    def __init__(self, default: T, help: str, *, secret: bool = False) -> None:
        self.default = default
        self.help = help
        self.secret = secret
        self.section = ""
        self.key = ""

    def __set_name__(self, owner: type[Section], name: str) -> None:
        self.key = name  # the section is known after the class body: __init_subclass__

    @overload
    def __get__(self, instance: None, owner: type[Section]) -> Self: ...
    @overload
    def __get__(self, instance: Section, owner: type[Section]) -> T: ...
    def __get__(self, instance: Section | None, owner: type[Section]) -> Self | T:
        if instance is None:
            return self
        return self.parse(instance.values.raw(self.section, self.key)[0])

    @property
    def name(self) -> str:
        return f"[{self.section}] {self.key}"

    @property
    def env_var(self) -> str:
        """The environment variable that overrides the file and the default."""
        return f"{ENV_PREFIX}{self.section.upper()}__{self.key.upper()}"

    def parse(self, value: object) -> T:
        raise NotImplementedError

    def _refuse(self, value: object, expected: str) -> ConfigError:
        return ConfigError(f"{self.name} must be {expected}, got {value!r}")


class Text(Option[str]):
    """A string; ``{home}`` in it stands for $FLOWSCHED_HOME."""

    type_name = "str"

    def parse(self, value: object) -> str:
        return str(value).replace(HOME, str(flowsched_home()))


class Integer(Option[int]):
    type_name = "int"

    def parse(self, value: object) -> int:
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            try:
                return int(value)
            except ValueError:
                pass
        raise self._refuse(value, "int")


class Number(Option[float]):
    """A float, e.g. seconds."""

    type_name = "float"

    def parse(self, value: object) -> float:
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            try:
                return float(value)
            except ValueError:
                pass
        raise self._refuse(value, "float")


class Flag(Option[bool]):
    """True or false; from the environment also 1/0, yes/no, on/off."""

    type_name = "bool"
    TRUE = frozenset({"1", "true", "yes", "on"})
    FALSE = frozenset({"0", "false", "no", "off", ""})

    def parse(self, value: object) -> bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise self._refuse(value, "true or false")


class Texts(Option[list[str]]):
    """A list: a TOML array, or a comma-separated string (as environment variables give)."""

    type_name = "list"

    def parse(self, value: object) -> list[str]:
        if isinstance(value, list):
            return [str(item) for item in value]
        return [item.strip() for item in str(value).split(",") if item.strip()]


class Section:
    """A group of keys; subclasses name themselves with ``class X(Section, name="x")``."""

    name: ClassVar[str]

    def __init_subclass__(cls, *, name: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = name
        for option in cls.options():
            option.section = name

    def __init__(self, values: RawValues) -> None:
        self.values = values

    @classmethod
    def options(cls) -> list[Option[Any]]:
        return [value for value in vars(cls).values() if isinstance(value, Option)]


# --- the table ---------------------------------------------------------------------------


class Core(Section, name="core"):
    dags_folder = Text(f"{HOME}/dags", "Folder scanned for DAG files (and put on sys.path).")
    executor = Text("local", "Where tasks run: local, sequential or celery.")
    parallelism = Integer(32, "Most task instances running at once, over all DAGs.")
    max_active_tasks_per_dag = Integer(16, "max_active_tasks of a DAG that sets none.")
    max_active_runs_per_dag = Integer(16, "max_active_runs of a DAG that sets none.")
    default_pool_slots = Integer(128, "Slots of default_pool while it has no row of its own.")
    dagbag_import_timeout = Number(30.0, "Seconds a DAG file may take to import.")
    dags_are_paused_at_creation = Flag(True, "New DAGs start paused.")
    default_timezone = Text("UTC", "Time zone of naive dates in DAG files.")
    parsing_processes = Integer(2, "Processes importing DAG files in parallel.")
    default_task_retries = Integer(0, "Retries of a task that sets none.")
    default_retry_delay = Number(300.0, "Seconds between tries of a task that sets none.")
    max_platform_retries = Integer(3, "Re-runs of a try the platform lost before it fails.")
    max_consecutive_failed_dag_runs_per_dag = Integer(
        0, "Failed runs in a row that pause a DAG that sets no limit; 0: never."
    )
    max_conf_bytes = Integer(65536, "Largest run conf a trigger accepts, in bytes of JSON.")


class Database(Section, name="database"):
    sql_alchemy_conn = Text(
        f"sqlite:///{HOME}/flowsched.db", "SQLAlchemy URL of the metadata DB.", secret=True
    )
    sqlite_busy_timeout = Number(30.0, "Seconds a SQLite writer waits for the lock.")
    outage_retry_interval = Number(1.0, "First wait, in seconds, to retry an unreachable DB.")
    outage_max_retry_interval = Number(15.0, "Longest wait between retries of an unreachable DB.")


class Logging(Section, name="logging"):
    base_log_folder = Text(f"{HOME}/logs", "Folder of the task logs.")
    level = Text("INFO", "Log level of flowsched's own processes.")


class Scheduler(Section, name="scheduler"):
    zombie_threshold = Number(60.0, "Seconds without a task heartbeat before a try is lost.")
    task_heartbeat_interval = Number(5.0, "Seconds between a running task's heartbeats.")
    scheduler_heartbeat_interval = Number(5.0, "Seconds between a scheduler's heartbeats.")
    idle_poll_interval = Number(1.0, "Most seconds an idle scheduler sleeps between passes.")
    dag_dir_list_interval = Number(10.0, "Seconds between scans of the DAGs folder.")
    pid_file = Text(f"{HOME}/scheduler.pid", "PID file of `flowsched scheduler`.")


class Webserver(Section, name="webserver"):
    base_url = Text("http://localhost:8080", "URL users reach the UI at (links in alerts).")
    host = Text("127.0.0.1", "Address the web server listens on.")
    port = Integer(8080, "Port the web server listens on.")
    workers = Integer(4, "Request concurrency: each worker is 4 waitress threads.")
    secret_key = Text("", "Signs sessions; empty: one kept in $FLOWSCHED_HOME.", secret=True)
    grid_runs = Integer(25, "Runs shown in a DAG's grid.")
    failed_logins_per_user = Text(
        "5 per 5 minutes", "Failed logins (form or API basic auth) of one user before a lockout."
    )
    failed_logins_per_address = Text(
        "20 per 5 minutes", "Failed logins one client address may make before a lockout."
    )


class Smtp(Section, name="smtp"):
    host = Text("localhost", "SMTP server for alert e-mails.")
    port = Integer(25, "SMTP port.")
    starttls = Flag(False, "Upgrade the connection with STARTTLS.")
    ssl = Flag(False, "Connect with TLS from the start (SMTPS).")
    user = Text("", "SMTP login; empty: no login.")
    password = Text("", "SMTP password.", secret=True)
    mail_from = Text("flowsched@localhost", "From address of alert e-mails.")
    timeout = Number(10.0, "Seconds an SMTP connection may take.")
    retries = Integer(1, "Further tries of an e-mail that failed to send.")


class Alerts(Section, name="alerts"):
    email = Texts([], "Addresses alerted of every failure, besides a task's own email.")
    webhook_urls = Texts([], "URLs POSTed every alert, besides a DAG's own.")
    webhook_timeout = Number(5.0, "Seconds a webhook call may take.")
    webhook_retries = Integer(2, "Further tries of a webhook call that failed.")
    scheduler_silence_threshold = Number(
        120.0, "Seconds without a scheduler heartbeat before an alert says so."
    )


class Celery(Section, name="celery"):
    broker_url = Text("redis://localhost:6379/0", "Celery broker URL.", secret=True)
    worker_concurrency = Integer(8, "Task processes per `flowsched celery worker`.")
    task_queued_timeout = Number(600.0, "Seconds a queued try may wait before it is re-sent.")
    default_queue = Text("default", "Queue of tasks that name none.")


class Operators(Section, name="operators"):
    default_deferrable = Flag(
        False, "Operators that can defer (deferrable=...) do so unless told deferrable=False."
    )


SECTIONS: tuple[type[Section], ...] = (
    Core,
    Database,
    Logging,
    Scheduler,
    Webserver,
    Smtp,
    Alerts,
    Celery,
    Operators,
)

OptionTable = dict[str, dict[str, Option[Any]]]


def option_table() -> OptionTable:
    """Section name -> key -> declaration, in declaration order."""
    return {section.name: {o.key: o for o in section.options()} for section in SECTIONS}
