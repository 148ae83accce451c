"""Hooks: Airflow's ``airflow.hooks`` import path."""
