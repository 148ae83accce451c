"""Hourly ETL: extract, branch on the volume, transform, load; retries and alerts.

On a quiet hour the heavy transform is skipped (branching). Flaky steps retry with
exponential backoff; a failure sends the alerts configured in [alerts] / `email`.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum

from flowsched import DAG, task
from flowsched.operators.bash import BashOperator
from flowsched.operators.empty import EmptyOperator
from flowsched.utils.trigger_rule import TriggerRule

with DAG(
    dag_id="hourly_etl",
    schedule="@hourly",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["etl", "example"],
    description="Every hour: extract, branch on volume, transform, load",
    default_args={
        "retries": 3,
        "retry_delay": timedelta(seconds=10),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=5),
        "email_on_failure": True,
    },
    dagrun_timeout=timedelta(minutes=50),
    doc_md="Loads the hour's events. **Quiet hours** skip the heavy transform.",
):
    extract = BashOperator(
        task_id="extract",
        # Prints a log line, then the hour's event volume (the last line becomes the XCom).
        bash_command=(
            "echo 'extracting events for {{ data_interval_start }}'; "
            "echo $(( 10#{{ ts_nodash[-6:-4] }} * 37 % 100 ))"
        ),
    )

    @task.branch
    def choose_path(volume: str) -> str:
        return "heavy_transform" if int(volume) >= 20 else "light_transform"

    heavy = BashOperator(task_id="heavy_transform", bash_command="echo heavy transform; sleep 1")
    light = EmptyOperator(task_id="light_transform")
    load = BashOperator(
        task_id="load",
        bash_command="echo 'loading hour {{ ds }} {{ ts }}'",
        trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS,
    )

    choose_path(extract.output) >> [heavy, light] >> load
