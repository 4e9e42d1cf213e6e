"""python/torchrig_release/machine.py owns the torch versions of this kind of machine; the copies
that cannot import it (a shell script, a workflow) read it or are checked against it here."""
from __future__ import annotations

import ast
import re
import subprocess

import yaml

from torchrig_release import machine
from torchrig_release.paths import REPO
from support.timeouts import COMMAND_S

MODULE = REPO / "python" / "torchrig_release" / "machine.py"


def test_tools_dev_setup_reads_the_build_torch_from_machine_py():
    script = (REPO / "tools" / "dev-setup").read_text()
    assert "python/torchrig_release/machine.py" in script and machine.BUILD_TORCH not in script
    # the line it runs, by path and before anything is installed (so: no imports in machine.py)
    assert not [n for n in ast.walk(ast.parse(MODULE.read_text())) if isinstance(n, (ast.Import, ast.ImportFrom))]
    line = re.search(r"\$\(\"\$PY\" (-c '[^']*') \\\n\s*(\S+)\)", script)
    assert line, "tools/dev-setup: the BUILD_TORCH line changed shape"
    out = subprocess.run(["python3", "-c", line.group(1)[4:-1], line.group(2)], cwd=REPO,
                         capture_output=True, text=True, check=True, timeout=COMMAND_S).stdout.strip()
    assert out == machine.BUILD_TORCH


def test_ci_installs_the_machines_build_torch():
    """GitHub's runner installs the same CPU torch as .venv here (from PyTorch's CPU index)."""
    ci = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text())
    specs = [step["env"]["TORCH_SPEC"] for job in ci["jobs"].values() for step in job.get("steps", [])
             if "TORCH_SPEC" in step.get("env", {})]
    assert specs == [f"torch=={machine.BUILD_TORCH}+cpu"]


def test_no_test_or_tool_writes_the_machine_torches_as_constants():
    """`NAME = "2.14.1"` (or a tuple of them) outside machine.py: read machine.py instead. (The
    unit tests' build records and version strings are examples, not this machine's torches.)"""
    versions = {machine.BUILD_TORCH, machine.CUDA_TORCH, machine.NEWEST_TORCH}
    found = []
    for path in [*(REPO / "tests" / "packaging").rglob("*.py"), *(REPO / "tests" / "support").rglob("*.py"),
                 *(REPO / "python" / "torchrig_release").rglob("*.py")]:
        if path == MODULE or "__pycache__" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) and t.id.isupper() for t in node.targets):
                values = [c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant)]
                if versions & set(values):
                    found.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert found == [], found
