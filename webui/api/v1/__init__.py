"""/api/v1: importing the route modules registers their endpoints on the blueprint."""

from webui.api.v1 import (
    connections,
    dags,
    import_errors,
    meta,
    pools,
    runs,
    task_instances,
    variables,
)
from webui.api.v1.common import bp

ROUTE_MODULES = (connections, dags, import_errors, meta, pools, runs, task_instances, variables)

__all__ = ["ROUTE_MODULES", "bp"]
