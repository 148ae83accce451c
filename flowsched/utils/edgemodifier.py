"""Airflow's ``airflow.utils.edgemodifier`` import path: ``a >> Label("why") >> b``."""

from flowsched.authoring.edges import Label

__all__ = ["Label"]
