"""From crontab to DAG files: read a crontab into typed jobs, write each job as a DAG.

`reader` knows cron's rules (variables, @specials, %, system crontabs); `writer` turns a
job into readable DAG source. `flowsched import-crontab` is the command line around them.
"""

from flowsched.crontab.reader import CronJob, Crontab, CrontabError, read_crontab
from flowsched.crontab.writer import GeneratedDagFile, write_dag_file

__all__ = [
    "CronJob",
    "Crontab",
    "CrontabError",
    "GeneratedDagFile",
    "read_crontab",
    "write_dag_file",
]
