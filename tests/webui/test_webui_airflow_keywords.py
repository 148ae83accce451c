"""What Airflow's DAG and task keywords show in the UI: display names, owner links, parse
warnings, documentation in every format, the auto-pause and the SLA misses."""

from __future__ import annotations

import json
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from flowsched.db import session_scope
from flowsched.db.tables import AuditLog, DagModel, SlaMiss
from flowsched.parsing.scan import parse_dags_folder
from tests.webui.seed import START, add_run

RUN = "scheduled__2025-01-01T00:00:00+00:00"
DAG_FILE = """
    from datetime import timedelta
    import pendulum
    from flowsched import DAG
    from flowsched.operators.empty import EmptyOperator

    with DAG("sales_etl", schedule="@daily", start_date=pendulum.datetime(2025, 1, 1),
             dag_display_name="Sales <ETL>", owner_links={"ana": "https://example.com/ana"},
             default_view="graph", max_consecutive_failed_dag_runs=2):
        EmptyOperator(task_id="load", owner="ana", task_display_name="Load the sales",
                      doc_rst="Loading\\n=======", doc_yaml="target: warehouse",
                      executor_config={"cpu": 2}, sla=timedelta(minutes=30))
"""


@pytest.fixture
def sales(app, dags_folder: Path) -> str:
    (dags_folder / "sales.py").write_text(textwrap.dedent(DAG_FILE))
    assert parse_dags_folder().errors == 0
    add_run("sales_etl", RUN, "failed", {"load": "failed"}, logical_date=START)
    return "sales_etl"


def test_the_dag_list_shows_the_display_name_and_owner_links(admin, sales):
    page = admin.get("/").get_data(as_text=True)
    assert "Sales &lt;ETL&gt;" in page and "sales_etl" in page
    assert '<a class="owner-link" href="https://example.com/ana"' in page
    assert "sales_etl" in admin.get("/?q=Sales").get_data(as_text=True)


def test_the_graph_labels_a_task_with_its_display_name(admin, sales):
    page = admin.get(f"/dags/{sales}/graph").get_data(as_text=True)
    assert '<text x="14" y="17" class="node-label">Load the sales</text>' in page


def test_the_dag_page_shows_each_parse_warning_once(admin, sales):
    page = admin.get(f"/dags/{sales}/grid").get_data(as_text=True)
    assert "2 parse warnings" in page
    assert page.count("&#39;default_view&#39;") == 1
    assert "&#39;executor_config&#39; (on load)" in page


def test_details_and_task_page_show_names_settings_and_documentation(admin, sales):
    details = admin.get(f"/dags/{sales}/details").get_data(as_text=True)
    assert "after 2 consecutive failed runs" in details
    assert "Load the sales" in details
    task_page = admin.get(f"/dags/{sales}/runs/{RUN}/tasks/load").get_data(as_text=True)
    assert "Load the sales" in task_page
    assert "reStructuredText" in task_page and "Loading\n=======" in task_page
    assert "target: warehouse" in task_page


def test_a_dag_the_scheduler_paused_says_why(admin, sales):
    reason = "its last 2 runs failed (max_consecutive_failed_dag_runs=2)"
    with session_scope() as session:
        session.execute(update(DagModel).values(is_paused=True))
        session.add(
            AuditLog(
                user="scheduler",
                event="pause",
                dag_id=sales,
                extra=json.dumps({"is_paused": True, "reason": reason}),
            )
        )
    page = admin.get(f"/dags/{sales}/grid").get_data(as_text=True)
    assert "Paused by the scheduler" in page and reason in page


def test_sla_misses_are_listed(admin, sales):
    with session_scope() as session:
        session.add(
            SlaMiss(
                dag_id=sales,
                run_id=RUN,
                task_id="load",
                map_index=-1,
                logical_date=START,
                sla=1800.0,
                deadline=START + timedelta(days=1, minutes=30),
                state_at_deadline="running",
            )
        )
    page = admin.get(f"/dags/{sales}/sla-misses").get_data(as_text=True)
    assert "/tasks/load" in page and RUN in page and "30m" in page
