"""The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json.

Written by hand as data: the API is small, and a reader (or a client generator) gets
exactly what the endpoints do, with no framework between the code and the document.
"""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _path_param(name: str, description: str, kind: str = "string") -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": kind},
    }


def _query(name: str, description: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": {"type": kind}}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _listing(key: str, item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            key: {"type": "array", "items": _ref(item)},
            "total_entries": {"type": "integer"},
        },
    }


ERRORS = {
    "400": {"$ref": "#/components/responses/Error"},
    "401": {"$ref": "#/components/responses/Error"},
    "403": {"$ref": "#/components/responses/Error"},
    "404": {"$ref": "#/components/responses/Error"},
}
DAG_ID = _path_param("dag_id", "DAG id")
RUN_ID = _path_param("dag_run_id", "run id, e.g. scheduled__2025-01-01T00:00:00+00:00")
TASK_ID = _path_param("task_id", "task id")
PAGING = [_query("limit", "1 to 1000, default 100", "integer"), _query("offset", "", "integer")]
RUN = "/dags/{dag_id}/dagRuns/{dag_run_id}"
NULLABLE_TIME = {"type": "string", "format": "date-time", "nullable": True}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "properties": {
            "status": {"type": "integer"},
            "error": {"type": "string"},
            "message": {"type": "string"},
        },
    },
    "Dag": {
        "type": "object",
        "properties": {
            "dag_id": {"type": "string"},
            "description": {"type": "string", "nullable": True},
            "is_paused": {"type": "boolean"},
            "is_active": {"type": "boolean"},
            "fileloc": {"type": "string"},
            "owners": {"type": "string", "nullable": True},
            "tags": {"type": "array", "items": {"type": "string"}},
            "timezone": {"type": "string"},
            "schedule": {"type": "string", "nullable": True},
            "schedule_description": {"type": "string", "nullable": True},
            "next_dagrun": NULLABLE_TIME,
        },
    },
    "DagRun": {
        "type": "object",
        "properties": {
            "dag_id": {"type": "string"},
            "dag_run_id": {"type": "string"},
            "run_type": {"type": "string", "enum": ["scheduled", "manual", "backfill"]},
            "state": {"type": "string", "enum": ["queued", "running", "success", "failed"]},
            "logical_date": {"type": "string", "format": "date-time"},
            "data_interval_start": NULLABLE_TIME,
            "data_interval_end": NULLABLE_TIME,
            "start_date": NULLABLE_TIME,
            "end_date": NULLABLE_TIME,
            "duration": {"type": "number", "nullable": True},
            "conf": {"type": "object"},
            "note": {"type": "string", "nullable": True},
        },
    },
    "TaskInstance": {
        "type": "object",
        "properties": {
            "dag_id": {"type": "string"},
            "dag_run_id": {"type": "string"},
            "task_id": {"type": "string"},
            "map_index": {"type": "integer", "description": "-1 for an unmapped task"},
            "try_number": {"type": "integer"},
            "max_tries": {"type": "integer"},
            "state": {"type": "string", "nullable": True},
            "start_date": NULLABLE_TIME,
            "end_date": NULLABLE_TIME,
            "duration": {"type": "number", "nullable": True},
            "hostname": {"type": "string", "nullable": True},
            "rendered_fields": {"type": "object", "nullable": True},
        },
    },
    "Pool": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "slots": {"type": "integer", "minimum": 0},
            "occupied_slots": {"type": "integer"},
            "running_slots": {"type": "integer"},
            "queued_slots": {"type": "integer"},
            "open_slots": {"type": "integer"},
            "description": {"type": "string", "nullable": True},
        },
    },
    "Connection": {
        "type": "object",
        "properties": {
            "connection_id": {"type": "string"},
            "conn_type": {"type": "string"},
            "description": {"type": "string", "nullable": True},
            "host": {"type": "string", "nullable": True},
            "login": {"type": "string", "nullable": True},
            "schema": {"type": "string", "nullable": True},
            "port": {"type": "integer", "nullable": True},
            "password": {"type": "string", "description": "write only: never returned"},
            "extra": {"type": "string", "nullable": True, "description": "a JSON object"},
        },
    },
    "Variable": {
        "type": "object",
        "properties": {
            "key": {"type": "string"},
            "value": {"type": "string", "description": "*** for a sensitive key, to viewers"},
            "description": {"type": "string", "nullable": True},
        },
    },
    "ImportError": {
        "type": "object",
        "properties": {
            "import_error_id": {"type": "integer"},
            "filename": {"type": "string"},
            "message": {"type": "string"},
            "stack_trace": {"type": "string"},
            "timestamp": {"type": "string", "format": "date-time"},
        },
    },
    "Health": {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["healthy", "unhealthy"]},
            "metadatabase": {"type": "object"},
            "scheduler": {"type": "object"},
        },
    },
}

PATHS: dict[str, Any] = {
    "/dags": {
        "get": {
            "summary": "List active DAGs",
            "parameters": [
                *PAGING,
                _query("dag_id_pattern", "substring of the DAG id"),
                _query("tags", "only DAGs with this tag (repeatable)"),
                _query("paused", "true or false", "boolean"),
            ],
            "responses": {"200": _json(_listing("dags", "Dag")), **ERRORS},
        }
    },
    "/dags/{dag_id}": {
        "parameters": [DAG_ID],
        "get": {"summary": "Get a DAG", "responses": {"200": _json(_ref("Dag")), **ERRORS}},
        "patch": {
            "summary": "Pause or unpause a DAG",
            "requestBody": _body(
                {"type": "object", "properties": {"is_paused": {"type": "boolean"}}}
            ),
            "responses": {"200": _json(_ref("Dag")), **ERRORS},
        },
        "delete": {
            "summary": "Delete a DAG's runs, task history and stored structure (not its file)",
            "responses": {"204": {"description": "Deleted"}, **ERRORS},
        },
    },
    "/dags/{dag_id}/tasks": {
        "parameters": [DAG_ID],
        "get": {
            "summary": "The DAG's tasks as serialized by the parser, upstream first",
            "responses": {"200": _json({"type": "object"}), **ERRORS},
        },
    },
    "/dags/{dag_id}/dagRuns": {
        "parameters": [DAG_ID],
        "get": {
            "summary": "List runs, newest first",
            "parameters": [*PAGING, _query("state", "only runs in this state (repeatable)")],
            "responses": {"200": _json(_listing("dag_runs", "DagRun")), **ERRORS},
        },
        "post": {
            "summary": "Trigger a run; conf is validated against the DAG's params",
            "requestBody": _body(
                {
                    "type": "object",
                    "properties": {
                        "conf": {"type": "object"},
                        "logical_date": {"type": "string", "format": "date-time"},
                        "dag_run_id": {"type": "string"},
                        "note": {"type": "string"},
                    },
                }
            ),
            "responses": {"200": _json(_ref("DagRun")), "409": ERRORS["400"], **ERRORS},
        },
    },
    RUN: {
        "parameters": [DAG_ID, RUN_ID],
        "get": {"summary": "Get a run", "responses": {"200": _json(_ref("DagRun")), **ERRORS}},
        "patch": {
            "summary": "Mark a run success or failed (its unfinished tasks follow)",
            "requestBody": _body(
                {
                    "type": "object",
                    "properties": {"state": {"type": "string", "enum": ["success", "failed"]}},
                }
            ),
            "responses": {"200": _json(_ref("DagRun")), **ERRORS},
        },
        "delete": {
            "summary": "Delete a run with its task instances, tries and XComs",
            "responses": {"204": {"description": "Deleted"}, **ERRORS},
        },
    },
    f"{RUN}/taskInstances": {
        "parameters": [DAG_ID, RUN_ID],
        "get": {
            "summary": "The run's task instances",
            "responses": {"200": _json(_listing("task_instances", "TaskInstance")), **ERRORS},
        },
    },
    f"{RUN}/taskInstances/{{task_id}}": {
        "parameters": [DAG_ID, RUN_ID, TASK_ID],
        "get": {
            "summary": "An unmapped task instance",
            "responses": {"200": _json(_ref("TaskInstance")), **ERRORS},
        },
        "patch": {
            "summary": "Mark a task instance success or failed",
            "requestBody": _body(
                {
                    "type": "object",
                    "properties": {
                        "new_state": {"type": "string", "enum": ["success", "failed"]},
                        "map_index": {"type": "integer"},
                    },
                }
            ),
            "responses": {"200": _json({"type": "object"}), **ERRORS},
        },
    },
    f"{RUN}/taskInstances/{{task_id}}/{{map_index}}": {
        "parameters": [DAG_ID, RUN_ID, TASK_ID, _path_param("map_index", "", "integer")],
        "get": {
            "summary": "One instance of a mapped task",
            "responses": {"200": _json(_ref("TaskInstance")), **ERRORS},
        },
    },
    f"{RUN}/taskInstances/{{task_id}}/logs/{{try_number}}": {
        "parameters": [DAG_ID, RUN_ID, TASK_ID, _path_param("try_number", "", "integer")],
        "get": {
            "summary": "A chunk of one try's log, from a byte offset (for tailing)",
            "parameters": [
                _query("map_index", "default -1", "integer"),
                _query("offset", "byte offset, default 0", "integer"),
            ],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "content": {"type": "string"},
                            "offset": {"type": "integer"},
                            "exists": {"type": "boolean"},
                            "done": {"type": "boolean"},
                        },
                    }
                ),
                **ERRORS,
            },
        },
    },
    "/dags/{dag_id}/clearTaskInstances": {
        "parameters": [DAG_ID],
        "post": {
            "summary": "Clear task instances of a run so they run again",
            "requestBody": _body(
                {
                    "type": "object",
                    "required": ["dag_run_id"],
                    "properties": {
                        "dag_run_id": {"type": "string"},
                        "task_ids": {"type": "array", "items": {"type": "string"}},
                        "include_downstream": {"type": "boolean"},
                        "include_upstream": {"type": "boolean"},
                        "only_failed": {"type": "boolean"},
                        "dry_run": {"type": "boolean"},
                    },
                }
            ),
            "responses": {"200": _json({"type": "object"}), **ERRORS},
        },
    },
    "/variables": {
        "get": {
            "summary": "List variables",
            "parameters": PAGING,
            "responses": {"200": _json(_listing("variables", "Variable")), **ERRORS},
        },
        "post": {
            "summary": "Create a variable",
            "requestBody": _body(_ref("Variable")),
            "responses": {"201": _json(_ref("Variable")), "409": ERRORS["400"], **ERRORS},
        },
    },
    "/variables/{key}": {
        "parameters": [_path_param("key", "variable key")],
        "get": {
            "summary": "Get a variable",
            "responses": {"200": _json(_ref("Variable")), **ERRORS},
        },
        "patch": {
            "summary": "Change a variable's value or description",
            "requestBody": _body(_ref("Variable")),
            "responses": {"200": _json(_ref("Variable")), **ERRORS},
        },
        "delete": {
            "summary": "Delete a variable",
            "responses": {"204": {"description": "Deleted"}, **ERRORS},
        },
    },
    "/pools": {
        "get": {
            "summary": "List pools with their slots in use",
            "responses": {"200": _json(_listing("pools", "Pool")), **ERRORS},
        },
        "post": {
            "summary": "Create a pool, or change an existing one's slots and description",
            "requestBody": _body(_ref("Pool")),
            "responses": {"200": _json(_ref("Pool")), **ERRORS},
        },
    },
    "/pools/{name}": {
        "parameters": [_path_param("name", "pool name")],
        "delete": {
            "summary": "Delete a pool (not default_pool)",
            "responses": {"204": {"description": "Deleted"}, **ERRORS},
        },
    },
    "/connections": {
        "get": {
            "summary": "List connections (no passwords)",
            "responses": {"200": _json(_listing("connections", "Connection")), **ERRORS},
        },
        "post": {
            "summary": "Create a connection",
            "requestBody": _body(_ref("Connection")),
            "responses": {"200": _json(_ref("Connection")), "409": ERRORS["400"], **ERRORS},
        },
    },
    "/connections/{conn_id}": {
        "parameters": [_path_param("conn_id", "connection id")],
        "patch": {
            "summary": "Change the fields given (null clears one)",
            "requestBody": _body(_ref("Connection")),
            "responses": {"200": _json(_ref("Connection")), **ERRORS},
        },
        "delete": {
            "summary": "Delete a connection",
            "responses": {"204": {"description": "Deleted"}, **ERRORS},
        },
    },
    "/importErrors": {
        "get": {
            "summary": "DAG files that failed to load",
            "responses": {"200": _json(_listing("import_errors", "ImportError")), **ERRORS},
        }
    },
    "/health": {
        "get": {
            "summary": "Database and scheduler heartbeat (no login needed)",
            "security": [],
            "responses": {"200": _json(_ref("Health")), "503": _json(_ref("Health"))},
        }
    },
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "flowsched REST API",
        "version": "1",
        "description": (
            "JSON API of the flowsched web server. Authenticate with the web session "
            "(send the CSRF token in X-CSRFToken on changes) or HTTP basic auth. Viewers "
            "may read; changes need the admin role. Bodies of POST/PATCH are JSON."
        ),
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"basicAuth": []}, {"session": []}],
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "responses": {"Error": _json(_ref("Error"), "Error with a message")},
        "securitySchemes": {
            "basicAuth": {"type": "http", "scheme": "basic"},
            "session": {"type": "apiKey", "in": "cookie", "name": "session"},
        },
    },
}
