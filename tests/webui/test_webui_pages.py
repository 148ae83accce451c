"""Every page renders for a signed-in user, with what that page is for."""

from __future__ import annotations

from flowsched.db import session_scope
from flowsched.db.tables import (
    Connection,
    ParseImportError,
    Pool,
    TaskInstance,
    TaskInstanceHistory,
    Variable,
)
from tests.webui.seed import FAILED_RUN, RUNNING_RUN, add_dag


def test_dag_list_shows_schedule_recent_runs_and_task_counts(admin, etl):
    page = admin.get("/").get_data(as_text=True)
    assert "etl" in page
    assert "Every hour" in page
    assert page.count('class="dot state-failed"') == 1
    assert 'class="count-chip state-running"' in page  # the latest run's tasks


def test_dag_list_filters_by_search_tag_and_paused(admin, etl):
    add_dag("weekly_training", tags=["ml"])
    assert "weekly_training" not in admin.get("/?q=etl").get_data(as_text=True)
    by_tag = admin.get("/?tag=ml").get_data(as_text=True)
    assert "weekly_training" in by_tag and 'href="/dags/etl/grid"' not in by_tag
    assert "No DAG matches" in admin.get("/?paused=paused").get_data(as_text=True)


def test_dag_list_shows_import_errors_with_tracebacks(admin, etl):
    with session_scope() as session:
        session.add(
            ParseImportError(fileloc="/dags/broken.py", message="SyntaxError", stacktrace="line 3")
        )
    page = admin.get("/").get_data(as_text=True)
    assert "1 DAG file failed to load" in page
    assert "/dags/broken.py" in page and "line 3" in page


def test_grid_shows_runs_by_tasks_coloured_by_state(admin, etl):
    page = admin.get("/dags/etl/grid").get_data(as_text=True)
    assert page.count('class="run-head"') == 2
    assert 'class="cell state-failed"' in page
    assert 'class="cell state-running"' in page
    # the mapped task is one cell with the count of its instances
    assert 'class="cell state-upstream_failed mapped"' in page
    assert "3 upstream failed" in page


def test_grid_json_feeds_the_live_refresh(admin, etl):
    data = admin.get("/dags/etl/grid.json").get_json()
    assert [run["run_id"] for run in data["runs"]] == [FAILED_RUN, RUNNING_RUN]
    assert data["live"] is True
    cell = next(c for c in data["cells"] if c["task_id"] == "report" and c["run_id"] == FAILED_RUN)
    assert cell["counts"] == {"upstream_failed": 3}


def test_grid_pages_through_older_runs(admin, etl):
    newest = admin.get("/dags/etl/grid.json?limit=1").get_json()
    older = admin.get("/dags/etl/grid.json?limit=1&offset=1").get_json()
    assert newest["runs"][0]["run_id"] == RUNNING_RUN and newest["has_older"]
    assert older["runs"][0]["run_id"] == FAILED_RUN and not older["has_older"]


def test_graph_is_an_svg_coloured_by_the_chosen_run(admin, etl):
    page = admin.get("/dags/etl/graph", query_string={"run_id": FAILED_RUN}).get_data(as_text=True)
    assert '<svg class="graph"' in page
    assert page.count('class="edge"') == 3
    assert 'class="node state-failed"' in page  # transform failed in that run


def test_graph_draws_edge_labels_on_their_edges(admin, app):
    add_dag("labelled", edge_labels=[["extract", "transform", "rows > 0"]])
    page = admin.get("/dags/labelled/graph").get_data(as_text=True)
    assert page.count('class="edge-label"') == 1
    assert ">rows &gt; 0</text>" in page


def test_runs_list_has_durations(admin, etl):
    page = admin.get("/dags/etl/runs").get_data(as_text=True)
    assert FAILED_RUN in page and RUNNING_RUN in page
    assert "5m" in page


def test_gantt_draws_a_bar_per_started_task(admin, etl):
    page = admin.get(f"/dags/etl/runs/{FAILED_RUN}/gantt").get_data(as_text=True)
    assert page.count('class="gantt-bar') == 2  # extract and transform; the others never started


def test_code_view_highlights_the_stored_source(admin, etl):
    page = admin.get("/dags/etl/code").get_data(as_text=True)
    assert 'class="highlight"' in page and "BashOperator" in page


def test_details_show_schedule_params_and_tasks(admin, etl):
    page = admin.get("/dags/etl/details").get_data(as_text=True)
    assert "Every hour" in page or "At 0 minutes past the hour" in page
    assert "a number" in page and "transform" in page


def test_task_try_page_shows_tries_log_fields_and_xcoms(admin, etl):
    page = admin.get(f"/dags/etl/runs/{FAILED_RUN}/tasks/transform").get_data(as_text=True)
    assert "try 1" in page
    assert 'id="log"' in page
    assert "Rendered template fields" in page and "XComs" in page


def test_mapped_task_page_lists_its_map_indexes(admin, etl):
    page = admin.get(f"/dags/etl/runs/{FAILED_RUN}/tasks/report").get_data(as_text=True)
    assert "Map index:" in page and 'report<span class="muted">[0]' in page


def test_admin_pages_render(admin, etl):
    with session_scope() as session:
        session.add(Variable(key="env", val="prod"))
        session.add(Connection(conn_id="warehouse", conn_type="postgres", password="s3cret"))
        session.add(Pool(pool="gpu", slots=2))
    for path, expected in [
        ("/variables", "prod"),
        ("/variables/new", "Add a variable"),
        ("/variables/env/edit", "prod"),
        ("/connections", "warehouse"),
        ("/connections/new", "Add a connection"),
        ("/connections/warehouse/edit", "warehouse"),
        ("/pools", "default_pool"),
        ("/pools/new", "Add a pool"),
        ("/pools/gpu/edit", "gpu"),
        ("/audit", "Audit log"),
        ("/dags/etl/trigger", "Trigger a run"),
    ]:
        response = admin.get(path)
        assert response.status_code == 200, path
        assert expected in response.get_data(as_text=True), path


def test_unknown_dag_is_a_clear_404_page(admin, etl):
    response = admin.get("/dags/nope/grid")
    assert response.status_code == 404
    assert "DAG &#39;nope&#39; does not exist" in response.get_data(as_text=True)


def test_a_cleared_task_still_lists_its_past_try(admin, etl):
    with session_scope() as session:
        session.add(
            TaskInstanceHistory(
                dag_id="etl",
                run_id=FAILED_RUN,
                task_id="transform",
                try_number=1,
                state="failed",
                error="ValueError: boom",
            )
        )
        session.get(TaskInstance, ("etl", FAILED_RUN, "transform", -1)).state = None
    page = admin.get(f"/dags/etl/runs/{FAILED_RUN}/tasks/transform").get_data(as_text=True)
    assert 'class="chip state-failed chosen"' in page
    assert "ValueError: boom" in page
