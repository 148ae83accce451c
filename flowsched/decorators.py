"""Airflow's ``airflow.decorators`` import path: ``@dag``, ``@task`` (and its variants)
and ``@task_group``, the flowsched objects themselves."""

from flowsched.authoring.dag import dag
from flowsched.authoring.taskgroup import task_group
from flowsched.taskflow import task

__all__ = ["dag", "task", "task_group"]
