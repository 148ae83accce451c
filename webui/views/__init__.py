"""HTML pages, one module per page group."""

from webui.views import (
    audit_log,
    connections,
    dag_actions,
    dag_list,
    dag_pages,
    ops,
    pools,
    tasks,
    variables,
)

BLUEPRINTS = [
    dag_list.bp,
    dag_pages.bp,
    dag_actions.bp,
    tasks.bp,
    variables.bp,
    connections.bp,
    pools.bp,
    audit_log.bp,
    ops.bp,
]
