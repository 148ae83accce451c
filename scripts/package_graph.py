"""Print the package -> package import edges of flowsched and webui.

Why: the layering rules in docs/architecture.md (checked by ``lint-imports``) say which
edges may exist; this prints the edges that do, so a review can see the whole graph and
any cycle at a glance. Run it with ``make graph``. Like the contracts, it leaves out
imports made only for type checking (under ``TYPE_CHECKING``): they never run.
"""

from __future__ import annotations

import sys

import grimp

ROOTS = ("flowsched", "webui")


def package_of(module: str) -> str:
    """Name the package a module belongs to: ``flowsched.<child>`` or ``webui``.

    Top-level flowsched modules (``flowsched.config``) count as packages of their own,
    and the web UI counts as one package because the rules treat it as one.
    """
    parts = module.split(".")
    if parts[0] == "webui":
        return "webui"
    return ".".join(parts[:2])


def package_edges(graph: grimp.ImportGraph) -> dict[tuple[str, str], int]:
    """Count the module imports behind each edge between two different packages."""
    edges: dict[tuple[str, str], int] = {}
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            edge = (package_of(importer), package_of(imported))
            if edge[0] != edge[1]:
                edges[edge] = edges.get(edge, 0) + 1
    return edges


def cycles(edges: dict[tuple[str, str], int]) -> list[list[str]]:
    """Find the strongly connected groups of packages (more than one member = a cycle)."""
    successors: dict[str, set[str]] = {}
    for source, target in edges:
        successors.setdefault(source, set()).add(target)
        successors.setdefault(target, set())
    reach = {node: _reachable(node, successors) for node in successors}
    groups: list[list[str]] = []
    seen: set[str] = set()
    for node in sorted(successors):
        if node in seen:
            continue
        group = sorted(other for other in reach[node] if node in reach[other])
        if len(group) > 1:
            groups.append(group)
        seen.update(group)
    return groups


def _reachable(start: str, successors: dict[str, set[str]]) -> set[str]:
    """Every package that ``start`` imports directly or indirectly."""
    found: set[str] = set()
    stack = [start]
    while stack:
        for target in successors[stack.pop()]:
            if target not in found:
                found.add(target)
                stack.append(target)
    return found


def main() -> int:
    """Print one ``importer -> imported (n imports)`` line per edge, then the cycles."""
    graph = grimp.build_graph(*ROOTS, exclude_type_checking_imports=True, cache_dir=None)
    edges = package_edges(graph)
    for (source, target), count in sorted(edges.items()):
        print(f"{source} -> {target} ({count})")
    print(f"{len(edges)} edges")
    groups = cycles(edges)
    for group in groups:
        print("cycle: " + " <-> ".join(group))
    if not groups:
        print("no cycle between packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
