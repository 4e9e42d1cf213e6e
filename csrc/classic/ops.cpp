// Every torchrig op schema, registered once from csrc/schemas.h (the stable
// build registers the same list in csrc/stable/library.cpp). Kernels register
// per backend in cpu_*.cpp and cuda_*.cu beside this file; the forward ops' autograd
// in autograd.cpp; fake (meta) kernels and the backward ops' autograd are in
// python/torchrig/ops.py.
#include <torch/library.h>

#include "schemas.h"

TORCH_LIBRARY(torchrig, m) {
  for (const char* schema : torchrig::kOpSchemas) m.def(schema);
}
