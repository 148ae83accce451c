"""``make graph``: the package -> package import edges, and the cycles among them."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "package_graph.py"
spec = importlib.util.spec_from_file_location("package_graph", SCRIPT)
package_graph = importlib.util.module_from_spec(spec)
spec.loader.exec_module(package_graph)


def test_modules_group_into_flowsched_packages_and_one_webui():
    assert package_graph.package_of("flowsched.runner.queued_try") == "flowsched.runner"
    assert package_graph.package_of("flowsched.config") == "flowsched.config"
    assert package_graph.package_of("webui.api.v1.dags") == "webui"


def test_cycles_are_the_groups_that_reach_each_other():
    edges = {("a", "b"): 1, ("b", "c"): 2, ("c", "a"): 1, ("c", "d"): 1, ("e", "d"): 1}
    assert package_graph.cycles(edges) == [["a", "b", "c"]]
    assert package_graph.cycles({("a", "b"): 1}) == []


def test_the_script_prints_one_line_per_edge_then_the_count():
    out = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=120, check=True
    ).stdout.splitlines()
    assert "flowsched.runner -> flowsched.db" in "\n".join(out)
    count = next(line for line in out if line.endswith(" edges"))
    assert int(count.split()[0]) == sum(" -> " in line for line in out)
