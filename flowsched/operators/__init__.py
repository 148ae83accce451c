"""Airflow-named operators: bash, python (incl. branching and short-circuit), empty."""
