"""`flowsched import-crontab`: a crontab in, a DAG file out, that runs what cron ran."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from flowsched.cli import cli

CRONTABS = Path(__file__).parents[1] / "crontab" / "crontabs"
FLOWSCHED = str(Path(sys.executable).parent / "flowsched")


def flowsched(*args: str, stdin: str | bytes | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin)


def test_a_job_runs_with_cron_environment_percent_and_shell_text(
    migrated_db: Path, dags_folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.txt"
    crontab = (
        'GREETING = "hello world"\n'
        "MAILTO=ops@example.com\n"
        f'* * * * * printf \'\\%s|\' "$GREETING" "${{#GREETING}}" > {out}; cat >> {out}'
        "%line one%line two%\n"
    )
    imported = flowsched("import-crontab", "-", "--prefix", "mine", stdin=crontab)
    assert imported.exit_code == 0, imported.output
    assert imported.stdout.splitlines()[1:] == [
        "  mine_line3_cat",
        "New DAGs start paused: `flowsched dags unpause DAG_ID` lets one run.",
    ]

    ran = flowsched("dags", "test", "mine_line3_cat")

    assert ran.exit_code == 0, ran.output
    assert out.read_text() == "hello world|11|line one\nline two\n"
    details = json.loads(flowsched("dags", "show", "mine_line3_cat", "-o", "json").stdout)
    assert details["paused"] is True
    assert [(t["task_id"], t["retries"]) for t in details["tasks"]] == [("command", 1)]


def test_the_dag_file_spells_out_what_cron_did(home: Path, tmp_path: Path) -> None:
    result = flowsched(
        "import-crontab", str(CRONTABS / "user_crontab"), "--dry-run", "--start-date", "2025-01-01"
    )
    blocks = {block.split(":")[0]: block for block in result.stdout.split("\n\n# crontab ")}

    retrain = blocks["line 9"]
    assert '#   0 7 * * sun  cd $PROJECT_DIR && python train.py --since "$(date' in retrain
    assert 'schedule="0 7 * * sun"' in retrain
    assert 'start_date=pendulum.datetime(2025, 1, 1, tz="Europe/Amsterdam")' in retrain
    assert "catchup=False" in retrain and '"retries": RETRIES' in retrain
    assert '"email": ["data-alerts@example.com", "oncall@example.com"]' in retrain
    assert '"email_on_failure": True' in retrain
    assert '"PROJECT_DIR": "/srv/ml"' in retrain and "append_env=True" in retrain
    assert "+%F" in retrain and "+\\%F" not in retrain.split("with DAG(")[1]
    assert "RETRIES = 1\n" in result.stdout
    assert 'MAILTO="" above this line' in blocks["line 23"]
    assert 'tz="America/New_York"' in blocks["line 31"]
    assert "{% raw %}echo" in blocks["line 31"]


def test_reboot_jobs_become_a_comment_and_a_warning(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = flowsched(
        "import-crontab", str(CRONTABS / "user_crontab"), "--out", str(out), "--dry-run"
    )

    assert result.exit_code == 0, result.output
    assert "# crontab line 18 is NOT imported: @reboot" in result.stdout
    assert "#   @reboot      /srv/ml/warm-cache.sh" in result.stdout
    assert result.stderr.splitlines() == [
        "Warning: line 18: @reboot job not imported (flowsched has no start-up trigger; the DAG "
        "file says what to do): /srv/ml/warm-cache.sh",
        f"Dry run: nothing written; this would be {out / 'user_crontab.py'}",
    ]
    assert not out.exists()


def test_files_under_etc_are_system_crontabs(home: Path, tmp_path: Path) -> None:
    etc = Path("/etc/cron.d/e2scrub_all")
    if not etc.exists():
        pytest.skip("this machine has no /etc/cron.d/e2scrub_all")
    result = flowsched("import-crontab", str(etc), "--out", str(tmp_path), "--timezone", "UTC")

    assert result.exit_code == 0, result.output
    source = (tmp_path / "e2scrub_all.py").read_text()
    assert '"owner": "root"' in source and "run by cron as root" in source


def test_an_existing_dag_file_is_never_overwritten_unasked(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "crontab.py"
    target.write_text("# my edits\n")

    refused = flowsched("import-crontab", "-", "--out", str(tmp_path), stdin="@daily true\n")
    forced = flowsched(
        "import-crontab", "-", "--out", str(tmp_path), "--force", stdin="@daily true\n"
    )

    assert refused.exit_code == 1
    assert refused.stderr == (
        f"Error: {target} exists; pass --force to replace it, or choose --prefix or --out\n"
    )
    assert forced.exit_code == 0 and 'schedule="@daily"' in target.read_text()


@pytest.mark.parametrize(
    ("args", "stdin", "error"),
    [
        ((), "0 1 * * * root\n", None),  # a user crontab: "root" is the command
        (("--system",), "0 1 * * * root\n", "Error: standard input: line 1: a system crontab"),
        ((), "0 61 * * * x\n", "Error: standard input: line 1: Invalid cron expression"),
        ((), "@reboot x\n", "Error: standard input: no job to import"),
        ((), "# nothing\n", "Error: standard input: no job to import"),
        ((), b"\xff\xfe0 1 * * * x\n", "Error: standard input: not a crontab (not UTF-8 text)"),
        (("--timezone", "Nowhere/Land"), "@daily x\n", "Error: standard input: --timezone: "),
    ],
)
def test_bad_input_is_one_error_line(
    home: Path, tmp_path: Path, args: tuple[str, ...], stdin: str | bytes | None, error: str | None
) -> None:
    result = flowsched("import-crontab", "--dry-run", *args, stdin=stdin)
    if error is None:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) <= 2  # a warning for @reboot, then the error
    assert result.stderr.splitlines()[-1].startswith(error)


def test_a_missing_file_is_one_error_line(home: Path) -> None:
    result = subprocess.run(
        [FLOWSCHED, "import-crontab", "/no/such/crontab"], capture_output=True, text=True
    )
    assert (result.returncode, result.stderr) == (
        1,
        "Error: No such file or directory: /no/such/crontab\n",
    )


def test_a_secret_in_the_crontab_is_flagged_not_hidden(home: Path) -> None:
    crontab = "DB_PASSWORD=hunter22\nAPI_TOKEN=abc\n@daily backup\n@hourly sync\n"
    result = flowsched("import-crontab", "-", "--dry-run", stdin=crontab)

    assert result.exit_code == 0, result.output
    assert '"DB_PASSWORD": "hunter22",  # a secret? use {{ var.value.db_password }}' in (
        result.stdout
    )
    assert result.stderr.splitlines()[:2] == [
        "Warning: DB_PASSWORD looks like a secret and is written into the DAG file, which the "
        "web UI shows to every viewer; consider a variable instead: {{ var.value.db_password }}",
        "Warning: API_TOKEN looks like a secret and is written into the DAG file, which the "
        "web UI shows to every viewer; consider a variable instead: {{ var.value.api_token }}",
    ]
