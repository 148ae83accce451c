"""The UI in a real browser against a real waitress server: pages render, the grid and
the log update live without a reload (new runs included). Screenshots go to
test-artifacts/ for review."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from flowsched.cli.webserver import make_server
from flowsched.db import session_scope
from flowsched.db.tables import TaskInstance
from tests.conftest import service_missing
from tests.webui.seed import FAILED_RUN, PASSWORD, RUNNING_RUN, START, add_run

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture
def server(app, etl) -> Iterator[str]:
    """The real production server (waitress) on a free port, in a thread of this process."""
    web = make_server("127.0.0.1", 0, 1)
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{web.effective_port}"
    web.close()


@pytest.fixture
def page(server):
    if not os.path.exists(CHROMIUM):
        service_missing(f"chromium is not installed at {CHROMIUM} (apt-get install chromium)")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1360, "height": 860})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{server}/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server}/")
        yield page
        browser.close()
        assert errors == [], errors  # no CSP violation, no script error


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"webui-{name}.png"), full_page=True)


def test_pages_render_in_a_browser(page, server, home):
    log = home / "logs" / "dag_id=etl" / f"run_id={FAILED_RUN}" / "task_id=transform"
    log.mkdir(parents=True)
    (log / "attempt=1.log").write_text("[2025-01-01 01:00:00] running\nValueError: boom\n")
    pages = {
        "dags": "/",
        "grid": "/dags/etl/grid",
        "graph": "/dags/etl/graph",
        "runs": "/dags/etl/runs",
        "gantt": f"/dags/etl/runs/{FAILED_RUN}/gantt",
        "code": "/dags/etl/code",
        "details": "/dags/etl/details",
        "trigger": "/dags/etl/trigger",
        "task": f"/dags/etl/runs/{FAILED_RUN}/tasks/transform",
        "pools": "/pools",
    }
    for name, path in pages.items():
        page.goto(server + path)
        assert page.locator("h1").first.is_visible(), name
        if name == "task":
            expect(page.locator("#log")).to_contain_text("boom")
        shoot(page, name)


def test_grid_cells_turn_green_without_a_reload(page, server):
    page.goto(f"{server}/dags/etl/grid")
    cell = page.locator(f'a.cell[data-task="transform"][data-run="{RUNNING_RUN}"]')
    assert "state-running" in cell.get_attribute("class")
    page.evaluate("window.notReloaded = true")  # gone if the page reloads
    with session_scope() as session:
        session.get(TaskInstance, ("etl", RUNNING_RUN, "transform", -1)).state = "success"
    expect(cell).to_have_class(re.compile("state-success"), timeout=10_000)
    add_run("etl", "manual__new", "queued", {"extract": None}, logical_date=START + timedelta(1))
    expect(page.locator('th.run-head[data-run="manual__new"]')).to_have_count(1, timeout=10_000)
    assert page.evaluate("window.notReloaded") is True
    shoot(page, "grid-live")


def test_log_is_tailed_while_the_try_runs(page, server, home):
    folder = home / "logs" / "dag_id=etl" / f"run_id={RUNNING_RUN}" / "task_id=transform"
    folder.mkdir(parents=True)
    log = folder / "attempt=1.log"
    log.write_text("step 1\n")
    page.goto(f"{server}/dags/etl/runs/{RUNNING_RUN}/tasks/transform")
    expect(page.locator("#log")).to_contain_text("step 1")
    with log.open("a") as handle:
        handle.write("step 2 <b>not bold</b>\n")
    expect(page.locator("#log")).to_contain_text("step 2 <b>not bold</b>")
    assert page.locator("#log b").count() == 0
