// Op schemas of the stable-ABI build, from the one list in ../schemas.h:
// `torchrig::*` (the public ops; their CPU/CUDA kernels are registered by
// python/torchrig/_stable.py, which raises TypeErrors as such) and
// `torchrig_kernels::*` (the same schemas; the C++ kernels of cpu_*.cpp and
// cuda_*.cu register here).
#include <torch/csrc/stable/library.h>

#include "../schemas.h"

STABLE_TORCH_LIBRARY(torchrig, m) {
  for (const char* schema : torchrig::kOpSchemas) m.def(schema);
}

STABLE_TORCH_LIBRARY(torchrig_kernels, m) {
  for (const char* schema : torchrig::kOpSchemas) m.def(schema);
}
