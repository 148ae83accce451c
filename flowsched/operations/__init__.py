"""Every change a person or an operator makes, once: the CLI, the web forms, the REST API
and the runner (TriggerDagRunOperator, ExternalTaskMarker) call these functions.

Each function works in the caller's session (so several changes can share one
transaction), validates its input with ``rules``, raises ``errors.OperationError``
(NotFound / Invalid / Conflict) with a message for people, writes its audit row, and
wakes the scheduler when the transaction commits. None needs a web request or a CLI
context: ``actor`` says who asked.
"""
