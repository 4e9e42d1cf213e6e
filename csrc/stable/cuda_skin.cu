// Stable-ABI CUDA binding of sparse linear-blend skinning: the checks of
// binding.h, device guard, contiguous inputs, outputs, then
// ../launch/cuda_skin.cuh on torch's current stream (stream.h).
#include <vector>

#include "binding.h"
#include "launch/cuda_skin.cuh"
#include "launch/dims.h"
#include "stream.h"

namespace torchrig::stable {
namespace {

Tensor skin_cuda(Tensor rest_vertices, Tensor transforms, Tensor indices, Tensor weights) {
  const SkinShape s = check_skin_inputs(rest_vertices, transforms, indices, weights);
  const int32_t device = transforms.get_device_index();
  const torch::stable::accelerator::DeviceGuard guard(device);
  const Tensor rest = as_contiguous(rest_vertices), tf = as_contiguous(transforms);
  const Tensor idx = as_contiguous(indices), w = as_contiguous(weights);
  Tensor out = alloc(tf, {s.B, s.V, 3});
  dispatch_floating(tf.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    launch::skin_forward_cuda(current_stream(device), device, launch::skin_dims(s),
                              rest.const_data_ptr<scalar_t>(), tf.const_data_ptr<scalar_t>(),
                              idx.const_data_ptr<int64_t>(), w.const_data_ptr<scalar_t>(),
                              out.mutable_data_ptr<scalar_t>());
  });
  return out;
}

std::tuple<Tensor, Tensor, Tensor> skin_backward_cuda(Tensor grad_vertices, Tensor rest_vertices,
                                                      Tensor transforms, Tensor indices,
                                                      Tensor weights,
                                                      std::vector<bool> output_mask) {
  const SkinShape s =
      check_skin_backward_inputs(grad_vertices, rest_vertices, transforms, indices, weights);
  const int32_t device = transforms.get_device_index();
  const torch::stable::accelerator::DeviceGuard guard(device);
  const kernels::SkinDims d = launch::skin_dims(s);
  const Tensor rest = as_contiguous(rest_vertices), tf = as_contiguous(transforms);
  const Tensor idx = as_contiguous(indices), w = as_contiguous(weights);
  const Tensor g = as_contiguous(grad_vertices);
  const bool want_rest = output_mask[0], want_w = output_mask[2];
  const launch::SkinGradZeros zeros = launch::skin_grad_zeros(s, want_rest, want_w);
  Tensor grad_rest = grad_buffer(rest, zeros.rest);
  Tensor grad_tf = grad_buffer(tf, zeros.transforms);
  Tensor grad_w = grad_buffer(w, zeros.weights);
  const launch::SkinVertexSplit split = launch::skin_vertex_split(device, d, want_rest, want_w);
  Tensor rest_out = split.partial_rest ? alloc(tf, {split.used, s.V, 3}) : grad_rest;
  Tensor w_out = split.partial_w ? alloc(tf, {split.used, s.V, s.K}) : grad_w;
  dispatch_floating(tf.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    launch::skin_backward_cuda(
        current_stream(device), device, d, split, g.const_data_ptr<scalar_t>(),
        rest.const_data_ptr<scalar_t>(), tf.const_data_ptr<scalar_t>(),
        idx.const_data_ptr<int64_t>(), w.const_data_ptr<scalar_t>(),
        want_rest ? rest_out.mutable_data_ptr<scalar_t>() : nullptr,
        want_w ? w_out.mutable_data_ptr<scalar_t>() : nullptr,
        output_mask[1] ? grad_tf.mutable_data_ptr<scalar_t>() : nullptr);
  });
  if (split.partial_rest) sum0_out(grad_rest, rest_out);
  if (split.partial_w) sum0_out(grad_w, w_out);
  return {grad_rest, grad_tf, grad_w};
}

}  // namespace

STABLE_TORCH_LIBRARY_IMPL(torchrig_kernels, CUDA, m) {
  m.impl("skin", TORCH_BOX(&skin_cuda));
  m.impl("skin_backward", TORCH_BOX(&skin_backward_cuda));
}

}  // namespace torchrig::stable
