"""``chain``, ``chain_linear`` and ``cross_downstream``: Airflow's helpers for long
dependency lines."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from flowsched.authoring.node import DependencyMixin


def chain(*elements: DependencyMixin | Sequence[DependencyMixin]) -> None:
    """``chain(a, [b, c], d)`` is ``a >> [b, c] >> d``; two adjacent lists must have the
    same length and are linked pairwise: ``chain([a, b], [c, d])`` is ``a >> c``, ``b >> d``."""
    for up, down in itertools.pairwise(elements):
        if isinstance(up, DependencyMixin):
            up.set_downstream(down)
        elif isinstance(down, DependencyMixin):
            down.set_upstream(up)
        else:
            if len(up) != len(down):
                raise ValueError(
                    f"chain() cannot link lists of different lengths ({len(up)} and {len(down)})"
                )
            for left, right in zip(up, down, strict=True):
                left.set_downstream(right)


def cross_downstream(
    from_tasks: Sequence[DependencyMixin], to_tasks: Sequence[DependencyMixin]
) -> None:
    """Every task of ``from_tasks`` upstream of every task of ``to_tasks``."""
    for task in from_tasks:
        task.set_downstream(list(to_tasks))


def chain_linear(*elements: DependencyMixin | Sequence[DependencyMixin]) -> None:
    """``chain_linear(a, [b, c], [d, e])``: every task of each element upstream of every task
    of the next (``a >> [b, c]``, ``b >> [d, e]``, ``c >> [d, e]``), as in Airflow."""
    if not elements:
        raise ValueError("chain_linear() got no tasks; nothing to do")
    if len(elements) < 2:
        raise ValueError("chain_linear() set no dependencies; did you forget to expand with `*`?")
    for up, down in itertools.pairwise(elements):
        ups = [up] if isinstance(up, DependencyMixin) else list(up)
        for task in ups:
            task.set_downstream(down)
