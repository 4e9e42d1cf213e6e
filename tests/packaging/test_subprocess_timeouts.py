"""Every command a test or a support module starts has a timeout (support.timeouts), so that
a hang fails its test by name instead of stalling CI until its 90-minute kill (issue 29)."""
from __future__ import annotations

import ast
import pathlib

TESTS = pathlib.Path(__file__).resolve().parents[1]
CALLS = {"run", "check_output", "check_call", "call"}


def calls_without_timeout(source: str) -> list[int]:
    """Lines of ``subprocess.run`` / ``check_output`` / ``check_call`` / ``call`` calls
    that pass no ``timeout=``."""
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "subprocess"
            and node.func.attr in CALLS and not any(k.arg == "timeout" for k in node.keywords)]


def test_the_rule_finds_a_call_without_timeout():
    assert calls_without_timeout("import subprocess\nsubprocess.run(['true'])\n") == [2]
    assert calls_without_timeout("import subprocess\nsubprocess.run(['true'], timeout=5)\n") == []


def test_every_subprocess_call_of_the_tests_has_a_timeout():
    missing = [f"{path.relative_to(TESTS.parent)}:{line}"
               for path in sorted(TESTS.rglob("*.py"))
               for line in calls_without_timeout(path.read_text())]
    assert not missing, ("subprocess calls without timeout= (pass support.timeouts.COMMAND_S): "
                         + ", ".join(missing))
