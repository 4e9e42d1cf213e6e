// Stable-ABI CPU binding of sparse linear-blend skinning: the checks of
// binding.h, contiguous layout and outputs (layout.h), then the launch plan of
// ../launch/cpu_skin.h on torch's thread pool (pool.h).
#include <vector>

#include "binding.h"
#include "launch/cpu_skin.h"
#include "layout.h"
#include "pool.h"

namespace torchrig::stable {
namespace {

Tensor skin_cpu(Tensor rest_vertices, Tensor transforms, Tensor indices, Tensor weights) {
  const SkinShape s = check_skin_inputs(rest_vertices, transforms, indices, weights);
  const SkinTensors in = skin_tensors(s, rest_vertices, transforms, indices, weights);
  Tensor out = alloc(in.tf, {s.B, s.V, 3});
  dispatch_floating(in.tf.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    launch::skin_forward<scalar_t>(StablePool{}, in, out);
  });
  return out;
}

std::tuple<Tensor, Tensor, Tensor> skin_backward_cpu(Tensor grad_vertices, Tensor rest_vertices,
                                                     Tensor transforms, Tensor indices,
                                                     Tensor weights,
                                                     std::vector<bool> output_mask) {
  const SkinShape s =
      check_skin_backward_inputs(grad_vertices, rest_vertices, transforms, indices, weights);
  const SkinTensors in = skin_tensors(s, rest_vertices, transforms, indices, weights);
  const Tensor g = as_contiguous(grad_vertices);
  const SkinGradTensors out = skin_grad_tensors(s, in, output_mask[0], output_mask[2]);
  dispatch_floating(in.tf.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    launch::skin_backward<scalar_t>(StablePool{}, in, g, out, output_mask);
  });
  return {out.rest, out.tf, out.w};
}

}  // namespace

STABLE_TORCH_LIBRARY_IMPL(torchrig_kernels, CPU, m) {
  m.impl("skin", TORCH_BOX(&skin_cpu));
  m.impl("skin_backward", TORCH_BOX(&skin_backward_cpu));
}

}  // namespace torchrig::stable
