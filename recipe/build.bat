:: Windows build of torchrig (CPU flavour only; recipe.yaml skips CUDA on win).
:: Same as build.sh: pip + scikit-build-core against the host's pytorch.
@echo on
if "%TORCHRIG_CUDA%"=="ON" (
  echo recipe\build.bat: CUDA builds on Windows are not in the matrix 1>&2
  exit 1
)
set CMAKE_GENERATOR=Ninja
set CMAKE_BUILD_PARALLEL_LEVEL=%CPU_COUNT%
"%PYTHON%" -m pip install . -vv --no-deps --no-build-isolation
if errorlevel 1 exit 1
