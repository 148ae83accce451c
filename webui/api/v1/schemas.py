"""How runs, task instances, variables and import errors look in API responses."""

from __future__ import annotations

from typing import Any

from flowsched.db.tables import Connection, DagRun, ParseImportError, TaskInstance, Variable
from flowsched.masking import MASK, is_sensitive
from flowsched.operations.pools import PoolUse


def run_json(run: DagRun) -> dict[str, Any]:
    return {
        "dag_id": run.dag_id,
        "dag_run_id": run.run_id,
        "run_type": run.run_type,
        "state": run.state,
        "logical_date": run.logical_date,
        "data_interval_start": run.data_interval_start,
        "data_interval_end": run.data_interval_end,
        "queued_at": run.queued_at,
        "start_date": run.start_date,
        "end_date": run.end_date,
        "duration": run.duration,
        "external_trigger": run.external_trigger,
        "triggered_by": run.triggered_by,
        "conf": run.conf or {},
        "note": run.note,
    }


def ti_json(ti: TaskInstance) -> dict[str, Any]:
    return {
        "dag_id": ti.dag_id,
        "dag_run_id": ti.run_id,
        "task_id": ti.task_id,
        "map_index": ti.map_index,
        "try_number": ti.try_number,
        "max_tries": ti.max_tries,
        "state": ti.state,
        "operator": ti.operator,
        "pool": ti.pool,
        "pool_slots": ti.pool_slots,
        "queue": ti.queue,
        "priority_weight": ti.priority_weight,
        "queued_when": ti.queued_dttm,
        "start_date": ti.start_date,
        "end_date": ti.end_date,
        "duration": ti.duration,
        "hostname": ti.hostname,
        "pid": ti.pid,
        "executor": ti.executor,
        "rendered_fields": ti.rendered_fields,
    }


def variable_json(variable: Variable, *, reveal: bool) -> dict[str, Any]:
    """Sensitive values (key names a password, token...) only for admins."""
    hidden = is_sensitive(variable.key) and not reveal
    return {
        "key": variable.key,
        "value": MASK if hidden else variable.val,
        "description": variable.description,
    }


def pool_json(pool: PoolUse) -> dict[str, Any]:
    """A pool with its slots in use."""
    return {
        "name": pool.pool,
        "slots": pool.slots,
        "occupied_slots": pool.running + pool.queued,
        "running_slots": pool.running,
        "queued_slots": pool.queued,
        "open_slots": pool.open_slots,
        "description": pool.description,
    }


def connection_json(connection: Connection) -> dict[str, Any]:
    """Everything but the password (Airflow's API does not return it either)."""
    return {
        "connection_id": connection.conn_id,
        "conn_type": connection.conn_type,
        "description": connection.description,
        "host": connection.host,
        "login": connection.login,
        "schema": connection.schema,
        "port": connection.port,
        "extra": connection.extra,
    }


def import_error_json(error: ParseImportError) -> dict[str, Any]:
    return {
        "import_error_id": error.id,
        "filename": error.fileloc,
        "message": error.message,
        "stack_trace": error.stacktrace,
        "timestamp": error.timestamp,
    }
