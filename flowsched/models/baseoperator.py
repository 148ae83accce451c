"""Airflow's ``airflow.models.baseoperator`` import path: the operator base class and the
dependency helpers."""

from flowsched.authoring.baseoperator import BaseOperator
from flowsched.authoring.chain import chain, chain_linear, cross_downstream

__all__ = ["BaseOperator", "chain", "chain_linear", "cross_downstream"]
