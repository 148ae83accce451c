"""Triggers: what a deferred task waits for (Airflow's ``airflow.triggers`` import path)."""
