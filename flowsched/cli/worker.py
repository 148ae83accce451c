"""``flowsched worker``: run tries sent by schedulers using ``core.executor = "celery"``."""

from __future__ import annotations

import click

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
    default="flowsched@%h",
    show_default=True,
    help="Celery node name (%h: this machine's name); unique per worker.",
)
def worker(queues: str | None, concurrency: int | None, hostname: str) -> None:
    """Run a Celery worker on the broker of [celery] broker_url until SIGTERM / Ctrl-C.

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
