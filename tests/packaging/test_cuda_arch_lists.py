"""The one CUDA arch-list table (cmake/cuda-arch-lists.txt) and its readers agree.

recipe/build.sh reads a toolkit's line, cmake/cuda.cmake the default line, README quotes
the default; the recipe's CUDA variants must each have a line.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from torchrig_release import conda_forge, variants
from torchrig_release.paths import REPO
from support.timeouts import COMMAND_S

TABLE = REPO / "cmake" / "cuda-arch-lists.txt"
ARCH_LIST = re.compile(r"^\d+\.\d+(\+PTX)?(;\d+\.\d+(\+PTX)?)*$")


def table() -> dict[str, str]:
    rows = conda_forge.arch_table(TABLE)  # the tool's one reader (refuses a malformed line)
    assert all(ARCH_LIST.match(arch) for arch in rows.values()), rows
    return rows


def test_every_cuda_variant_has_an_arch_list():
    cudas = [c for c in variants.matrix()["cuda_compiler_version"] if c != "None"]
    assert cudas and set(cudas) <= set(table())


def test_toolkit_lines_are_conda_forge_pytorchs_arch_lists():
    """recipe/conda-forge-facts.yaml: CF_TORCH_CUDA_ARCH_LIST of conda-forge's linux-64 pytorch."""
    from torchrig_release import conda_forge

    cudas = [c for c in variants.matrix()["cuda_compiler_version"] if c != "None"]
    assert {c: table()[c] for c in cudas} == {c: conda_forge.cuda_arch_list(c) for c in cudas}
    assert conda_forge.arch_table() == table()


def test_readme_quotes_the_default():
    assert f"the default arch list is `{table()['default']}`" in (REPO / "README.md").read_text()


def test_cmake_reads_the_default_from_the_table():
    text = (REPO / "cmake" / "cuda.cmake").read_text()
    assert "cuda-arch-lists.txt" in text and not re.search(r"\d+\.\d+;\d+\.\d+", text)


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("awk") is None, reason="needs bash, awk")
@pytest.mark.parametrize("cuda", ["12.9", "13.0", "99.9"])
def test_build_sh_picks_the_table_line_or_fails(cuda, tmp_path):
    """recipe/build.sh up to the pip call: its TORCH_CUDA_ARCH_LIST, or a clear failure."""
    script = (REPO / "recipe" / "build.sh").read_text().split("export CMAKE_GENERATOR")[0]
    script += 'echo "ARCH=${TORCH_CUDA_ARCH_LIST}"\n'
    env = {**os.environ, "TORCHRIG_CUDA": "ON", "TORCHRIG_CUDA_VERSION": cuda, "SRC_DIR": str(REPO)}
    proc = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=COMMAND_S)
    if cuda in table():
        assert proc.returncode == 0, proc.stderr
        assert f"ARCH={table()[cuda]}" in proc.stdout
    else:
        assert proc.returncode == 1 and f"no TORCH_CUDA_ARCH_LIST for CUDA {cuda}" in proc.stderr
