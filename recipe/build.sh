#!/usr/bin/env bash
# Build torchrig inside rattler-build's host prefix: pip + scikit-build-core,
# no build isolation (compile against the host's pytorch), no dependencies
# (the solver provides them). TORCHRIG_CUDA comes from recipe.yaml.
set -euxo pipefail

if [[ "${TORCHRIG_CUDA}" == "ON" ]]; then
  # CUDA architectures, torchvision-feedstock style: an explicit override
  # (TORCHRIG_CUDA_ARCH_LIST, e.g. "9.0" for CI), else the list the host pytorch
  # was built for (CF_TORCH_CUDA_ARCH_LIST, set by its activation script). With
  # neither, cmake/cuda.cmake's TORCHRIG_DEFAULT_ARCH_LIST (the one table) applies.
  export TORCH_CUDA_ARCH_LIST="${TORCHRIG_CUDA_ARCH_LIST:-${CF_TORCH_CUDA_ARCH_LIST:-}}"
  echo "recipe/build.sh: CUDA ${TORCHRIG_CUDA_VERSION}, TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-<cmake/cuda.cmake default>}"
fi

export CMAKE_GENERATOR=Ninja
export CMAKE_BUILD_PARALLEL_LEVEL="${CPU_COUNT:-2}"
"${PYTHON}" -m pip install . -vv --no-deps --no-build-isolation
