"""Airflow's hooks around execute, in a real try: pre_execute, on_execute_callback,
post_execute and on_skipped_callback, each writing to the task log."""

from tests.runner.support import create_run, queue_ti, read_log, run_state, write_dag

DAG_FILE = """
    import pendulum
    from flowsched import DAG
    from flowsched.exceptions import TaskSkipped
    from flowsched.operators.python import PythonOperator

    def note(what):
        return lambda *args: print(f"hook: {what} {args[1:] if len(args) > 1 else ''}".strip())

    def skip():
        raise TaskSkipped("nothing new")

    with DAG("hooks", start_date=pendulum.datetime(2024, 1, 1, tz="UTC")):
        PythonOperator(task_id="work", python_callable=lambda: 42,
                       pre_execute=note("pre"), on_execute_callback=note("on_execute"),
                       post_execute=note("post"))
        PythonOperator(task_id="skipper", python_callable=skip,
                       on_skipped_callback=note("on_skipped"), on_success_callback=note("success"))
"""


def test_hooks_run_around_execute_and_on_skip(dags_folder):
    path = write_dag(dags_folder, "hooks", DAG_FILE)
    create_run("hooks")
    work = queue_ti("hooks", "work")
    assert run_state(path, work) == "success"
    lines = [line for line in read_log(work).splitlines() if "hook:" in line]
    assert [line.split("hook: ")[1] for line in lines] == ["pre", "on_execute", "post (42,)"]
    skipper = queue_ti("hooks", "skipper")
    assert run_state(path, skipper) == "skipped"
    assert [
        line.split("hook: ")[1] for line in read_log(skipper).splitlines() if "hook:" in line
    ] == ["on_skipped"]
