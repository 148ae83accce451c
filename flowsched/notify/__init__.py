"""E-mail and webhook alerts for failed, retried and finished tries and runs.

The runner and the scheduler build a ``TaskEvent`` and call ``dispatch`` (or
``dispatch_in_background``); DAG authors use the ``send_*_notification`` callbacks.
"""

from flowsched.notify.dispatch import dispatch, dispatch_in_background
from flowsched.notify.events import TaskEvent, log_url_for, run_url_for
from flowsched.notify.notifiers import send_email_notification, send_webhook_notification

__all__ = [
    "TaskEvent",
    "dispatch",
    "dispatch_in_background",
    "log_url_for",
    "run_url_for",
    "send_email_notification",
    "send_webhook_notification",
]
