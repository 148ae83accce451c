"""Every metadata table in one import; importing this module registers them all."""

from flowsched.db.base import Base, UtcDateTime, utcnow
from flowsched.db.connection import Connection
from flowsched.db.dag import DagFile, DagModel, ParseImportError, SerializedDagModel
from flowsched.db.dagrun import DagRun
from flowsched.db.job import Job
from flowsched.db.pool import DEFAULT_POOL, Pool
from flowsched.db.slamiss import SlaMiss
from flowsched.db.states import DagRunState, TaskInstanceState
from flowsched.db.taskinstance import TaskInstance, TaskInstanceHistory
from flowsched.db.user import AuditLog, User
from flowsched.db.variable import Variable
from flowsched.db.xcom import XCom

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
    "SlaMiss",
    "TaskInstance",
    "TaskInstanceHistory",
    "TaskInstanceState",
    "User",
    "UtcDateTime",
    "Variable",
    "XCom",
    "utcnow",
]
