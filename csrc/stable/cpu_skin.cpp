// Stable-ABI CPU binding of sparse linear-blend skinning: the checks of
// binding.h, contiguous inputs, outputs, then the launch plan of
// ../launch/cpu_skin.h on torch's thread pool (pool.h).
#include <vector>

#include "binding.h"
#include "launch/cpu_skin.h"
#include "launch/dims.h"
#include "pool.h"

namespace torchrig::stable {
namespace {

Tensor skin_cpu(Tensor rest_vertices, Tensor transforms, Tensor indices, Tensor weights) {
  const SkinShape s = check_skin_inputs(rest_vertices, transforms, indices, weights);
  const Tensor rest = as_contiguous(rest_vertices), tf = as_contiguous(transforms);
  const Tensor idx = as_contiguous(indices), w = as_contiguous(weights);
  Tensor out = alloc(tf, {s.B, s.V, 3});
  dispatch_floating(tf.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    launch::skin_forward(StablePool{}, launch::skin_dims(s), rest.const_data_ptr<scalar_t>(),
                         tf.const_data_ptr<scalar_t>(), idx.const_data_ptr<int64_t>(),
                         w.const_data_ptr<scalar_t>(), out.mutable_data_ptr<scalar_t>());
  });
  return out;
}

std::tuple<Tensor, Tensor, Tensor> skin_backward_cpu(Tensor grad_vertices, Tensor rest_vertices,
                                                     Tensor transforms, Tensor indices,
                                                     Tensor weights,
                                                     std::vector<bool> output_mask) {
  const SkinShape s =
      check_skin_backward_inputs(grad_vertices, rest_vertices, transforms, indices, weights);
  const kernels::SkinDims d = launch::skin_dims(s);
  const Tensor rest = as_contiguous(rest_vertices), tf = as_contiguous(transforms);
  const Tensor idx = as_contiguous(indices), w = as_contiguous(weights);
  const Tensor g = as_contiguous(grad_vertices);
  const launch::SkinGradZeros zeros = launch::skin_grad_zeros(s, output_mask[0], output_mask[2]);
  Tensor grad_rest = grad_buffer(rest, zeros.rest);
  Tensor grad_tf = grad_buffer(tf, zeros.transforms);
  Tensor grad_w = grad_buffer(w, zeros.weights);
  dispatch_floating(tf.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    const scalar_t* G = g.const_data_ptr<scalar_t>();
    const scalar_t* x = rest.const_data_ptr<scalar_t>();
    const int64_t* I = idx.const_data_ptr<int64_t>();
    const scalar_t* W = w.const_data_ptr<scalar_t>();
    launch::skin_grad_vertices(StablePool{}, d, G, x, tf.const_data_ptr<scalar_t>(), I, W,
                               output_mask[0] ? grad_rest.mutable_data_ptr<scalar_t>() : nullptr,
                               output_mask[2] ? grad_w.mutable_data_ptr<scalar_t>() : nullptr);
    if (output_mask[1])
      launch::skin_grad_transforms(StablePool{}, d, G, x, I, W,
                                   grad_tf.mutable_data_ptr<scalar_t>());
  });
  return {grad_rest, grad_tf, grad_w};
}

}  // namespace

STABLE_TORCH_LIBRARY_IMPL(torchrig_kernels, CPU, m) {
  m.impl("skin", TORCH_BOX(&skin_cpu));
  m.impl("skin_backward", TORCH_BOX(&skin_backward_cpu));
}

}  // namespace torchrig::stable
