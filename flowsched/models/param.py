"""Airflow's ``airflow.models.param`` import path."""

from flowsched.authoring.params import Param, ParamsDict

__all__ = ["Param", "ParamsDict"]
