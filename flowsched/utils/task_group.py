"""Airflow's ``airflow.utils.task_group`` import path."""

from flowsched.authoring.taskgroup import TaskGroup, task_group

__all__ = ["TaskGroup", "task_group"]
