# Stable-ABI build of torchrig (TORCHRIG_ABI=stable), included by
# CMakeLists.txt instead of the classic build.
#
# libtorchrig_stable.so (schemas + CPU kernels) over torch's stable C API only
# (torch/csrc/stable, compiled with TORCH_TARGET_VERSION from
# python/torchrig/_stable_target.py): no pybind11, no CPython API, no c10/ATen
# C++ symbols, so it loads with torch.ops.load_library in every torch from the
# target on, under any Python. torch's headers and libraries are used directly
# (no find_package(Torch), whose config wants a CUDA toolkit for a CUDA torch
# even when no CUDA code is compiled).
#
# With TORCHRIG_CUDA=ON, also libtorchrig_stable_cuda<major>.so (cmake/stable_cuda.cmake):
# the CUDA kernels for nvcc's CUDA major, loaded by python/torchrig/_stable.py only when the
# running torch has that CUDA major. The release merges the libraries of several CUDA majors
# into one wheel (torchrig-release merge-wheels).
#
# Inputs: TORCHRIG_CUDA, TORCHRIG_ARCH_LIST (as for the classic build),
# TORCHRIG_LAUNCH_SOURCES (cmake/launch.cmake).

find_package(Python REQUIRED COMPONENTS Interpreter)
execute_process(
  COMMAND "${Python_EXECUTABLE}" -c
          "import os, torch; print(os.path.dirname(torch.__file__)); print(torch.__version__)"
  OUTPUT_VARIABLE _trs_probe OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
string(REPLACE "\n" ";" _trs_probe "${_trs_probe}")
list(GET _trs_probe 0 _trs_torch_dir)
list(GET _trs_probe 1 _trs_torch_version)
execute_process(
  COMMAND "${Python_EXECUTABLE}" "${CMAKE_CURRENT_SOURCE_DIR}/python/torchrig/_stable_target.py"
  OUTPUT_VARIABLE _trs_target OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
string(REPLACE "\n" ";" _trs_target "${_trs_target}")
list(GET _trs_target 0 TORCHRIG_TORCH_TARGET_HEX)
list(GET _trs_target 1 TORCHRIG_TORCH_TARGET)
if(_trs_torch_version VERSION_LESS TORCHRIG_TORCH_TARGET)
  message(FATAL_ERROR "TORCHRIG_ABI=stable targets torch ${TORCHRIG_TORCH_TARGET}, but the build "
                      "environment has torch ${_trs_torch_version}; install torch >= "
                      "${TORCHRIG_TORCH_TARGET} to compile against.")
endif()
message(STATUS "torchrig: stable ABI, TORCH_TARGET_VERSION=${TORCHRIG_TORCH_TARGET_HEX} "
               "(torch >= ${TORCHRIG_TORCH_TARGET}), headers of torch ${_trs_torch_version}")

set(_trs_libs)
foreach(_lib IN ITEMS torch_cpu c10)
  find_library(_trs_lib_${_lib} ${_lib} PATHS "${_trs_torch_dir}/lib" NO_DEFAULT_PATH REQUIRED)
  list(APPEND _trs_libs "${_trs_lib_${_lib}}")
endforeach()

set(TORCHRIG_STABLE_SOURCES
  ${TORCHRIG_LAUNCH_SOURCES}
  csrc/check_rules.cpp
  csrc/stable/binding.cpp
  csrc/stable/library.cpp
  csrc/stable/layout.cpp
  csrc/stable/cpu_fk.cpp
  csrc/stable/cpu_joint.cpp
  csrc/stable/cpu_skin.cpp)

add_library(torchrig_stable MODULE ${TORCHRIG_STABLE_SOURCES})
target_include_directories(torchrig_stable PRIVATE csrc)
target_include_directories(torchrig_stable SYSTEM PRIVATE "${_trs_torch_dir}/include")
target_compile_definitions(torchrig_stable PRIVATE
  TORCH_TARGET_VERSION=${TORCHRIG_TORCH_TARGET_HEX} TORCHRIG_STABLE_ABI)
target_link_libraries(torchrig_stable PRIVATE ${_trs_libs})
torchrig_manylinux_2_28(torchrig_stable)
# The CPU library never links torch's CUDA libraries (it loads beside any torch); CUDA
# kernels live in a library per CUDA major next to it (cmake/stable_cuda.cmake).
set(_trs_cuda_flag 0)
set(TORCHRIG_CUDA_LIBRARY_RECORD "")
if(TORCHRIG_CUDA)
  include(cmake/stable_cuda.cmake)
  set(_trs_cuda_flag 1)
endif()

execute_process(
  COMMAND "${Python_EXECUTABLE}" "${CMAKE_CURRENT_SOURCE_DIR}/build_tools/write_build_info.py"
          --out "${CMAKE_CURRENT_BINARY_DIR}/_build_info.json"
          --compiler "${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}"
          --cuda "${_trs_cuda_flag}"
          --nvcc "${CMAKE_CUDA_COMPILER_VERSION}"
          --arch-list "${TORCHRIG_ARCH_LIST}"
          --abi stable --stable-target "${TORCHRIG_TORCH_TARGET}"
          --cuda-library "${TORCHRIG_CUDA_LIBRARY_RECORD}"
  COMMAND_ERROR_IS_FATAL ANY)

install(TARGETS torchrig_stable LIBRARY DESTINATION torchrig)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/_build_info.json" DESTINATION torchrig)
