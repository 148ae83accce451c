"""Airflow's ``airflow.utils.helpers`` import path (the dependency helpers DAG files
imported from it before they moved to ``models.baseoperator``)."""

from flowsched.authoring.chain import chain, cross_downstream

__all__ = ["chain", "cross_downstream"]
