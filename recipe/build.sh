#!/usr/bin/env bash
# Build torchrig inside rattler-build's host prefix: pip + scikit-build-core,
# no build isolation (compile against the host's pytorch), no dependencies
# (the solver provides them). TORCHRIG_CUDA comes from recipe.yaml.
set -euxo pipefail

if [[ "${TORCHRIG_CUDA}" == "ON" ]]; then
  # One arch list per CUDA toolkit, like conda-forge's pytorch builds; an
  # unknown toolkit fails instead of silently compiling the wrong list.
  case "${TORCHRIG_CUDA_VERSION}" in
    12.9) export TORCH_CUDA_ARCH_LIST="5.0;6.0;7.0;7.5;8.0;8.6;8.9;9.0;10.0;12.0+PTX" ;;
    13.0) export TORCH_CUDA_ARCH_LIST="7.5;8.0;8.6;8.9;9.0;10.0;11.0;12.0+PTX" ;;
    *)
      echo "recipe/build.sh: no TORCH_CUDA_ARCH_LIST for CUDA ${TORCHRIG_CUDA_VERSION}; add one" >&2
      exit 1
      ;;
  esac
fi

export CMAKE_GENERATOR=Ninja
export CMAKE_BUILD_PARALLEL_LEVEL="${CPU_COUNT:-2}"
"${PYTHON}" -m pip install . -vv --no-deps --no-build-isolation
