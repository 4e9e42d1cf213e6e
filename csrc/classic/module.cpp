// The plain Python module torchrig._C. Importing it loads the library, which
// registers the ops (csrc/classic/ops.cpp) under torch.ops.torchrig. Its own bindings
// only report how the library was built and which CPU kernels it runs.
#include <pybind11/pybind11.h>
#include <torch/version.h>

#include <string>

#include "launch/cpu_lanes.h"

namespace {

std::string compiled_torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." +
         std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

bool compiled_with_cuda() {
#ifdef TORCHRIG_WITH_CUDA
  return true;
#else
  return false;
#endif
}

// The instruction set of the CPU skinning kernels chosen for this machine.
std::string cpu_isa() { return torchrig::launch::lane_kernels_float().isa; }

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "torchrig native library (ops are under torch.ops.torchrig)";
  m.def("compiled_torch_version", &compiled_torch_version,
        "The torch version (X.Y.Z) from the TORCH_VERSION macros at compile time.");
  m.def("compiled_with_cuda", &compiled_with_cuda,
        "Whether the CUDA kernels were compiled into this library.");
  m.def("cpu_isa", &cpu_isa,
        "Instruction set of the batched CPU skinning kernels on this machine "
        "(baseline, avx2, avx512; TORCHRIG_CPU_ISA caps it).");
}
