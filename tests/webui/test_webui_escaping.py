"""Whatever a DAG author or a task writes is shown as text, never run as HTML."""

from __future__ import annotations

import pytest

from flowsched.db import session_scope
from flowsched.db.tables import DagFile, ParseImportError, TaskInstance, XCom
from tests.webui.seed import START, add_dag, add_run, task

XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
RUN = "scheduled__2025-01-01T00:00:00+00:00"


@pytest.fixture
def hostile(app, home):
    """A DAG whose author and tasks put a script tag everywhere they can."""
    add_dag(
        "hostile",
        tasks=[task("t", doc_md=XSS)],
        description=XSS,
        doc_md=XSS,
        tags=[XSS],
        params={"p": {"default": XSS, "schema": {"type": "string"}, "description": XSS}},
    )
    add_run("hostile", RUN, "success", {"t": "success"}, logical_date=START, conf={"c": XSS})
    with session_scope() as session:
        session.add(XCom(dag_id="hostile", run_id=RUN, task_id="t", key="k", value=f'"{XSS}"'))
        session.get(TaskInstance, ("hostile", RUN, "t", -1)).rendered_fields = {"cmd": XSS}
        session.add(ParseImportError(fileloc=XSS, message=XSS, stacktrace=XSS))
    log = home / "logs" / "dag_id=hostile" / f"run_id={RUN}" / "task_id=t" / "attempt=1.log"
    log.parent.mkdir(parents=True)
    log.write_text(f"printing {XSS}\n")
    return "hostile"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/dags/hostile/grid",
        "/dags/hostile/details",
        "/dags/hostile/runs",
        "/dags/hostile/trigger",
        f"/dags/hostile/runs/{RUN}/tasks/t",
    ],
)
def test_pages_render_script_tags_inert(admin, hostile, path):
    page = admin.get(path).get_data(as_text=True)
    assert ESCAPED in page
    assert XSS not in page


def test_log_text_is_served_as_json_for_the_page_to_insert_as_text(admin, hostile):
    response = admin.get(f"/api/v1/dags/hostile/dagRuns/{RUN}/taskInstances/t/logs/1")
    assert response.content_type == "application/json"
    assert response.get_json()["content"] == f"printing {XSS}\n"


def test_code_view_escapes_the_source(admin, hostile):
    with session_scope() as session:
        session.get(DagFile, "/dags/hostile.py").source_code = f"x = '{XSS}'\n"
    page = admin.get("/dags/hostile/code").get_data(as_text=True)
    assert "&lt;/script&gt;" in page and XSS not in page


def test_trigger_error_message_with_user_input_is_escaped(post_form, hostile):
    response = post_form("/dags/hostile/trigger", {"conf": f'{{"p": 1, "x": "{XSS}"'})
    assert response.status_code == 400
    assert XSS not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/dags/hostile/dagRuns/..%2F..%2F..%2Fetc/taskInstances/t/logs/1",
        f"/api/v1/dags/hostile/dagRuns/{RUN}/taskInstances/..%2F..%2Fx/logs/1",
        "/dags/..%2F..%2Fetc/code",
        "/dags/../../etc/passwd/code",
    ],
)
def test_dot_dot_in_log_and_code_routes_is_refused(admin, hostile, path):
    assert admin.get(path).status_code in (400, 404)


def test_log_path_cannot_leave_the_log_folder(home):
    from flowsched.task_logs import LogPathError, log_path

    with pytest.raises(LogPathError):
        log_path("d", "../../../../etc", "t", -1, 1)
    assert log_path("d", "r", "t", 2, 1).name == "attempt=1.log"


def test_a_running_try_is_tailed_line_by_line(admin, hostile, home):
    with session_scope() as session:
        ti = session.get(TaskInstance, ("hostile", RUN, "t", -1))
        ti.state = "running"
        ti.end_date = None
    log = home / "logs" / "dag_id=hostile" / f"run_id={RUN}" / "task_id=t" / "attempt=1.log"
    log.write_text("line 1\nhalf a li")
    url = f"/api/v1/dags/hostile/dagRuns/{RUN}/taskInstances/t/logs/1"
    first = admin.get(url).get_json()
    assert first == {"content": "line 1\n", "offset": 7, "exists": True, "done": False}
    with log.open("a") as handle:
        handle.write("ne\n")
    second = admin.get(f"{url}?offset={first['offset']}").get_json()
    assert second["content"] == "half a line\n" and not second["done"]
