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
            idle_poll_interval=conf.scheduler.idle_poll_interval,
            dag_dir_list_interval=conf.scheduler.dag_dir_list_interval,
            heartbeat_interval=conf.scheduler.scheduler_heartbeat_interval,
            zombie_threshold=conf.scheduler.zombie_threshold,
            parallelism=conf.core.parallelism,
            default_pool_slots=conf.core.default_pool_slots,
        )
