"""The serialized-DAG reader: a DAG's structure as the scheduler, the web UI and the CLI
read it from the database, without importing the DAG file (the parser writes it)."""

from flowsched.serialized.reader import (
    FORMAT,
    MappedInput,
    SerializedDAG,
    SerializedTask,
    XComRef,
    dag_hash,
)

__all__ = ["FORMAT", "MappedInput", "SerializedDAG", "SerializedTask", "XComRef", "dag_hash"]
