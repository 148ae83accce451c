"""DAG file sources for the parsing and CLI tests."""

from __future__ import annotations

import textwrap
from pathlib import Path


def dag_source(dag_id: str, tasks: int = 2, extra: str = "", **dag_args: str) -> str:
    """A small, valid DAG file: a chain of EmptyOperators, plus any extra module code.

    ``dag_args`` are DAG keyword arguments written as Python source, e.g. tags="['x']".
    """
    dag_args = {"start_date": "pendulum.datetime(2024, 1, 1)", **dag_args}
    arguments = "".join(f", {name}={value}" for name, value in dag_args.items())
    header = textwrap.dedent(
        f"""\
        import pendulum
        from flowsched import DAG
        from flowsched.operators.empty import EmptyOperator

        {extra}

        with DAG({dag_id!r}{arguments}) as dag:
        """
    )
    body = "".join(f"    t{n} = EmptyOperator(task_id='t{n}')\n" for n in range(tasks))
    chain = " >> ".join(f"t{n}" for n in range(tasks))
    return header + body + (f"    {chain}\n" if tasks > 1 else "")


def counting_dag(dag_id: str, counter: Path) -> str:
    """A DAG file that appends a line to ``counter`` each time it is imported."""
    return dag_source(dag_id, extra=f"open({str(counter)!r}, 'a').write('imported\\n')")


def import_count(counter: Path) -> int:
    return len(counter.read_text().splitlines()) if counter.exists() else 0
