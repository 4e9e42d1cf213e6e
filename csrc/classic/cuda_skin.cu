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
#include "launch/dims.h"
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
    launch::skin_forward_cuda(at::cuda::getCurrentCUDAStream(), transforms.get_device(), in.d,
                              in.rest.const_data_ptr<scalar_t>(), in.tf.const_data_ptr<scalar_t>(),
                              in.idx.const_data_ptr<int64_t>(), in.w.const_data_ptr<scalar_t>(),
                              out.mutable_data_ptr<scalar_t>());
  });
  return out;
}

at::Tensor grad_buffer(const at::Tensor& like, bool zeroed) {
  return zeroed ? at::zeros_like(like) : at::empty_like(like);
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
  const launch::SkinGradZeros zeros = launch::skin_grad_zeros(s, want_rest, want_w);
  at::Tensor grad_rest = grad_buffer(in.rest, zeros.rest);
  at::Tensor grad_tf = grad_buffer(in.tf, zeros.transforms);
  at::Tensor grad_w = grad_buffer(in.w, zeros.weights);
  const launch::SkinVertexSplit split = launch::skin_vertex_split(device, in.d, want_rest, want_w);
  const at::Tensor rest_out = split.partial_rest ? at::empty({split.used, s.V, 3}, in.tf.options())
                                                 : grad_rest;
  const at::Tensor w_out = split.partial_w ? at::empty({split.used, s.V, s.K}, in.tf.options())
                                           : grad_w;
  AT_DISPATCH_FLOATING_TYPES(in.tf.scalar_type(), "torchrig::skin_backward", [&] {
    launch::skin_backward_cuda(
        at::cuda::getCurrentCUDAStream(), device, in.d, split, g.const_data_ptr<scalar_t>(),
        in.rest.const_data_ptr<scalar_t>(), in.tf.const_data_ptr<scalar_t>(),
        in.idx.const_data_ptr<int64_t>(), in.w.const_data_ptr<scalar_t>(),
        want_rest ? rest_out.mutable_data_ptr<scalar_t>() : nullptr,
        want_w ? w_out.mutable_data_ptr<scalar_t>() : nullptr,
        output_mask[1] ? grad_tf.mutable_data_ptr<scalar_t>() : nullptr);
  });
  if (split.partial_rest) at::sum_out(grad_rest, rest_out, 0);
  if (split.partial_w) at::sum_out(grad_w, w_out, 0);
  return {grad_rest, grad_tf, grad_w};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchrig, CUDA, m) {
  m.impl("skin", &skin_cuda);
  m.impl("skin_backward", &skin_backward_cuda);
}

}  // namespace torchrig
