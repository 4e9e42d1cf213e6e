# The binding-neutral sources of csrc/launch that both builds (classic and
# stable) compile: the batch-in-lanes CPU skinning kernels, once per x86
# instruction set and chosen at run time (csrc/launch/cpu_lanes_dispatch.cpp).
# Only these files get -m flags: they include no torch headers, so no AVX code
# can leak into the rest of the library, and the shipped binary still runs on
# any x86-64 (never -march=native).
#
# Output: TORCHRIG_LAUNCH_SOURCES.

set(TORCHRIG_LAUNCH_SOURCES
  csrc/launch/cpu_lanes_dispatch.cpp
  csrc/launch/cpu_lanes_baseline.cpp)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$" AND
   CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  list(APPEND TORCHRIG_LAUNCH_SOURCES csrc/launch/cpu_lanes_avx2.cpp csrc/launch/cpu_lanes_avx512.cpp)
  set_source_files_properties(csrc/launch/cpu_lanes_avx2.cpp PROPERTIES
    COMPILE_OPTIONS "-mavx2;-mfma")
  set_source_files_properties(csrc/launch/cpu_lanes_avx512.cpp PROPERTIES
    COMPILE_OPTIONS "-mavx2;-mfma;-mavx512f;-mavx512vl;-mavx512bw;-mavx512dq;-mprefer-vector-width=512")
  set_source_files_properties(csrc/launch/cpu_lanes_dispatch.cpp PROPERTIES
    COMPILE_DEFINITIONS TORCHRIG_HAVE_ISA_KERNELS)
endif()
