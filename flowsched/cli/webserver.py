"""``flowsched webserver``: the web UI and REST API, served by waitress."""

from __future__ import annotations

import threading

import click

from flowsched.config import conf
from flowsched.notify import silence

THREADS_PER_WORKER = 4


@click.command()
@click.option("--host", "-H", help="Interface to listen on [default: [webserver] host, 127.0.0.1].")
@click.option("--port", "-p", type=int, help="Port [default: [webserver] port, 8080].")
@click.option(
    "--workers",
    "-w",
    type=click.IntRange(min=1),
    help=f"Request concurrency [default: [webserver] workers, 4]. waitress is one "
    f"process; each worker is {THREADS_PER_WORKER} request threads.",
)
def webserver(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the web UI and /api/v1 with waitress (a production WSGI server)."""
    from flowsched.db import require_current_schema

    require_current_schema()
    serve(
        host or conf.webserver.host,
        port or conf.webserver.port,
        workers or conf.webserver.workers,
    )


def serve(host: str, port: int, workers: int) -> None:
    """Block serving until interrupted (Ctrl-C, SIGTERM via the caller)."""
    server = make_server(host, port, workers)
    click.echo(f"flowsched web server on http://{host}:{server.effective_port}/")
    stop = threading.Event()
    silence.watch_in_background(stop)  # alerts when no scheduler runs (notify.silence)
    try:
        server.run()
    finally:
        stop.set()


def make_server(host: str, port: int, workers: int):
    """A waitress server bound and ready; ``.run()`` serves, ``.close()`` stops it."""
    from waitress.server import create_server

    from webui.app import create_app

    return create_server(
        create_app(),
        host=host,
        port=port,
        threads=workers * THREADS_PER_WORKER,
        ident="flowsched",
        clear_untrusted_proxy_headers=True,
    )
