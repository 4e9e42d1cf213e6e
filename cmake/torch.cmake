# torch for torchrig's CMake: the target torchrig::torch (headers, libraries, ABI flag).
#   * TORCHRIG_CUDA=OFF: torch's include and library folders are used directly (as
#     torch.utils.cpp_extension does), never torch's CMake config: that config, for a
#     CUDA build of torch (PyPI's Linux torch), demands nvcc even for CPU-only code.
#     The library links libtorch, libtorch_cpu and libc10 only, so it loads in a CPU
#     and in a CUDA torch of the same minor version.
#   * TORCHRIG_CUDA=ON: the CUDA toolchain (cmake/cuda.cmake), then find_package(Torch).
# Inputs: TORCHRIG_CUDA, Python_EXECUTABLE. Output: the INTERFACE target torchrig::torch.
add_library(torchrig_torch INTERFACE)
add_library(torchrig::torch ALIAS torchrig_torch)

if(TORCHRIG_CUDA)
  include(${CMAKE_CURRENT_LIST_DIR}/cuda.cmake)
  find_package(Torch REQUIRED)
  target_link_libraries(torchrig_torch INTERFACE ${TORCH_LIBRARIES})
  return()
endif()

execute_process(
  COMMAND "${Python_EXECUTABLE}" -c [=[
import os, torch
from torch.utils import cpp_extension
print(";".join(cpp_extension.include_paths()))
print(os.path.join(os.path.dirname(torch.__file__), "lib"))
print(int(torch._C._GLIBCXX_USE_CXX11_ABI))
print(torch.__version__)
]=]
  OUTPUT_VARIABLE _trt_probe OUTPUT_STRIP_TRAILING_WHITESPACE
  COMMAND_ERROR_IS_FATAL ANY)
string(REPLACE "\n" "|" _trt_probe "${_trt_probe}")
# Fields split on "|" (the first is itself a ;-list).
string(REGEX MATCH "^([^|]*)\\|([^|]*)\\|([01])\\|(.*)$" _trt_ok "${_trt_probe}")
if(NOT _trt_ok)
  message(FATAL_ERROR "torchrig: could not read torch's paths from ${Python_EXECUTABLE}: ${_trt_probe}")
endif()
set(_trt_includes "${CMAKE_MATCH_1}")
set(_trt_libdir "${CMAKE_MATCH_2}")
set(_trt_abi "${CMAKE_MATCH_3}")
set(TORCHRIG_TORCH_VERSION "${CMAKE_MATCH_4}")

set(_trt_libs "")
foreach(_lib IN ITEMS torch torch_cpu c10)
  find_library(_trt_lib_${_lib} ${_lib} PATHS "${_trt_libdir}" NO_DEFAULT_PATH NO_CACHE)
  if(NOT _trt_lib_${_lib})
    message(FATAL_ERROR "torchrig: lib${_lib}.so not found in ${_trt_libdir} (torch ${TORCHRIG_TORCH_VERSION}); "
                        "reinstall torch in the environment of ${Python_EXECUTABLE}")
  endif()
  list(APPEND _trt_libs "${_trt_lib_${_lib}}")
endforeach()
target_include_directories(torchrig_torch SYSTEM INTERFACE ${_trt_includes})
target_link_libraries(torchrig_torch INTERFACE ${_trt_libs})
target_compile_definitions(torchrig_torch INTERFACE _GLIBCXX_USE_CXX11_ABI=${_trt_abi})
message(STATUS "torchrig: CPU build against torch ${TORCHRIG_TORCH_VERSION} (${_trt_libdir}); "
               "no CUDA toolkit needed")
