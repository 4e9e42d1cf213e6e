// Classic CUDA binding of sparse linear-blend skinning: checks (checks.h),
// device guard, contiguous layout (layout.h), outputs, then
// ../launch/cuda_skin.cuh on the current stream.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <array>

#include "checks.h"
#include "launch/cuda_skin.cuh"
#include "layout.h"

namespace torchrig {
namespace {

at::Tensor skin_cuda(const at::Tensor& rest_vertices, const at::Tensor& transforms,
                     const at::Tensor& indices, const at::Tensor& weights) {
  const SkinShape s = check_skin_inputs(rest_vertices, transforms, indices, weights);
  const c10::cuda::CUDAGuard guard(transforms.device());
  const SkinTensors in = skin_tensors(s, rest_vertices, transforms, indices, weights);
  at::Tensor out = at::empty({s.B, s.V, 3}, in.tf.options());
  AT_DISPATCH_FLOATING_TYPES(in.tf.scalar_type(), "torchrig::skin", [&] {
    launch::skin_forward_cuda<scalar_t>(at::cuda::getCurrentCUDAStream(), transforms.get_device(),
                                        in, out);
  });
  return out;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> skin_backward_cuda(
    const at::Tensor& grad_vertices, const at::Tensor& rest_vertices,
    const at::Tensor& transforms, const at::Tensor& indices,
    const at::Tensor& weights, std::array<bool, 3> output_mask) {
  const SkinShape s = check_skin_backward_inputs(grad_vertices, rest_vertices,
                                                 transforms, indices, weights);
  const c10::cuda::CUDAGuard guard(transforms.device());
  const int device = transforms.get_device();
  const SkinTensors in = skin_tensors(s, rest_vertices, transforms, indices, weights);
  const at::Tensor g = grad_vertices.contiguous();
  const bool want_rest = output_mask[0], want_w = output_mask[2];
  SkinGradTensors out = skin_grad_tensors(s, in, want_rest, want_w);
  const launch::SkinVertexSplit split = launch::skin_vertex_split(device, in.d, want_rest, want_w);
  const at::Tensor rest_out = split.partial_rest ? at::empty({split.used, s.V, 3}, in.tf.options())
                                                 : out.rest;
  const at::Tensor w_out = split.partial_w ? at::empty({split.used, s.V, s.K}, in.tf.options())
                                           : out.w;
  AT_DISPATCH_FLOATING_TYPES(in.tf.scalar_type(), "torchrig::skin_backward", [&] {
    launch::skin_backward_cuda<scalar_t>(at::cuda::getCurrentCUDAStream(), device, split, in, g,
                                         out, rest_out, w_out, output_mask);
  });
  if (split.partial_rest) at::sum_out(out.rest, rest_out, 0);
  if (split.partial_w) at::sum_out(out.w, w_out, 0);
  return {out.rest, out.tf, out.w};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchrig, CUDA, m) {
  m.impl("skin", &skin_cuda);
  m.impl("skin_backward", &skin_backward_cuda);
}

}  // namespace torchrig
