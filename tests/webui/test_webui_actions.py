"""Changes made from the UI: each one lands in the DB and in the audit log."""

from __future__ import annotations

from sqlalchemy import select

from flowsched.db import session_scope
from flowsched.db.tables import (
    AuditLog,
    Connection,
    DagModel,
    DagRun,
    Pool,
    TaskInstance,
    Variable,
)
from tests.webui.seed import FAILED_RUN, RUNNING_RUN


def audit_events() -> list[tuple[str, str, str | None]]:
    with session_scope() as session:
        rows = session.scalars(select(AuditLog).order_by(AuditLog.id))
        return [(row.user, row.event, row.task_id) for row in rows]


def ti_states(run_id: str) -> dict[tuple[str, int], str | None]:
    with session_scope() as session:
        rows = session.scalars(select(TaskInstance).filter_by(dag_id="etl", run_id=run_id))
        return {(ti.task_id, ti.map_index): ti.state for ti in rows}


def test_pause_and_unpause(post_form, etl):
    post_form("/dags/etl/pause", {"is_paused": "true"})
    with session_scope() as session:
        assert session.get(DagModel, "etl").is_paused is True
    post_form("/dags/etl/pause", {"is_paused": "false"})
    assert [event for _, event, _ in audit_events()] == ["pause", "unpause"]


def test_trigger_creates_a_queued_manual_run_with_conf(post_form, etl):
    response = post_form("/dags/etl/trigger", {"conf": '{"x": 5, "note": "hi"}'})
    assert response.status_code == 302
    with session_scope() as session:
        run = session.scalar(select(DagRun).filter_by(dag_id="etl", run_type="manual"))
        assert run.state == "queued" and run.conf == {"x": 5, "note": "hi"}
        assert run.run_id.startswith("manual__") and run.triggered_by == "admin"
    assert audit_events() == [("admin", "trigger", None)]


def test_trigger_refuses_conf_that_breaks_the_params_schema(post_form, etl):
    response = post_form("/dags/etl/trigger", {"conf": '{"x": "five"}'})
    assert response.status_code == 400
    assert (
        "Invalid value for param &#39;x&#39;: &#39;five&#39; is not of type &#39;integer&#39;"
        in (response.get_data(as_text=True))
    )
    assert post_form("/dags/etl/trigger", {"conf": "{not json"}).status_code == 400
    assert post_form("/dags/etl/trigger", {"conf": "[1]"}).status_code == 400
    with session_scope() as session:
        assert session.scalar(select(DagRun).filter_by(run_type="manual")) is None


def test_trigger_form_starts_from_the_params_defaults(admin, etl):
    page = admin.get("/dags/etl/trigger").get_data(as_text=True)
    assert "&#34;x&#34;: 1" in page


def test_clear_shows_a_preview_then_clears_only_failed(post_form, etl):
    form = {"only_failed": "on", "next": "/dags/etl/grid"}
    preview = post_form(f"/dags/etl/runs/{FAILED_RUN}/clear", form)
    assert "Clear 5 task instances" in preview.get_data(as_text=True)
    assert ti_states(FAILED_RUN)[("transform", -1)] == "failed"  # nothing changed yet

    done = post_form(f"/dags/etl/runs/{FAILED_RUN}/clear", {**form, "confirmed": "yes"})
    assert done.headers["Location"] == "/dags/etl/grid"
    states = ti_states(FAILED_RUN)
    assert states[("extract", -1)] == "success"
    assert states[("transform", -1)] is None and states[("report", 2)] is None
    with session_scope() as session:
        run = session.scalar(select(DagRun).filter_by(run_id=FAILED_RUN))
        assert run.state == "queued" and run.end_date is None
        ti = session.get(TaskInstance, ("etl", FAILED_RUN, "transform", -1))
        assert ti.max_tries == ti.try_number + 1  # fresh retries


def test_clear_a_task_with_downstream(post_form, etl):
    post_form(
        f"/dags/etl/runs/{FAILED_RUN}/clear",
        {"task_id": "transform", "downstream": "on", "confirmed": "yes"},
    )
    states = ti_states(FAILED_RUN)
    assert states[("extract", -1)] == "success"
    assert {states[("transform", -1)], states[("load", -1)], states[("report", 0)]} == {None}


def test_clear_leaves_running_tasks_alone(post_form, etl):
    post_form(f"/dags/etl/runs/{RUNNING_RUN}/clear", {"task_id": "transform", "confirmed": "yes"})
    assert ti_states(RUNNING_RUN)[("transform", -1)] == "running"


def test_clear_an_unknown_task_is_a_404(post_form, etl):
    response = post_form(f"/dags/etl/runs/{FAILED_RUN}/clear", {"task_id": "nope"})
    assert response.status_code == 404


def test_mark_run_success_finishes_its_unfinished_tasks(post_form, etl):
    post_form(f"/dags/etl/runs/{RUNNING_RUN}/mark", {"state": "success"})
    assert set(ti_states(RUNNING_RUN).values()) == {"success"}
    with session_scope() as session:
        assert session.scalar(select(DagRun.state).filter_by(run_id=RUNNING_RUN)) == "success"


def test_mark_run_failed_fails_running_and_skips_the_rest(post_form, etl):
    post_form(f"/dags/etl/runs/{RUNNING_RUN}/mark", {"state": "failed"})
    states = ti_states(RUNNING_RUN)
    assert states[("transform", -1)] == "failed" and states[("load", -1)] == "skipped"


def test_mark_one_task_success_reopens_a_finished_run(post_form, etl):
    post_form(
        f"/dags/etl/runs/{FAILED_RUN}/mark",
        {"task_id": "transform", "map_index": "-1", "state": "success"},
    )
    assert ti_states(FAILED_RUN)[("transform", -1)] == "success"
    with session_scope() as session:
        assert session.scalar(select(DagRun.state).filter_by(run_id=FAILED_RUN)) == "running"
    assert audit_events()[-1] == ("admin", "mark_task_success", "transform")


def test_delete_a_run_and_its_tasks(post_form, etl):
    post_form(f"/dags/etl/runs/{FAILED_RUN}/delete")
    assert ti_states(FAILED_RUN) == {}


def test_variables_create_edit_delete(post_form, admin, app):
    post_form("/variables", {"key": "env", "val": "prod", "description": "stage"})
    assert post_form("/variables", {"key": "env", "val": "again"}).status_code == 409
    post_form("/variables/env", {"val": "staging"})
    with session_scope() as session:
        assert session.get(Variable, "env").val == "staging"
    post_form("/variables/env/delete")
    with session_scope() as session:
        assert session.get(Variable, "env") is None
    events = [event for _, event, _ in audit_events()]
    assert events == ["variable_create", "variable_update", "variable_delete"]


def test_sensitive_variables_are_masked_in_the_list(post_form, admin, app):
    post_form("/variables", {"key": "api_token", "val": "tok-123"})
    assert "tok-123" not in admin.get("/variables").get_data(as_text=True)


def test_connection_password_never_reaches_the_browser_and_survives_an_edit(post_form, admin, app):
    post_form(
        "/connections",
        {
            "conn_id": "wh",
            "conn_type": "postgres",
            "host": "db",
            "port": "5432",
            "password": "s3cret-pw",
        },
    )
    for path in ("/connections", "/connections/wh/edit"):
        assert "s3cret-pw" not in admin.get(path).get_data(as_text=True)
    post_form("/connections/wh", {"conn_type": "postgres", "host": "db2", "password": ""})
    with session_scope() as session:
        connection = session.get(Connection, "wh")
        assert connection.host == "db2" and connection.password == "s3cret-pw"
    post_form("/connections/wh", {"conn_type": "postgres", "clear_password": "on"})
    with session_scope() as session:
        assert session.get(Connection, "wh").password is None


def test_connection_form_explains_a_bad_port(post_form, app):
    response = post_form("/connections", {"conn_id": "x", "port": "http"})
    assert response.status_code == 400
    assert "the port must be a number" in response.get_data(as_text=True)


def test_pools_set_and_delete(post_form, admin, app):
    post_form("/pools", {"pool": "gpu", "slots": "2", "description": "cards"})
    with session_scope() as session:
        assert session.get(Pool, "gpu").slots == 2
    assert post_form("/pools", {"pool": "gpu", "slots": "many"}).status_code == 400
    assert post_form("/pools/default_pool/delete").status_code == 400
    post_form("/pools/gpu/delete")
    with session_scope() as session:
        assert session.get(Pool, "gpu") is None


def test_audit_log_page_lists_changes_with_filters(post_form, admin, etl):
    post_form("/dags/etl/pause", {"is_paused": "true"})
    post_form("/variables", {"key": "env", "val": "prod"})
    page = admin.get("/audit?event=pause").get_data(as_text=True)
    assert "pause" in page and "variable_create" not in page
