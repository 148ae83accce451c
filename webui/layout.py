"""A layered (Sugiyama-style) layout of the DAG, computed on the server.

Each task goes in the column of its longest path from a source; a few barycenter sweeps
order each column to cut edge crossings. The page draws the result as inline SVG, so the
graph needs no JavaScript library and works with a strict Content-Security-Policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webui.queries.structure import tasks_in_order

NODE_WIDTH = 190
NODE_HEIGHT = 40
COLUMN_GAP = 70
ROW_GAP = 18
MARGIN = 12
SWEEPS = 4
LABEL_CHARS = 24


@dataclass
class Node:
    task_id: str
    operator: str
    x: float
    y: float

    @property
    def label(self) -> str:
        name = self.task_id
        return name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1] + "…"


@dataclass
class Edge:
    source: str
    target: str
    path: str  # SVG path data
    label: str = ""  # an edge Label's text, drawn at the middle of the curve
    label_x: float = 0.0
    label_y: float = 0.0


@dataclass
class Layout:
    nodes: list[Node]
    edges: list[Edge]
    width: float
    height: float


def layout_dag(structure: dict[str, Any]) -> Layout:
    tasks = tasks_in_order(structure)
    columns = _columns(tasks)
    _reduce_crossings(columns, tasks)
    nodes = _place(columns, {t["task_id"]: t["operator"] for t in tasks})
    by_id = {node.task_id: node for node in nodes}
    labels = {(up, down): label for up, down, label in structure.get("edge_labels", [])}
    edges = [
        _edge(by_id[task["task_id"]], by_id[child], labels.get((task["task_id"], child), ""))
        for task in tasks
        for child in task["downstream"]
        if child in by_id
    ]
    width = max((n.x for n in nodes), default=0) + NODE_WIDTH + MARGIN
    height = max((n.y for n in nodes), default=0) + NODE_HEIGHT + MARGIN
    return Layout(nodes, edges, width, height)


def _columns(tasks: list[dict[str, Any]]) -> list[list[str]]:
    """Longest-path layering; ``tasks`` is upstream-first, so one pass suffices."""
    layer: dict[str, int] = {}
    for task in tasks:
        parents = [layer[u] for u in task["upstream"] if u in layer]
        layer[task["task_id"]] = max(parents, default=-1) + 1
    columns: list[list[str]] = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for task in tasks:
        columns[layer[task["task_id"]]].append(task["task_id"])
    return columns


def _reduce_crossings(columns: list[list[str]], tasks: list[dict[str, Any]]) -> None:
    upstream = {t["task_id"]: t["upstream"] for t in tasks}
    downstream = {t["task_id"]: t["downstream"] for t in tasks}
    for sweep in range(SWEEPS):
        if sweep % 2 == 0:
            for i in range(1, len(columns)):
                _sort_by_barycenter(columns[i], columns[i - 1], upstream)
        else:
            for i in range(len(columns) - 2, -1, -1):
                _sort_by_barycenter(columns[i], columns[i + 1], downstream)


def _sort_by_barycenter(
    column: list[str], neighbour_column: list[str], neighbours: dict[str, list[str]]
) -> None:
    position = {task_id: i for i, task_id in enumerate(neighbour_column)}
    keys = {}
    for index, task_id in enumerate(column):
        linked = [position[n] for n in neighbours[task_id] if n in position]
        keys[task_id] = sum(linked) / len(linked) if linked else index
    column.sort(key=keys.__getitem__)


def _place(columns: list[list[str]], operators: dict[str, str]) -> list[Node]:
    tallest = max((len(column) for column in columns), default=0)
    nodes = []
    for col, column in enumerate(columns):
        top = (tallest - len(column)) * (NODE_HEIGHT + ROW_GAP) / 2
        for row, task_id in enumerate(column):
            x = MARGIN + col * (NODE_WIDTH + COLUMN_GAP)
            y = MARGIN + top + row * (NODE_HEIGHT + ROW_GAP)
            nodes.append(Node(task_id, operators[task_id], x, y))
    return nodes


def _edge(source: Node, target: Node, label: str) -> Edge:
    middle_x = (source.x + NODE_WIDTH + target.x) / 2
    middle_y = (source.y + target.y + NODE_HEIGHT) / 2
    return Edge(source.task_id, target.task_id, _curve(source, target), label, middle_x, middle_y)


def _curve(source: Node, target: Node) -> str:
    x1, y1 = source.x + NODE_WIDTH, source.y + NODE_HEIGHT / 2
    x2, y2 = target.x, target.y + NODE_HEIGHT / 2
    bend = (x2 - x1) / 2
    return (
        f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    )
