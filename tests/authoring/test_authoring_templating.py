"""Templates: Airflow's examples rendered from the run context, and rendering rules."""

from __future__ import annotations

import pytest

from flowsched import DAG, Param
from flowsched.authoring.macros import ds_add, ds_format
from flowsched.exceptions import TemplateRenderError
from flowsched.operators.bash import BashOperator
from flowsched.operators.python import PythonOperator


def rendered(context_for, template, conf=None, try_number=1, **dag_kwargs):
    with DAG("templated", params={"x": Param(5, type="integer")}, **dag_kwargs):
        task = BashOperator(task_id="t", bash_command=template)
    task.render_template_fields(context_for(task, conf=conf, try_number=try_number))
    return task.bash_command


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ ds }}", "2024-03-10"),
        ("{{ ds_nodash }}", "20240310"),
        ("{{ ts }}", "2024-03-10T00:00:00+00:00"),
        ("{{ data_interval_end }}", "2024-03-11T00:00:00+00:00"),
        ("{{ macros.ds_add(ds, 7) }}", "2024-03-17"),
        ("{{ macros.ds_format(ds, '%Y-%m-%d', '%d/%m/%Y') }}", "10/03/2024"),
        ("{{ params.x }}", "5"),
        ("{{ run_id }}", "scheduled__2024-03-10T00:00:00+00:00"),
        ("{{ logical_date | ds_nodash }}", "20240310"),
    ],
)
def test_spec_examples_render_from_the_context(context_for, template, expected):
    assert rendered(context_for, template) == expected


def test_run_conf_is_read_through_dag_run_and_overrides_params(context_for):
    template = "{{ dag_run.conf.get('x') }} {{ params.x }} {{ dag_run.conf.get('y', 'none') }}"
    assert rendered(context_for, template, conf={"x": 9}) == "9 9 none"


def test_try_number_comes_from_the_task_instance(context_for):
    assert rendered(context_for, "try {{ ti.try_number }}", try_number=3) == "try 3"


def test_a_typo_fails_naming_the_task_the_field_and_the_name(context_for):
    with pytest.raises(TemplateRenderError) as error:
        rendered(context_for, "echo {{ dss }}")
    assert str(error.value) == (
        "Task 't': cannot render template field 'bash_command': UndefinedError: 'dss' is undefined"
    )


def test_variables_are_read_on_use(context_for, monkeypatch, migrated_db):
    monkeypatch.setenv("FLOWSCHED_VAR_BUCKET", "s3://data")
    monkeypatch.setenv("FLOWSCHED_VAR_SETTINGS", '{"limit": 10}')
    template = (
        "{{ var.value.bucket }} {{ var.json.settings.limit }} {{ var.value.get('nope', 'x') }}"
    )
    assert rendered(context_for, template) == "s3://data 10 x"


def test_user_defined_macros_are_available(context_for):
    result = rendered(context_for, "{{ team }}", user_defined_macros={"team": "data"})
    assert result == "data"


def test_nested_lists_dicts_and_tuples_are_rendered(context_for):
    with DAG("nested"):
        task = PythonOperator(
            task_id="t",
            python_callable=print,
            op_args=["{{ ds }}", ("{{ ds_nodash }}", 3)],
            op_kwargs={"when": {"day": "{{ ds }}"}, "n": 1},
        )
    task.render_template_fields(context_for(task))
    assert task.op_args == ["2024-03-10", ("20240310", 3)]
    assert task.op_kwargs == {"when": {"day": "2024-03-10"}, "n": 1}


def test_a_field_ending_in_a_template_extension_renders_the_file(context_for, tmp_path):
    (tmp_path / "report.sh").write_text("echo report for {{ ds }}\n")
    with DAG("files", template_searchpath=str(tmp_path)):
        task = BashOperator(task_id="t", bash_command="report.sh")
    task.render_template_fields(context_for(task))
    assert task.bash_command == "echo report for 2024-03-10\n"


def test_native_rendering_keeps_python_types(context_for):
    with DAG("native", render_template_as_native_obj=True, params={"n": 3}):
        task = PythonOperator(task_id="t", python_callable=print, op_args=["{{ params.n + 1 }}"])
    task.render_template_fields(context_for(task))
    assert task.op_args == [4]


def test_macros_behave_like_airflow_s():
    assert ds_add("2024-02-28", 2) == "2024-03-01"
    assert ds_add("2024-02-28", -28) == "2024-01-31"
    assert ds_format("2024-01-05", "%Y-%m-%d", "%m-%d-%y") == "01-05-24"


def test_context_holds_the_spec_keys(context_for):
    with DAG("keys"):
        task = BashOperator(task_id="t", bash_command="true")
    context = context_for(task)
    expected = {
        "ds", "ds_nodash", "ts", "logical_date", "data_interval_start", "data_interval_end",
        "run_id", "dag_run", "dag", "task", "ti", "params", "conf", "var", "macros",
        "prev_data_interval_start_success",
    }  # fmt: skip
    assert expected <= set(context)
    assert context["task_instance"] is context["ti"]
    assert context["prev_data_interval_start_success"] is None
