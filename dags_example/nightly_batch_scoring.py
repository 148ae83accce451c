"""Score a batch of records every night with the latest model.

A FileSensor waits (in reschedule mode, so it holds no worker slot) for the model that
the weekly retraining DAG saves; then the batch is generated, scored and summarised.
"""

from __future__ import annotations

import json
import os
import random
from datetime import timedelta
from pathlib import Path

import pendulum

from flowsched import DAG, Variable, task
from flowsched.sensors.filesystem import FileSensor

DEFAULT_STORE = Path(os.environ.get("FLOWSCHED_HOME", "~/flowsched")).expanduser() / "models"

with DAG(
    dag_id="nightly_batch_scoring",
    schedule="30 1 * * *",
    start_date=pendulum.datetime(2025, 1, 1, tz="Europe/Amsterdam"),
    catchup=False,
    tags=["ml", "example"],
    description="Every night at 01:30: wait for a model, score a batch of records",
    default_args={"retries": 1, "retry_delay": timedelta(seconds=30)},
):
    wait_for_model = FileSensor(
        task_id="wait_for_model",
        filepath=str(
            Path(Variable.get("model_store", default_var=str(DEFAULT_STORE))) / "latest.json"
        ),
        poke_interval=30,
        timeout=6 * 60 * 60,
        mode="reschedule",
    )

    @task
    def load_batch(ds=None) -> list:
        rng = random.Random(ds)
        return [round(rng.uniform(0, 100), 2) for _ in range(1000)]

    @task
    def score(batch: list) -> dict:
        store = Path(Variable.get("model_store", default_var=str(DEFAULT_STORE)))
        latest = json.loads((store / "latest.json").read_text())
        model = json.loads(Path(latest["path"]).read_text())
        scores = [model["slope"] * x + model["intercept"] for x in batch]
        return {"model": model["version"], "count": len(scores), "mean": sum(scores) / len(scores)}

    @task
    def report(summary: dict) -> None:
        print(
            f"scored {summary['count']} records with {summary['model']}: mean {summary['mean']:.2f}"
        )

    wait_for_model >> report(score(load_batch()))
