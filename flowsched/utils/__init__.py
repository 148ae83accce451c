"""Small enums shared by DAG files, the scheduler and the UI."""
