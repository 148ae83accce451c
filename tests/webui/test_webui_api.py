"""The REST API under /api/v1, used the way a script would: HTTP basic auth and JSON."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest

from flowsched.db import session_scope
from flowsched.db.tables import Job, ParseImportError, utcnow
from tests.webui.seed import FAILED_RUN, PASSWORD, RUNNING_RUN


@pytest.fixture
def api(anonymous):
    """A client whose every request carries the admin's basic-auth header."""
    token = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
    anonymous.environ_base["HTTP_AUTHORIZATION"] = f"Basic {token}"
    return anonymous


def test_list_and_get_dags(api, etl):
    listing = api.get("/api/v1/dags").get_json()
    assert listing["total_entries"] == 1
    assert listing["dags"][0]["dag_id"] == "etl"
    assert api.get("/api/v1/dags?tags=nope").get_json()["total_entries"] == 0
    assert api.get("/api/v1/dags/etl").get_json()["schedule_description"] == "Every hour"
    assert api.get("/api/v1/dags/nope").status_code == 404


def test_dag_tasks_come_upstream_first(api, etl):
    tasks = api.get("/api/v1/dags/etl/tasks").get_json()["tasks"]
    assert [t["task_id"] for t in tasks][:2] == ["extract", "transform"]


def test_pause_with_patch_validates_the_body(api, etl):
    assert api.patch("/api/v1/dags/etl", json={"is_paused": "yes"}).status_code == 400
    assert api.patch("/api/v1/dags/etl", json={"owner": "me"}).status_code == 400
    assert api.patch("/api/v1/dags/etl", json={"is_paused": True}).get_json()["is_paused"]


def test_list_runs_with_state_filter_and_paging(api, etl):
    runs = api.get("/api/v1/dags/etl/dagRuns").get_json()
    assert [r["dag_run_id"] for r in runs["dag_runs"]] == [RUNNING_RUN, FAILED_RUN]
    failed = api.get("/api/v1/dags/etl/dagRuns?state=failed").get_json()
    assert failed["total_entries"] == 1 and failed["dag_runs"][0]["duration"] == 300.0
    page = api.get("/api/v1/dags/etl/dagRuns?limit=1&offset=1").get_json()
    assert page["dag_runs"][0]["dag_run_id"] == FAILED_RUN and page["total_entries"] == 2
    assert api.get("/api/v1/dags/etl/dagRuns?limit=0").status_code == 400
    assert api.get("/api/v1/dags/etl/dagRuns?offset=x").status_code == 400


def test_paging_beyond_64_bits_is_a_400_with_the_range(api, etl):
    response = api.get(f"/api/v1/dags/etl/dagRuns?offset={2**64}")
    assert response.status_code == 400
    assert response.get_json()["message"] == f"offset must be from 0 to {2**63 - 1}"
    assert api.get(f"/api/v1/dags?limit={2**64}").status_code == 400


def test_a_deeply_nested_body_is_a_400_not_a_500(api, etl):
    for depth in (65, 100_000):  # past MAX_DEPTH; past Python's recursion limit
        body = '{"conf": ' + "[" * depth + "]" * depth + "}"
        response = api.post("/api/v1/dags/etl/dagRuns", data=body, content_type="application/json")
        assert response.status_code == 400
        assert "nested more than 64 levels" in response.get_json()["message"]


def test_trigger_get_and_delete_a_run(api, etl):
    created = api.post(
        "/api/v1/dags/etl/dagRuns",
        json={"conf": {"x": 2}, "logical_date": "2025-03-01T00:00:00+00:00"},
    )
    assert created.status_code == 200
    run = created.get_json()
    assert run["state"] == "queued" and run["conf"] == {"x": 2}
    assert run["dag_run_id"] == "manual__2025-03-01T00:00:00+00:00"
    assert run["data_interval_end"] is not None
    path = f"/api/v1/dags/etl/dagRuns/{quote(run['dag_run_id'])}"
    assert api.get(path).get_json()["dag_run_id"] == run["dag_run_id"]
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404


def test_trigger_errors_are_json_with_a_message(api, etl):
    bad = api.post("/api/v1/dags/etl/dagRuns", json={"conf": {"x": "no"}})
    assert bad.status_code == 400
    assert bad.get_json()["message"] == (
        "conf does not fit the params of DAG 'etl': "
        "Invalid value for param 'x': 'no' is not of type 'integer'"
    )
    api.post("/api/v1/dags/etl/dagRuns", json={"dag_run_id": "mine"})
    duplicate = api.post("/api/v1/dags/etl/dagRuns", json={"dag_run_id": "mine"})
    assert duplicate.status_code == 409
    assert api.post("/api/v1/dags/etl/dagRuns", json={"dag_run_id": "a/b"}).status_code == 400
    assert api.post("/api/v1/dags/etl/dagRuns", json={"logical_date": "soon"}).status_code == 400


def test_mark_a_run_through_patch(api, etl):
    marked = api.patch(f"/api/v1/dags/etl/dagRuns/{quote(RUNNING_RUN)}", json={"state": "failed"})
    assert marked.get_json()["state"] == "failed"
    queued = api.patch(f"/api/v1/dags/etl/dagRuns/{quote(RUNNING_RUN)}", json={"state": "queued"})
    assert queued.status_code == 400


def test_task_instances_of_a_run(api, etl):
    base = f"/api/v1/dags/etl/dagRuns/{quote(FAILED_RUN)}/taskInstances"
    tis = api.get(base).get_json()
    assert tis["total_entries"] == 6
    assert api.get(f"{base}/transform").get_json()["state"] == "failed"
    assert api.get(f"{base}/report/2").get_json()["map_index"] == 2
    assert api.get(f"{base}/nope").status_code == 404


def test_mark_a_task_instance(api, etl):
    base = f"/api/v1/dags/etl/dagRuns/{quote(FAILED_RUN)}/taskInstances"
    assert api.patch(f"{base}/transform", json={"new_state": "success"}).get_json() == {
        "changed": 1
    }
    assert api.get(f"{base}/transform").get_json()["state"] == "success"


def test_clear_task_instances_with_a_dry_run_first(api, etl):
    body = {"dag_run_id": FAILED_RUN, "task_ids": ["transform"], "include_downstream": True}
    dry = api.post("/api/v1/dags/etl/clearTaskInstances", json={**body, "dry_run": True})
    assert len(dry.get_json()["task_instances"]) == 5
    done = api.post("/api/v1/dags/etl/clearTaskInstances", json=body).get_json()
    assert {ti["task_id"] for ti in done["task_instances"]} == {"transform", "load", "report"}
    base = f"/api/v1/dags/etl/dagRuns/{quote(FAILED_RUN)}/taskInstances"
    assert api.get(f"{base}/transform").get_json()["state"] is None
    missing = api.post("/api/v1/dags/etl/clearTaskInstances", json={"task_ids": ["x"]})
    assert missing.status_code == 400


def test_logs_by_try(api, etl, home):
    folder = home / "logs" / "dag_id=etl" / f"run_id={FAILED_RUN}" / "task_id=transform"
    folder.mkdir(parents=True)
    (folder / "attempt=1.log").write_text("boom\n")
    base = f"/api/v1/dags/etl/dagRuns/{quote(FAILED_RUN)}/taskInstances/transform/logs"
    assert api.get(f"{base}/1").get_json() == {
        "content": "boom\n",
        "offset": 5,
        "exists": True,
        "done": True,
    }
    assert api.get(f"{base}/2").status_code == 404


def test_variables_crud(api, app):
    created = api.post("/api/v1/variables", json={"key": "env", "value": "prod"})
    assert created.status_code == 201
    assert api.post("/api/v1/variables", json={"key": "env", "value": "x"}).status_code == 409
    assert api.post("/api/v1/variables", json={"key": "k", "value": 3}).status_code == 400
    assert api.patch("/api/v1/variables/env", json={"value": "stage"}).get_json()["value"] == (
        "stage"
    )
    assert api.get("/api/v1/variables").get_json()["variables"][0]["key"] == "env"
    assert api.delete("/api/v1/variables/env").status_code == 204
    assert api.get("/api/v1/variables/env").status_code == 404


def test_viewers_see_sensitive_variables_masked(api, anonymous, app):
    api.post("/api/v1/variables", json={"key": "db_password", "value": "hunter2"})
    token = base64.b64encode(f"viewer:{PASSWORD}".encode()).decode()
    as_viewer = anonymous.get(
        "/api/v1/variables/db_password", headers={"Authorization": f"Basic {token}"}
    )
    assert as_viewer.get_json()["value"] == "***"


def test_import_errors(api, app):
    with session_scope() as session:
        session.add(ParseImportError(fileloc="/dags/bad.py", message="boom", stacktrace="tb"))
    errors = api.get("/api/v1/importErrors").get_json()
    assert errors["import_errors"][0]["filename"] == "/dags/bad.py"


def test_health_is_unhealthy_without_a_scheduler_and_healthy_with_one(anonymous, app):
    response = anonymous.get("/health")
    assert response.status_code == 503
    assert response.get_json()["metadatabase"]["status"] == "healthy"
    assert response.get_json()["scheduler"]["status"] == "unhealthy"
    with session_scope() as session:
        session.add(Job(job_type="scheduler", hostname="h", pid=1, state="running"))
    healthy = anonymous.get("/api/v1/health")
    assert healthy.status_code == 200 and healthy.get_json()["status"] == "healthy"


def test_metrics_in_prometheus_text(anonymous, etl):
    with session_scope() as session:
        session.add(
            Job(
                job_type="scheduler",
                hostname="h",
                pid=1,
                state="running",
                latest_heartbeat=utcnow(),
            )
        )
    text = anonymous.get("/metrics").get_data(as_text=True)
    assert 'flowsched_dag_runs{state="failed"} 1.0' in text
    assert 'flowsched_task_instances{state="running"} 1.0' in text
    assert "flowsched_queue_depth 0.0" in text
    assert "flowsched_scheduler_heartbeat_age_seconds" in text
    assert "flowsched_task_duration_seconds_count 3.0" in text


def test_openapi_document_lists_every_endpoint(anonymous, app):
    document = anonymous.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    rules = {
        rule.rule.removeprefix("/api/v1").replace("<", "{").replace(">", "}")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1") and rule.rule != "/api/v1/openapi.json"
    }
    documented = {path.replace("{dag_run_id}", "{run_id}") for path in document["paths"]}
    for rule in rules:
        for converter in ("int:", "path:"):
            rule = rule.replace(converter, "")
        assert rule in documented, rule
