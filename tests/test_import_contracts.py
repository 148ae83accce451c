"""The layering contracts of pyproject.toml hold, and a forbidden import breaks them.

``make lint`` runs ``lint-imports`` on the tree; these tests show that the contracts bite:
forbidden imports added to a copy of the tree must break every contract, each by name.
Only the packages and pyproject.toml are copied: a run takes a few seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


FORBIDDEN = {  # module of the tree -> an import its contract forbids
    "webui/logs.py": "flowsched.runner.queued_try",
    "flowsched/scheduling/loop.py": "flowsched.runner.loader",
    "flowsched/db/states.py": "flowsched.scheduling.runs",
    "flowsched/cli/dags.py": "webui.queries.grid",
    "flowsched/timetables/cron.py": "flowsched.db.tables",
    "flowsched/masking.py": "flowsched.notify.events",
}
BROKEN = [
    "Data flows one way",
    "The web UI never imports the runner",
    "The scheduler never imports the runner or the parser",
    "The ORM (flowsched.db) imports only",
    "Timetables are pure date arithmetic",
    "The CLI and the web UI never import each other",
    "No import cycle between flowsched's packages",
]


def test_the_tree_keeps_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_forbidden_imports_break_their_contracts(tmp_path):
    for package in ("flowsched", "webui"):
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for module, forbidden in FORBIDDEN.items():
        with (tmp_path / module).open("a") as file:
            file.write(f"\nimport {forbidden}  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    report = result.stdout.split("Broken contracts")[-1]
    assert [name for name in BROKEN if name not in report] == [], result.stdout


def test_the_architecture_page_shows_the_layers_as_the_contract_states_them():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    [layers] = [contract["layers"] for contract in contracts if contract["id"] == "layers"]
    section = (ROOT / "docs" / "architecture.md").read_text().split("\n## Layers", 1)[1]
    shown = section.split("```\n", 2)[1]
    assert shown.splitlines() == layers
