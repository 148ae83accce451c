"""The metadata database tables. Importing this package registers every table."""

from flowsched.models.base import Base, UtcDateTime, utcnow
from flowsched.models.connection import Connection
from flowsched.models.dag import DagFile, DagModel, ParseImportError, SerializedDagModel
from flowsched.models.dagrun import DagRun
from flowsched.models.job import Job
from flowsched.models.pool import DEFAULT_POOL, Pool
from flowsched.models.states import DagRunState, TaskInstanceState
from flowsched.models.taskinstance import TaskInstance, TaskInstanceHistory
from flowsched.models.user import AuditLog, User
from flowsched.models.variable import Variable
from flowsched.models.xcom import XCom

__all__ = [
    "DEFAULT_POOL",
    "AuditLog",
    "Base",
    "Connection",
    "DagFile",
    "DagModel",
    "DagRun",
    "DagRunState",
    "Job",
    "ParseImportError",
    "Pool",
    "SerializedDagModel",
    "TaskInstance",
    "TaskInstanceHistory",
    "TaskInstanceState",
    "User",
    "UtcDateTime",
    "Variable",
    "XCom",
    "utcnow",
]
