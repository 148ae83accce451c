"""The whole product in a real browser: a real `flowsched scheduler` and a real
`flowsched webserver` (subprocesses on a temp home) and chromium driven by Playwright.

One session does what a user does on day one: log in, find the DAG, unpause it,
trigger it with a JSON conf, watch the grid turn green without reloading, read the
greeting the task printed, clear that task and watch it run again (try 2).
Screenshots go to test-artifacts/ for review.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.conftest import service_missing
from tests.e2e.support import FLOWSCHED, flowsched, wait_for, wait_for_dag

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(240)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WAIT_MS = 60_000  # any one thing the browser waits for, on a loaded 2-core machine
STOP_TIMEOUT = 30.0

DAG_ID = "browser_e2e"
OTHER_DAG_ID = "unrelated_nightly"
PASSWORD = "e2e-browser-Passw0rd"
GREETING = "hello from the trigger form"

# start -> (greet, count) -> finish, plus a second DAG for the search to leave out.
# greet runs `printf 'greeting=%s\n' "<the conf's greeting>"`, so "greeting=hello…"
# appears in the log only if the task ran (the logged command line has "greeting=%s").
DAG_SOURCE = textwrap.dedent(
    """
    import pendulum

    from flowsched import DAG
    from flowsched.operators.bash import BashOperator

    with DAG(
        "browser_e2e",
        schedule=None,
        start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
        is_paused_upon_creation=True,
        tags=["e2e"],
        description="Four quick tasks for the browser end-to-end test",
    ):
        start = BashOperator(task_id="start", bash_command="echo starting")
        greet = BashOperator(
            task_id="greet",
            bash_command="printf 'greeting=%s\\\\n' \\"{{ dag_run.conf.get('greeting') }}\\"",
        )
        count = BashOperator(task_id="count", bash_command="seq 3")
        finish = BashOperator(task_id="finish", bash_command="echo done")
        start >> [greet, count] >> finish

    with DAG("unrelated_nightly", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        BashOperator(task_id="noop", bash_command="true")
    """
)
TASKS = ("start", "greet", "count", "finish")


class Service:
    """A flowsched subprocess in its own process group (the scheduler forks workers and
    tasks), output to a file; stopped with SIGTERM, then SIGKILL after a timeout."""

    def __init__(self, name: str, home: Path, *args: str) -> None:
        self.name = name
        self.log = home / f"{name}-test.log"
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [FLOWSCHED, *args],
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        group = self.process.pid  # the leader of its own session and process group
        _signal_group(group, signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            print(f"{self.name} still running after {STOP_TIMEOUT:.0f}s: killing it")
        _signal_group(group, signal.SIGKILL)  # anything the group left behind
        if self.process.poll() is None:
            self.process.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _signal_group(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except (ProcessLookupError, PermissionError):
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    """Whether a web server answers at ``url`` (any HTTP status will do)."""
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@pytest.fixture
def stack(home: Path, dags_folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Migrated DB, an admin, the DAG file, then scheduler + webserver; yields the URL."""
    if not os.path.exists(CHROMIUM):
        service_missing(f"chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    for key, value in {
        "FLOWSCHED__SCHEDULER__IDLE_POLL_INTERVAL": "0.3",
        "FLOWSCHED__SCHEDULER__DAG_DIR_LIST_INTERVAL": "1",
        "FLOWSCHED__SCHEDULER__TASK_HEARTBEAT_INTERVAL": "1",
        "FLOWSCHED__SCHEDULER__SCHEDULER_HEARTBEAT_INTERVAL": "1",
        "FLOWSCHED__CORE__PARALLELISM": "4",
        "FLOWSCHED__CORE__DAGS_ARE_PAUSED_AT_CREATION": "true",
    }.items():
        monkeypatch.setenv(key, value)
    flowsched("db", "upgrade")
    flowsched("users", "create", "-u", "admin", "-p", PASSWORD, "-r", "admin")
    (dags_folder / f"{DAG_ID}.py").write_text(DAG_SOURCE)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    services: list[Service] = []
    try:
        services.append(Service("scheduler", home, "scheduler"))
        web = Service("webserver", home, "webserver", "--port", str(port))
        services.append(web)

        def web_up() -> bool:
            assert web.alive(), f"the webserver exited:\n{web.output()}"
            return answers(f"{url}/health")

        wait_for(web_up, "the webserver to answer", timeout=60)
        wait_for_dag(DAG_ID)
        wait_for_dag(OTHER_DAG_ID)
        yield url
    finally:
        for service in reversed(services):
            service.stop()
        for service in services:  # shown by pytest when the test failed
            print(f"----- {service.name} output -----\n{service.output()[-6000:]}")


@pytest.fixture
def page(stack: str) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 860})
            page.set_default_timeout(WAIT_MS)
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            yield page
        finally:
            browser.close()
    assert errors == [], errors  # no CSP violation, no script error


def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def mark_page(page: Page) -> None:
    """A flag that only survives while the document does: a reload would drop it."""
    page.evaluate("window.__notReloaded = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__notReloaded") is True, "the page was reloaded"


def expect_run_green(page: Page, run_id: str) -> None:
    """Every task cell of the run and the run's bar show success."""
    cells = page.locator(f'#grid a.cell[data-run="{run_id}"]')
    expect(cells).to_have_count(len(TASKS), timeout=WAIT_MS)
    not_green = page.locator(f'#grid a.cell[data-run="{run_id}"]:not(.state-success)')
    expect(not_green).to_have_count(0, timeout=WAIT_MS)
    bar = page.locator(f'#grid th.run-head[data-run="{run_id}"] rect')
    expect(bar).to_have_class(re.compile(r"\bstate-success\b"), timeout=WAIT_MS)


def test_a_user_runs_and_reruns_a_dag_in_the_browser(page: Page, stack: str) -> None:
    started = time.monotonic()

    # Log in.
    page.goto(f"{stack}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{stack}/")

    # Find the DAG with the search box (another DAG is there too); it starts paused.
    expect(page.locator("table.dag-table a.dag-link")).to_have_count(2)
    page.get_by_placeholder("Search DAG id").fill("browser_e")
    page.get_by_placeholder("Search DAG id").press("Enter")
    page.wait_for_url(re.compile(r"[?&]q=browser_e"))
    row = page.locator("table.dag-table tbody tr", has=page.locator("a.dag-link"))
    expect(row).to_have_count(1)
    expect(row.locator("a.dag-link")).to_have_text(DAG_ID)

    # Unpause it with the toggle; the page comes back with the search kept.
    row.get_by_role("button", name=f"Unpause {DAG_ID}").click()
    expect(row.get_by_role("button", name=f"Pause {DAG_ID}")).to_have_class(re.compile(r"\bon\b"))
    assert "q=browser_e" in page.url
    shoot(page, "e2e-dags")

    # Trigger it with a JSON conf from the trigger form.
    row.locator("a.dag-link").click()
    page.wait_for_url(f"{stack}/dags/{DAG_ID}/grid")
    page.get_by_role("link", name="▶ Trigger").click()
    page.wait_for_url(f"{stack}/dags/{DAG_ID}/trigger")
    page.locator("textarea[name=conf]").fill(json.dumps({"greeting": GREETING}))
    shoot(page, "e2e-trigger")
    page.locator("form.stacked button[type=submit]").click()
    page.wait_for_url(f"{stack}/dags/{DAG_ID}/grid")
    expect(page.locator("body")).to_contain_text("Triggered")

    # Watch the grid turn green without a reload.
    heads = page.locator("#grid th.run-head")
    expect(heads).to_have_count(1)
    run_id = heads.get_attribute("data-run")
    assert run_id and run_id.startswith("manual__"), run_id
    mark_page(page)
    not_green = page.locator(f'#grid a.cell[data-run="{run_id}"]:not(.state-success)')
    assert not_green.count() > 0, "the run was already over when the grid first rendered"
    expect_run_green(page, run_id)
    assert_not_reloaded(page)
    shoot(page, "e2e-grid")

    # The graph of that run, every node green.
    page.get_by_role("link", name="Graph", exact=True).click()
    page.wait_for_url(re.compile(rf"/dags/{DAG_ID}/graph"))
    nodes = page.locator("svg.graph g.node")
    expect(nodes).to_have_count(len(TASKS))
    expect(page.locator("svg.graph g.node.state-success")).to_have_count(len(TASKS))
    shoot(page, "e2e-graph")

    # Open greet's log from the grid: the greeting the task printed from the conf.
    page.get_by_role("link", name="Grid", exact=True).click()
    page.locator(f'#grid a.cell[data-task="greet"][data-run="{run_id}"]').click()
    page.wait_for_url(re.compile(rf"/runs/{re.escape(run_id)}/tasks/greet"))
    log = page.locator("#log")
    expect(log).to_contain_text(f"greeting={GREETING}", timeout=WAIT_MS)
    expect(page.locator(".try-tabs a")).to_have_text(["try 1"])
    shoot(page, "e2e-task-log-try1")

    # Clear it from its page (a preview, then the confirmed clear) ...
    page.locator(".task-head .actions").get_by_role("button", name="Clear", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(r"Clear 1 task instance"))).to_be_visible()
    expect(page.locator("table.compact tbody tr")).to_have_count(1)
    expect(page.locator("table.compact tbody tr td").first).to_have_text("greet")
    page.locator("section.card form button[type=submit]", has_text="Clear").click()
    page.wait_for_url(re.compile(rf"/runs/{re.escape(run_id)}/tasks/greet"))
    expect(page.locator("body")).to_contain_text("Cleared 1 task instance")

    # ... and watch it run again on the grid, still without a reload.
    page.get_by_role("link", name="Grid", exact=True).click()
    page.wait_for_url(f"{stack}/dags/{DAG_ID}/grid")
    mark_page(page)
    expect_run_green(page, run_id)
    assert_not_reloaded(page)
    shoot(page, "dag-page")

    # Its page now shows try 2 (and keeps try 1), with the greeting in try 2's log.
    page.locator(f'#grid a.cell[data-task="greet"][data-run="{run_id}"]').click()
    page.wait_for_url(re.compile(rf"/runs/{re.escape(run_id)}/tasks/greet"))
    expect(page.locator(".try-tabs a")).to_have_text(["try 1", "try 2"])
    expect(page.locator(".try-tabs a.chosen")).to_have_text("try 2")
    try_row = page.locator("table.props tr", has=page.locator("th", has_text=re.compile(r"^Try$")))
    expect(try_row.locator("td")).to_have_text(re.compile(r"^2 of \d+$"))
    expect(page.locator(".task-head h2")).to_contain_text("success")
    expect(log).to_contain_text(f"greeting={GREETING}", timeout=WAIT_MS)
    expect(page.locator("#log-status")).to_have_text("End of log.")
    shoot(page, "e2e-task-log")

    print(f"browser session took {time.monotonic() - started:.1f}s")
