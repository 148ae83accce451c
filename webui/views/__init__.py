"""HTML pages, one module per page group."""

from webui.views import (
    audit_log,
    connections,
    dag,
    dag_actions,
    dags,
    ops,
    pools,
    tasks,
    variables,
)

BLUEPRINTS = [
    dags.bp,
    dag.bp,
    dag_actions.bp,
    tasks.bp,
    variables.bp,
    connections.bp,
    pools.bp,
    audit_log.bp,
    ops.bp,
]
