"""Retrain a small model every Sunday at 07:00 Amsterdam time on last week's data.

The model is a least-squares line fitted to generated data, saved as versioned JSON in
the `model_store` folder (Variable `model_store`, default $FLOWSCHED_HOME/models), so
the nightly scoring DAG can wait for it and use it.
"""

from __future__ import annotations

import json
import os
import random
from datetime import timedelta
from pathlib import Path

import pendulum

from flowsched import DAG, Variable, task


def model_store() -> Path:
    default = Path(os.environ.get("FLOWSCHED_HOME", "~/flowsched")).expanduser() / "models"
    return Path(Variable.get("model_store", default_var=str(default)))


with DAG(
    dag_id="weekly_model_retraining",
    schedule="0 7 * * 0",
    start_date=pendulum.datetime(2025, 1, 5, tz="Europe/Amsterdam"),
    catchup=False,
    tags=["ml", "example"],
    description="Sunday 07:00: fit a model on last week's data and save a new version",
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    max_active_runs=1,
):

    @task
    def generate_training_data(data_interval_start=None, data_interval_end=None) -> list:
        """A week of (x, y) points with a known slope, seeded by the interval for repeatability."""
        rng = random.Random(str(data_interval_start))
        return [[x, 3.0 * x + 2.0 + rng.gauss(0, 0.5)] for x in range(200)]

    @task
    def train(points: list) -> dict:
        n = len(points)
        mean_x = sum(p[0] for p in points) / n
        mean_y = sum(p[1] for p in points) / n
        cov = sum((p[0] - mean_x) * (p[1] - mean_y) for p in points)
        var = sum((p[0] - mean_x) ** 2 for p in points)
        slope = cov / var
        return {"slope": slope, "intercept": mean_y - slope * mean_x, "n": n}

    @task
    def save_model(model: dict, ds_nodash=None) -> str:
        store = model_store()
        store.mkdir(parents=True, exist_ok=True)
        version = f"v{ds_nodash}"
        path = store / f"model_{version}.json"
        path.write_text(json.dumps({"version": version, **model}))
        (store / "latest.json").write_text(json.dumps({"version": version, "path": str(path)}))
        print(f"saved model {version} to {path}")
        return str(path)

    save_model(train(generate_training_data()))
