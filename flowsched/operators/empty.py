"""EmptyOperator: a no-op task, for joins and placeholders."""

from __future__ import annotations

from typing import Any

from flowsched.authoring.baseoperator import BaseOperator


class EmptyOperator(BaseOperator):
    """Does nothing; the scheduler may mark it done without starting a process."""

    ui_color = "#e8f7e4"

    def execute(self, context: dict[str, Any]) -> None:
        return None
