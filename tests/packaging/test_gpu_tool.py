"""The test-gpu verb: refuses to pass without a GPU; the memcheck command line."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from torchrig_release import test_gpu as tool


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
@pytest.mark.parametrize("extra", [[], ["--memcheck"]])
def test_fails_loudly_without_a_gpu(extra):
    result = subprocess.run([sys.executable, "-m", "torchrig_release", "test-gpu", *extra],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "no CUDA device is visible" in result.stderr


def test_memcheck_command_covers_the_op_tests_with_the_allocator_off():
    sanitizer = "/opt/cuda/bin/compute-sanitizer"  # an example path, never read
    argv, env = tool.memcheck_command(sanitizer, ["-x"])
    assert argv[:4] == [sanitizer, "--tool", "memcheck", "--error-exitcode"]
    assert argv[argv.index("gpu") - 1] == "-m" and argv[-1] == "-x"
    for name in tool.SANITIZER_TESTS:
        assert str(tool.ROOT / name) in argv and (tool.ROOT / name).is_file()
    assert env["PYTORCH_NO_CUDA_MEMORY_CACHING"] == "1"
