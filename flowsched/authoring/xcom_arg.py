"""References to another task's XCom, as returned by calling a ``@task`` or ``op.output``.

Passing one to a task makes that task downstream of the producer; at run time the
reference is replaced by the value the producer pushed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from flowsched.authoring.node import DependencyMixin
from flowsched.authoring.resolvable import Resolvable

if TYPE_CHECKING:
    from flowsched.authoring.node import DAGNode

XCOM_RETURN_KEY = "return_value"


class XComArg(Resolvable, DependencyMixin):
    """The value ``operator`` pushes under ``key`` (``return_value`` unless indexed)."""

    def __init__(self, operator: DAGNode, key: str = XCOM_RETURN_KEY) -> None:
        self.operator = operator
        self.key = key

    @property
    def task_id(self) -> str:
        return self.operator.task_id

    @property
    def roots(self) -> list[DAGNode]:
        return [self.operator]

    @property
    def leaves(self) -> list[DAGNode]:
        return [self.operator]

    def __getitem__(self, key: str) -> XComArg:
        """``result["a"]`` of a ``multiple_outputs`` task reads the XCom pushed under "a"."""
        return XComArg(self.operator, key)

    def __iter__(self) -> Iterator[Any]:
        raise TypeError(
            f"The XCom of task {self.task_id!r} is not known when the DAG is defined, so it "
            "cannot be iterated here; pass it to a task, or map over it with .expand()"
        )

    def __str__(self) -> str:
        """Airflow's trick: inside an f-string in a templated field, this pulls the XCom."""
        return f"{{{{ task_instance.xcom_pull(task_ids={self.task_id!r}, key={self.key!r}) }}}}"

    def __repr__(self) -> str:
        return f"XComArg({self.task_id!r}, key={self.key!r})"

    def resolve(self, context: dict[str, Any]) -> Any:
        return context["ti"].xcom_pull(task_ids=self.task_id, key=self.key)


def iter_xcom_args(value: Any) -> Iterator[XComArg]:
    """Every XComArg nested in lists, tuples, sets and dict values."""
    if isinstance(value, XComArg):
        yield value
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from iter_xcom_args(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from iter_xcom_args(item)


def resolve_xcom_args(value: Any, pull: Callable[[str, str], Any]) -> Any:
    """Replace nested XComArgs by ``pull(task_id, key)``, keeping the container types."""
    if isinstance(value, XComArg):
        return pull(value.task_id, value.key)
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(resolve_xcom_args(v, pull) for v in value))
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(resolve_xcom_args(v, pull) for v in value)
    if isinstance(value, dict):
        return {k: resolve_xcom_args(v, pull) for k, v in value.items()}
    return value
