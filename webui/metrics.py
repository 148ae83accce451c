"""Prometheus metrics, read from the database at scrape time.

A custom collector instead of counters kept in memory: the web server does not see the
scheduler's events, and several web processes must report the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from flowsched.db import session_scope
from flowsched.db.tables import DagRun, TaskInstance, utcnow
from webui.health import latest_scheduler_heartbeat

QUEUED_STATES = ("scheduled", "queued")


class FlowschedCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        with session_scope(readonly=True) as session:
            yield _by_state(session, DagRun.state, "flowsched_dag_runs", "DAG runs by state")
            yield _by_state(
                session, TaskInstance.state, "flowsched_task_instances", "Task instances by state"
            )
            yield _queue_depth(session)
            yield from _heartbeat_age(session)
            yield _durations(session)


def _by_state(
    session: Session, column: InstrumentedAttribute[str | None], name: str, doc: str
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=["state"])
    for state, count in session.execute(select(column, func.count()).group_by(column)):
        family.add_metric([state or "none"], count)
    return family


def _queue_depth(session: Session) -> GaugeMetricFamily:
    depth = session.scalar(select(func.count()).where(TaskInstance.state.in_(QUEUED_STATES)))
    return GaugeMetricFamily(
        "flowsched_queue_depth", "Task instances scheduled or queued, not yet running", depth or 0
    )


def _heartbeat_age(session: Session) -> Iterator[GaugeMetricFamily]:
    beat = latest_scheduler_heartbeat(session)
    if beat is not None:
        yield GaugeMetricFamily(
            "flowsched_scheduler_heartbeat_age_seconds",
            "Seconds since the latest running scheduler's heartbeat",
            (utcnow() - beat).total_seconds(),
        )


def _durations(session: Session) -> SummaryMetricFamily:
    count, total = session.execute(
        select(func.count(TaskInstance.duration), func.sum(TaskInstance.duration)).where(
            TaskInstance.duration.is_not(None)
        )
    ).one()
    return SummaryMetricFamily(
        "flowsched_task_duration_seconds",
        "Durations of finished task tries",
        count_value=count or 0,
        sum_value=float(total or 0.0),
    )


def render_metrics() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FlowschedCollector())
    return generate_latest(registry)
