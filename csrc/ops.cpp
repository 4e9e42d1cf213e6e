// Every torchrig op schema, declared once. Kernels register per backend in
// csrc/cpu/*.cpp and csrc/cuda/*.cu; fake (meta) kernels and autograd are in
// python/torchrig/ops.py.
#include <torch/library.h>

TORCH_LIBRARY(torchrig, m) {
  m.def(
      "forward_kinematics(Tensor rotations, Tensor offsets, Tensor parents) "
      "-> Tensor");
  m.def(
      "forward_kinematics_backward(Tensor grad_transforms, Tensor rotations, "
      "Tensor offsets, Tensor parents, Tensor transforms) -> (Tensor, Tensor)");
  m.def(
      "skin(Tensor rest_vertices, Tensor transforms, Tensor indices, "
      "Tensor weights) -> Tensor");
  m.def(
      "skin_backward(Tensor grad_vertices, Tensor rest_vertices, "
      "Tensor transforms, Tensor indices, Tensor weights, bool[3] output_mask) "
      "-> (Tensor, Tensor, Tensor)");
}
