"""The scheduler's settings, read once when it starts.

A configuration lookup stats flowsched.toml; a pass that makes several of them for every
ended task pays for it in latency. Changing these settings takes a scheduler restart, as
in Airflow.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowsched.config import conf


@dataclass(frozen=True)
class SchedulerSettings:
    idle_poll_interval: float
    dag_dir_list_interval: float
    heartbeat_interval: float
    zombie_threshold: float
    parallelism: int
    default_pool_slots: int

    @classmethod
    def from_conf(cls) -> SchedulerSettings:
        return cls(
            idle_poll_interval=conf.getfloat("scheduler", "idle_poll_interval"),
            dag_dir_list_interval=conf.getfloat("scheduler", "dag_dir_list_interval"),
            heartbeat_interval=conf.getfloat("scheduler", "scheduler_heartbeat_interval"),
            zombie_threshold=conf.getfloat("scheduler", "zombie_threshold"),
            parallelism=conf.getint("core", "parallelism"),
            default_pool_slots=conf.getint("core", "default_pool_slots"),
        )
