"""The oldest torch a stable-ABI torchrig build loads in: its one owner.

Read by CMake (``-DTORCH_TARGET_VERSION``), by the wheel's pin provider
(build_tools/torch_pin.py: ``torch>=2.10``) and by the import guard
(_guard.py), so the three never disagree. Pure Python, no imports: CMake and
the pin provider load this file by path, before torchrig is installed.
"""
from __future__ import annotations

STABLE_TORCH_TARGET: tuple[int, int] = (2, 10)


def target_str(target: tuple[int, int] = STABLE_TORCH_TARGET) -> str:
    """(2, 10) -> '2.10'."""
    return "{}.{}".format(*target)


def target_hex(target: tuple[int, int] = STABLE_TORCH_TARGET) -> str:
    """TORCH_TARGET_VERSION for the C++ headers: (2, 10) -> '0x020a000000000000'."""
    major, minor = target
    return f"0x{(major << 56) | (minor << 48):016x}"


if __name__ == "__main__":  # CMake: print the macro value and the dotted version
    print(target_hex())
    print(target_str())
