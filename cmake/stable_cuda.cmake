# The stable build's CUDA kernel library, one per CUDA major (included by cmake/stable.cmake
# when TORCHRIG_CUDA=ON): libtorchrig_stable_cuda<major>.so, next to libtorchrig_stable.so.
#
# It registers the CUDA kernels of `torchrig_kernels::*` (csrc/stable/*.cu; the schemas come
# from libtorchrig_stable.so, loaded first) and links torch's CUDA library and the CUDA
# runtime of nvcc's major (libcudart.so.<major>). python/torchrig/_stable.py loads it only
# when the running torch's torch.version.cuda has that major, so a CPU torch or a torch of
# another CUDA major never tries to resolve libcudart.so.<major> (no loader error); the
# release merges the libraries of several majors into one wheel (torchrig-release
# merge-wheels), as bitsandbytes ships one library per CUDA version in one wheel.
#
# Architectures: TORCH_CUDA_ARCH_LIST / TORCHRIG_ARCH_LIST when given, else the table's
# `wheel-cu<major>` line (cmake/cuda-arch-lists.txt: torch's own list for that CUDA major),
# else its default line.
#
# Inputs: _trs_torch_dir, _trs_libs, TORCHRIG_STABLE_SOURCES' helpers (cmake/stable.cmake).
# Output: target torchrig_stable_cuda<major>, TORCHRIG_CUDA_LIBRARY_RECORD
# ("<major>|<file>|<nvcc version>|<arch list, comma-separated>", for build_tools/write_build_info.py).

if(TORCHRIG_ARCH_LIST OR (DEFINED ENV{TORCH_CUDA_ARCH_LIST} AND NOT "$ENV{TORCH_CUDA_ARCH_LIST}" STREQUAL ""))
  set(_trsc_arch_given TRUE)
else()
  set(_trsc_arch_given FALSE)
endif()
include(cmake/cuda.cmake)  # nvcc of torch's CUDA major, the wheel's CUDA headers, TORCH_CUDA_ARCH_LIST
string(REGEX MATCH "^[0-9]+" _trsc_major "${CMAKE_CUDA_COMPILER_VERSION}")
if(NOT _trsc_arch_given)
  file(STRINGS "${CMAKE_CURRENT_LIST_DIR}/cuda-arch-lists.txt" _trsc_line REGEX "^wheel-cu${_trsc_major} ")
  if(_trsc_line)
    string(REGEX REPLACE "^wheel-cu${_trsc_major} +" "" _trsc_list "${_trsc_line}")
    set(TORCH_CUDA_ARCH_LIST "${_trsc_list}")
    set(TORCHRIG_ARCH_LIST "${TORCH_CUDA_ARCH_LIST}")
    message(STATUS "torchrig: CUDA ${_trsc_major} kernels for torch's own list "
                   "(cuda-arch-lists.txt wheel-cu${_trsc_major}): ${TORCH_CUDA_ARCH_LIST}")
  endif()
endif()

# TORCH_CUDA_ARCH_LIST ("9.0;12.0+PTX") as CMake architectures ("90-real;120"); file(STRINGS)
# keeps a line's semicolons escaped.
string(REPLACE "\\;" ";" TORCH_CUDA_ARCH_LIST "${TORCH_CUDA_ARCH_LIST}")
set(TORCHRIG_ARCH_LIST "${TORCH_CUDA_ARCH_LIST}")
set(_trsc_archs)
foreach(_a IN LISTS TORCH_CUDA_ARCH_LIST)
  string(REGEX MATCH "^([0-9]+)\\.([0-9]+)(\\+PTX)?$" _m "${_a}")
  if(NOT _m)
    message(FATAL_ERROR "torchrig: cannot read CUDA architecture '${_a}' of TORCH_CUDA_ARCH_LIST")
  endif()
  if(CMAKE_MATCH_3)
    list(APPEND _trsc_archs "${CMAKE_MATCH_1}${CMAKE_MATCH_2}")
  else()
    list(APPEND _trsc_archs "${CMAKE_MATCH_1}${CMAKE_MATCH_2}-real")
  endif()
endforeach()

find_library(_trsc_torch_cuda torch_cuda PATHS "${_trs_torch_dir}/lib" NO_DEFAULT_PATH REQUIRED)
file(GLOB _trsc_sources CONFIGURE_DEPENDS csrc/stable/*.cu)
set(_trsc_target torchrig_stable_cuda${_trsc_major})
# The checks and layouts the CUDA bindings share with the CPU ones are compiled in again:
# each library is loaded on its own (RTLD_LOCAL) and resolves only its own copy.
add_library(${_trsc_target} MODULE ${_trsc_sources}
  csrc/check_rules.cpp csrc/stable/binding.cpp csrc/stable/layout.cpp)
target_include_directories(${_trsc_target} PRIVATE csrc)
target_include_directories(${_trsc_target} SYSTEM PRIVATE "${_trs_torch_dir}/include")
# USE_CUDA declares the CUDA part of torch's C shim (current stream, guards).
target_compile_definitions(${_trsc_target} PRIVATE
  TORCH_TARGET_VERSION=${TORCHRIG_TORCH_TARGET_HEX} TORCHRIG_STABLE_ABI USE_CUDA TORCHRIG_WITH_CUDA)
target_link_libraries(${_trsc_target} PRIVATE ${_trs_libs} "${_trsc_torch_cuda}")
torchrig_manylinux_2_28(${_trsc_target})  # glibc symbol versions manylinux_2_28 allows
set_target_properties(${_trsc_target} PROPERTIES CUDA_ARCHITECTURES "${_trsc_archs}"
                                                 CUDA_RUNTIME_LIBRARY Shared)
target_compile_options(${_trsc_target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-lineinfo>)
install(TARGETS ${_trsc_target} LIBRARY DESTINATION torchrig)

string(REPLACE ";" "," _trsc_arch_text "${TORCH_CUDA_ARCH_LIST}")
set(TORCHRIG_CUDA_LIBRARY_RECORD
    "${_trsc_major}|lib${_trsc_target}.so|${CMAKE_CUDA_COMPILER_VERSION}|${_trsc_arch_text}")
