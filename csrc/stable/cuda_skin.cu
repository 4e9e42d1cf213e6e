// Stable-ABI CUDA binding of sparse linear-blend skinning: the checks of
// binding.h, device guard, contiguous layout and outputs (layout.h), then
// ../launch/cuda_skin.cuh on torch's current stream (stream.h).
#include <vector>

#include "binding.h"
#include "launch/cuda_skin.cuh"
#include "layout.h"
#include "stream.h"

namespace torchrig::stable {
namespace {

Tensor skin_cuda(Tensor rest_vertices, Tensor transforms, Tensor indices, Tensor weights) {
  const SkinShape s = check_skin_inputs(rest_vertices, transforms, indices, weights);
  const int32_t device = transforms.get_device_index();
  const torch::stable::accelerator::DeviceGuard guard(device);
  const SkinTensors in = skin_tensors(s, rest_vertices, transforms, indices, weights);
  Tensor out = alloc(in.tf, {s.B, s.V, 3});
  dispatch_floating(in.tf.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    launch::skin_forward_cuda<scalar_t>(current_stream(device), device, in, out);
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
  const SkinTensors in = skin_tensors(s, rest_vertices, transforms, indices, weights);
  const Tensor g = as_contiguous(grad_vertices);
  const bool want_rest = output_mask[0], want_w = output_mask[2];
  SkinGradTensors out = skin_grad_tensors(s, in, want_rest, want_w);
  const launch::SkinVertexSplit split = launch::skin_vertex_split(device, in.d, want_rest, want_w);
  Tensor rest_out = split.partial_rest ? alloc(in.tf, {split.used, s.V, 3}) : out.rest;
  Tensor w_out = split.partial_w ? alloc(in.tf, {split.used, s.V, s.K}) : out.w;
  dispatch_floating(in.tf.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    launch::skin_backward_cuda<scalar_t>(current_stream(device), device, split, in, g, out,
                                         rest_out, w_out, output_mask);
  });
  if (split.partial_rest) sum0_out(out.rest, rest_out);
  if (split.partial_w) sum0_out(out.w, w_out);
  return {out.rest, out.tf, out.w};
}

}  // namespace

STABLE_TORCH_LIBRARY_IMPL(torchrig_kernels, CUDA, m) {
  m.impl("skin", TORCH_BOX(&skin_cuda));
  m.impl("skin_backward", TORCH_BOX(&skin_backward_cuda));
}

}  // namespace torchrig::stable
