// Op schemas of the stable-ABI build, from the one list in ../schemas.h:
// `torchrig::*` (the public ops; their CPU/CUDA kernels are registered by
// python/torchrig/_stable.py, which raises TypeErrors as such) and
// `torchrig_kernels::*` (the same schemas; the C++ kernels of cpu_*.cpp and
// cuda_*.cu register here). Plus one plain C function, torchrig_cpu_isa.
#include <torch/csrc/stable/library.h>

#include "../schemas.h"
#include "launch/cpu_lanes.h"

/// The instruction set of the CPU skinning kernels chosen for this machine
/// (baseline, avx2, avx512; TORCHRIG_CPU_ISA caps it): the classic build's
/// _C.cpu_isa(), read by python/torchrig/_stable.py through ctypes.
extern "C" __attribute__((visibility("default"))) const char* torchrig_cpu_isa() {
  return torchrig::launch::lane_kernels_float().isa;
}

STABLE_TORCH_LIBRARY(torchrig, m) {
  for (const char* schema : torchrig::kOpSchemas) m.def(schema);
}

STABLE_TORCH_LIBRARY(torchrig_kernels, m) {
  for (const char* schema : torchrig::kOpSchemas) m.def(schema);
}
