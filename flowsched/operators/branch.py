"""BaseBranchOperator: subclass it and return the task id(s) to follow from ``choose_branch``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flowsched.authoring.baseoperator import BaseOperator
from flowsched.operators.python import BranchMixin


class BaseBranchOperator(BranchMixin, BaseOperator):
    """``choose_branch(context)`` returns a task id, a task group id, or a list of them;
    every other task directly downstream is skipped. The choice is also the task's XCom
    ``return_value``, as in Airflow."""

    def choose_branch(self, context: dict[str, Any]) -> str | Iterable[str] | None:
        raise NotImplementedError(f"{type(self).__name__} must implement choose_branch(context)")

    def execute(self, context: dict[str, Any]) -> Any:
        branches = self.choose_branch(context)
        self.log.info("Branch into %s", branches)
        return list(branches) if isinstance(branches, set | tuple) else branches
