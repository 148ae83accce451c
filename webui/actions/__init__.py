"""Changes people make from the UI or the API, shared by both so they behave the same.

Each action works in the caller's session and records an audit entry there; state
changes go through ``flowsched.db.states`` guarded transitions.
"""


class ActionError(ValueError):
    """The change cannot be made as asked; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
