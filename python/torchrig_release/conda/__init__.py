"""Conda side of the release: rendering the matrix (render), building with rattler-build (build),
local channels (channel), py-rattler's coroutines run safely (rattler_async)."""
