#!/usr/bin/env bash
# Build torchrig inside rattler-build's host prefix: pip + scikit-build-core,
# no build isolation (compile against the host's pytorch), no dependencies
# (the solver provides them). TORCHRIG_CUDA comes from recipe.yaml.
set -euxo pipefail

# Binding layer, from the torchrig_abi variant (recipe.yaml); pyproject.toml hands it to CMake.
case "${TORCHRIG_ABI:-classic}" in
  classic|stable) echo "recipe/build.sh: TORCHRIG_ABI=${TORCHRIG_ABI:-classic}" ;;
  *) echo "recipe/build.sh: TORCHRIG_ABI must be classic or stable, got '${TORCHRIG_ABI}'" >&2; exit 1 ;;
esac

if [[ "${TORCHRIG_CUDA}" == "ON" ]]; then
  # CUDA architectures, torchvision-feedstock style: an explicit override
  # (TORCHRIG_CUDA_ARCH_LIST, e.g. "9.0" for CI), else the list the host pytorch
  # was built for (CF_TORCH_CUDA_ARCH_LIST, set by its activation script), else the
  # toolkit's line of the one table (cmake/cuda-arch-lists.txt); an unknown toolkit
  # fails instead of silently compiling the wrong list.
  TORCH_CUDA_ARCH_LIST="${TORCHRIG_CUDA_ARCH_LIST:-${CF_TORCH_CUDA_ARCH_LIST:-}}"
  if [[ -z "${TORCH_CUDA_ARCH_LIST}" ]]; then
    TORCH_CUDA_ARCH_LIST=$(awk -v v="${TORCHRIG_CUDA_VERSION}" '$1 == v { print $2 }' \
                           "${SRC_DIR:-.}/cmake/cuda-arch-lists.txt")
  fi
  if [[ -z "${TORCH_CUDA_ARCH_LIST}" ]]; then
    echo "recipe/build.sh: no TORCH_CUDA_ARCH_LIST for CUDA ${TORCHRIG_CUDA_VERSION} in cmake/cuda-arch-lists.txt; add one" >&2
    exit 1
  fi
  export TORCH_CUDA_ARCH_LIST
  echo "recipe/build.sh: CUDA ${TORCHRIG_CUDA_VERSION}, TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST}"
fi

export CMAKE_GENERATOR=Ninja
export CMAKE_BUILD_PARALLEL_LEVEL="${CPU_COUNT:-2}"
"${PYTHON}" -m pip install . -vv --no-deps --no-build-isolation
