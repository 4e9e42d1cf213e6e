# CUDA toolchain for torchrig's TORCHRIG_CUDA=ON build (cmake/torch.cmake includes it
# before find_package(Torch); a CPU build never reads this file and needs no nvcc):
#   * torch is a CPU build: an error.
#   * torch is a CUDA build: nvcc of the same CUDA major (any minor) is located, the
#     arch list is chosen and the kernels compile.
#
# Works with a full toolkit (CUDA_HOME, conda's cuda-nvcc + dev packages) and
# with a minimal one (nvcc + cudart only, as on the CI machine): headers torch
# includes (cusparse.h, cublas_v2.h, ...) and libnvrtc are then taken from the
# torch wheel's nvidia packages (site-packages/nvidia/cu13/{include,lib}, or
# the per-library nvidia/<lib>/{include,lib} of CUDA 12 wheels).
#
# Inputs: TORCHRIG_CUDA, TORCHRIG_ARCH_LIST (pyproject passes the
# TORCH_CUDA_ARCH_LIST environment variable), Python_EXECUTABLE; optional
# CMAKE_CUDA_COMPILER / CUDACXX / CUDA_HOME / CUDA_PATH, CUDA_nvrtc_LIBRARY.
# Outputs: CUDA enabled, TORCH_CUDA_ARCH_LIST (read by torch's config) and
# TORCHRIG_ARCH_LIST (recorded in _build_info.json).

# The default line of the one arch-list table (cmake/cuda-arch-lists.txt).
file(STRINGS "${CMAKE_CURRENT_LIST_DIR}/cuda-arch-lists.txt" _trc_default_line REGEX "^default ")
string(REGEX REPLACE "^default +" "" _trc_default_list "${_trc_default_line}")
set(TORCHRIG_DEFAULT_ARCH_LIST "${_trc_default_list}" CACHE STRING
    "CUDA architectures compiled when TORCH_CUDA_ARCH_LIST is not set (cmake/cuda-arch-lists.txt)")

execute_process(
  COMMAND "${Python_EXECUTABLE}" -c
          "import os, torch; print(torch.version.cuda or ''); print(os.path.dirname(os.path.dirname(torch.__file__)))"
  OUTPUT_VARIABLE _trc_probe OUTPUT_STRIP_TRAILING_WHITESPACE
  COMMAND_ERROR_IS_FATAL ANY)
string(REPLACE "\n" ";" _trc_probe "${_trc_probe}")
list(GET _trc_probe 0 _trc_torch_cuda)
list(GET _trc_probe 1 _trc_site)

if(NOT _trc_torch_cuda)
  if(TORCHRIG_CUDA)
    message(FATAL_ERROR
      "TORCHRIG_CUDA=ON, but the torch imported by ${Python_EXECUTABLE} is a CPU-only "
      "build (torch.version.cuda is None). Install a CUDA build of torch in this "
      "environment (and build with --no-build-isolation), or build with TORCHRIG_CUDA=OFF.")
  endif()
  return()
endif()

# --- nvcc -------------------------------------------------------------------
if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
  # PATH, then CUDA_HOME (when set, it names the toolkit: /usr/local/cuda is not searched)
  # or CUDA_PATH and /usr/local/cuda; never CMake's system prefixes.
  if(NOT "$ENV{CUDA_HOME}" STREQUAL "")
    set(_trc_nvcc_hints "$ENV{CUDA_HOME}/bin")
  else()
    set(_trc_nvcc_hints "$ENV{CUDA_PATH}/bin" /usr/local/cuda/bin)
  endif()
  find_program(_trc_nvcc nvcc HINTS ${_trc_nvcc_hints} NO_CACHE NO_CMAKE_SYSTEM_PATH)
  if(NOT _trc_nvcc)
    string(REGEX MATCH "^[0-9]+" _trc_major "${_trc_torch_cuda}")
    message(FATAL_ERROR
      "TORCHRIG_CUDA=ON needs nvcc of CUDA ${_trc_major}.x (this torch was built with CUDA "
      "${_trc_torch_cuda}); none found on PATH, in $CUDA_HOME/bin, $CUDA_PATH/bin or "
      "/usr/local/cuda/bin. Install one of:\n"
      "  - a CUDA ${_trc_major}.x toolkit and set CUDA_HOME to it;\n"
      "  - the nvcc wheel: pip install 'nvidia-cuda-nvcc==${_trc_major}.*' and set "
      "CUDACXX to the nvcc it installs (site-packages/nvidia/cu${_trc_major}/bin/nvcc);\n"
      "or build the CPU flavour (TORCHRIG_CUDA=OFF), which needs no CUDA toolkit.")
  endif()
  set(CMAKE_CUDA_COMPILER "${_trc_nvcc}")
endif()
if(NOT CMAKE_CUDA_HOST_COMPILER)
  set(CMAKE_CUDA_HOST_COMPILER "${CMAKE_CXX_COMPILER}")
endif()
set(CMAKE_CUDA_STANDARD ${CMAKE_CXX_STANDARD})  # ATen needs C++20 in .cu too
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
enable_language(CUDA)
# torch's config chooses architectures from TORCH_CUDA_ARCH_LIST and warns if
# CMake's own CMAKE_CUDA_ARCHITECTURES is set; CMakeLists.txt sets it OFF after
# find_package(Torch).
unset(CMAKE_CUDA_ARCHITECTURES)
unset(CMAKE_CUDA_ARCHITECTURES CACHE)

# torch's FindCUDA must see the real toolkit (nvcc may be a wrapper script
# somewhere on PATH); CMake found the root while enabling CUDA.
set(CUDA_TOOLKIT_ROOT_DIR "${CMAKE_CUDA_COMPILER_TOOLKIT_ROOT}" CACHE PATH "CUDA toolkit")
set(CUDAToolkit_ROOT "${CMAKE_CUDA_COMPILER_TOOLKIT_ROOT}")

string(REGEX MATCH "^[0-9]+" _trc_nvcc_major "${CMAKE_CUDA_COMPILER_VERSION}")
string(REGEX MATCH "^[0-9]+" _trc_torch_major "${_trc_torch_cuda}")
if(TORCHRIG_CUDA AND NOT _trc_nvcc_major STREQUAL _trc_torch_major)
  message(FATAL_ERROR
    "nvcc ${CMAKE_CUDA_COMPILER_VERSION} (${CMAKE_CUDA_COMPILER}) cannot build kernels "
    "for torch built with CUDA ${_trc_torch_cuda}: the CUDA major versions differ. "
    "Point CUDA_HOME / CUDACXX at a CUDA ${_trc_torch_major}.x toolkit (any minor), or "
    "pip install 'nvidia-cuda-nvcc==${_trc_torch_major}.*' and set CUDACXX to its nvcc.")
endif()

# --- what a minimal toolkit lacks, from the torch wheel's nvidia packages ----
# ATen's CUDA headers include cusparse.h, cublas_v2.h, cusolverDn.h; torch's
# config links libnvrtc. Look in the toolkit and a conda host prefix first.
set(_trc_tk "${CMAKE_CUDA_COMPILER_TOOLKIT_ROOT}")
set(_trc_nv "${_trc_site}/nvidia")
set(_trc_prefixes "${_trc_tk}" "${_trc_tk}/targets/x86_64-linux" "${_trc_tk}/targets/sbsa-linux")
foreach(_p IN ITEMS "$ENV{PREFIX}" "$ENV{CONDA_PREFIX}")
  if(_p)
    list(APPEND _trc_prefixes "${_p}" "${_p}/targets/x86_64-linux" "${_p}/targets/sbsa-linux")
  endif()
endforeach()
find_path(_trc_cusparse_inc cusparse.h HINTS ${_trc_prefixes} PATH_SUFFIXES include NO_CACHE)
if(_trc_cusparse_inc)
  string(APPEND CMAKE_CUDA_FLAGS " -isystem \"${_trc_cusparse_inc}\"")
else()
  file(GLOB _trc_wheel_includes LIST_DIRECTORIES true
       "${_trc_nv}/cu[0-9]*/include" "${_trc_nv}/cublas/include"
       "${_trc_nv}/cusparse/include" "${_trc_nv}/cusolver/include"
       "${_trc_nv}/curand/include" "${_trc_nv}/cufft/include"
       "${_trc_nv}/cuda_nvrtc/include")
  if(_trc_wheel_includes)
    message(STATUS "torchrig: CUDA library headers from the torch wheel: ${_trc_wheel_includes}")
  elseif(TORCHRIG_CUDA)
    message(WARNING "torchrig: cusparse.h/cublas_v2.h not found in ${_trc_prefixes} nor "
                    "under ${_trc_nv}; compiling the CUDA kernels will fail. Install the CUDA "
                    "math library headers or set CUDA_HOME to a full toolkit.")
  endif()
  # -isystem keeps the toolkit's own headers first (same CUDA release).
  foreach(_dir IN LISTS _trc_wheel_includes)
    string(APPEND CMAKE_CUDA_FLAGS " -isystem \"${_dir}\"")
  endforeach()
endif()
if(NOT CUDA_nvrtc_LIBRARY)
  find_library(_trc_nvrtc nvrtc HINTS ${_trc_prefixes} PATH_SUFFIXES lib64 lib NO_CACHE)
  if(NOT _trc_nvrtc)
    file(GLOB _trc_nvrtc "${_trc_nv}/cu[0-9]*/lib/libnvrtc.so.[0-9]*"
                         "${_trc_nv}/cuda_nvrtc/lib/libnvrtc.so.[0-9]*")
    list(FILTER _trc_nvrtc EXCLUDE REGEX "libnvrtc-builtins|libnvrtc\\.alt")
  endif()
  if(_trc_nvrtc)
    list(GET _trc_nvrtc 0 _trc_nvrtc)
    set(CUDA_nvrtc_LIBRARY "${_trc_nvrtc}" CACHE FILEPATH "libnvrtc")
  else()
    message(WARNING "torchrig: libnvrtc not found in ${_trc_prefixes} nor under ${_trc_nv}; "
                    "if torch's config fails on CUDA::nvrtc, pass -DCUDA_nvrtc_LIBRARY=...")
  endif()
endif()

# --- architectures -------------------------------------------------------------
# Set even for TORCHRIG_CUDA=OFF: with an empty list torch's config would try
# to detect the local GPU by compiling and running a program.
if(TORCHRIG_ARCH_LIST)
  set(TORCH_CUDA_ARCH_LIST "${TORCHRIG_ARCH_LIST}")
elseif(DEFINED ENV{TORCH_CUDA_ARCH_LIST} AND NOT "$ENV{TORCH_CUDA_ARCH_LIST}" STREQUAL "")
  set(TORCH_CUDA_ARCH_LIST "$ENV{TORCH_CUDA_ARCH_LIST}")
else()
  set(TORCH_CUDA_ARCH_LIST "${TORCHRIG_DEFAULT_ARCH_LIST}")
endif()
string(REGEX REPLACE "[ ,]+" ";" TORCH_CUDA_ARCH_LIST "${TORCH_CUDA_ARCH_LIST}")
if(TORCHRIG_CUDA)
  set(TORCHRIG_ARCH_LIST "${TORCH_CUDA_ARCH_LIST}")
  message(STATUS "torchrig: CUDA kernels for TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST} "
                 "(nvcc ${CMAKE_CUDA_COMPILER_VERSION}, torch CUDA ${_trc_torch_cuda})")
endif()
