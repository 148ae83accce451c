"""Edge labels: ``branch >> Label("no errors") >> save`` names the edge in the graph view.

A Label is not a task: it remembers the tasks on its left and on its right, links each
left task to each right task, and records the label on the DAG for every edge it made
(``dag.edge_info``, serialized with the DAG), as Airflow's EdgeModifier does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowsched.authoring.node import Dependable, DependencyMixin, _leaves_of, _roots_of, add_edge

if TYPE_CHECKING:
    from flowsched.authoring.node import DAGNode


class Label(DependencyMixin):
    """A text shown on the edges between the tasks before it and the tasks after it."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._upstream: list[DAGNode] = []
        self._downstream: list[DAGNode] = []

    @property
    def roots(self) -> list[DAGNode]:
        return list(self._downstream)

    @property
    def leaves(self) -> list[DAGNode]:
        return list(self._upstream)

    def set_downstream(self, other: Dependable) -> None:
        self.add_downstream_nodes(_roots_of(other))

    def set_upstream(self, other: Dependable) -> None:
        self.add_upstream_nodes(_leaves_of(other))

    def add_upstream_nodes(self, nodes: list[DAGNode]) -> None:
        self._upstream.extend(nodes)
        self._link(nodes, self._downstream)

    def add_downstream_nodes(self, nodes: list[DAGNode]) -> None:
        self._downstream.extend(nodes)
        self._link(self._upstream, nodes)

    def _link(self, upstream: list[DAGNode], downstream: list[DAGNode]) -> None:
        for up in upstream:
            for down in downstream:
                add_edge(up, down)
                dag = up.dag
                assert dag is not None
                dag.set_edge_info(up.task_id, down.task_id, {"label": self.label})

    def __repr__(self) -> str:
        return f"Label({self.label!r})"
