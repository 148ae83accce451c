"""TaskFlow with dynamic task mapping: one task instance per file found at run time."""

from __future__ import annotations

import pendulum

from flowsched import dag, task


@dag(
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    tags=["taskflow", "example"],
    params={"files": 5},
)
def taskflow_mapping():
    @task
    def list_files(params=None) -> list[str]:
        return [f"part-{i:03d}.csv" for i in range(int(params["files"]))]

    @task
    def count_rows(filename: str, multiplier: int) -> int:
        return (len(filename) + int(filename[5:8])) * multiplier

    @task
    def total(counts: list[int]) -> int:
        result = sum(counts)
        print(f"total rows: {result}")
        return result

    counts = count_rows.partial(multiplier=10).expand(filename=list_files())
    total(counts)


taskflow_mapping()
