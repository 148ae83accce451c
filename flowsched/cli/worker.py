"""``flowsched worker``: run tries sent by schedulers using ``core.executor = "celery"``."""

from __future__ import annotations

import click

from flowsched.cli.airflow_names import add_alias, add_unsupported
from flowsched.config import conf


@click.command()
@click.option(
    "-q",
    "--queues",
    help="Comma-separated queues to serve [default: [celery] default_queue].",
)
@click.option(
    "-c",
    "--concurrency",
    type=click.IntRange(min=1),
    help="Tries run at once (prefork pool processes) [default: [celery] worker_concurrency].",
)
@click.option(
    "-H",
    "--hostname",
    "--celery-hostname",
    default="flowsched@%h",
    show_default=True,
    help="Celery node name (%h: this machine's name); unique per worker.",
)
def worker(queues: str | None, concurrency: int | None, hostname: str) -> None:
    """Run a Celery worker on the broker of [celery] broker_url until SIGTERM / Ctrl-C.

    Airflow's `celery worker` (also accepted, with its -q, -c and --celery-hostname).

    The machine must see the same dags folder and database as the schedulers, and should
    share their log folder (one FLOWSCHED_HOME/logs, or a shared volume) so the web UI
    can show the logs of tries run here. The first SIGTERM lets running tries finish.
    """
    from flowsched.executors.celery_worker import run_worker

    served = [name.strip() for name in (queues or "").split(",") if name.strip()] or [
        conf.celery.default_queue
    ]
    concurrency = concurrency or conf.celery.worker_concurrency
    click.get_current_context().exit(run_worker(served, concurrency, hostname))


@click.group()
def celery() -> None:
    """Airflow's `celery` commands: `celery worker` is `flowsched worker`."""


add_alias(celery, worker, "worker", same_as="worker")
add_unsupported(
    celery,
    {
        "flower": "flowsched does not bundle Flower: run `celery flower` against [celery] "
        "broker_url if you want it",
        "stop": "a worker stops on SIGTERM (running tries finish first)",
    },
)
