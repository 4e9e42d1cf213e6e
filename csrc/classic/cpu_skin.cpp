// Classic CPU binding of sparse linear-blend skinning: checks (checks.h),
// contiguous layout (layout.h), outputs, then the launch plan of
// ../launch/cpu_skin.h on ATen's thread pool.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <array>

#include "checks.h"
#include "launch/cpu_skin.h"
#include "launch/dims.h"
#include "layout.h"
#include "pool.h"

namespace torchrig {
namespace {

at::Tensor skin_cpu(const at::Tensor& rest_vertices, const at::Tensor& transforms,
                    const at::Tensor& indices, const at::Tensor& weights) {
  const SkinShape s = check_skin_inputs(rest_vertices, transforms, indices, weights);
  const SkinTensors in = skin_tensors(s, rest_vertices, transforms, indices, weights);
  at::Tensor out = at::empty({s.B, s.V, 3}, in.tf.options());
  AT_DISPATCH_FLOATING_TYPES(in.tf.scalar_type(), "torchrig::skin", [&] {
    launch::skin_forward(AtenPool{}, in.d, in.rest.const_data_ptr<scalar_t>(),
                         in.tf.const_data_ptr<scalar_t>(), in.idx.const_data_ptr<int64_t>(),
                         in.w.const_data_ptr<scalar_t>(), out.mutable_data_ptr<scalar_t>());
  });
  return out;
}

at::Tensor grad_buffer(const at::Tensor& like, bool zeroed) {
  return zeroed ? at::zeros_like(like) : at::empty_like(like);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> skin_backward_cpu(
    const at::Tensor& grad_vertices, const at::Tensor& rest_vertices,
    const at::Tensor& transforms, const at::Tensor& indices,
    const at::Tensor& weights, std::array<bool, 3> output_mask) {
  const SkinShape s = check_skin_backward_inputs(grad_vertices, rest_vertices,
                                                 transforms, indices, weights);
  const SkinTensors in = skin_tensors(s, rest_vertices, transforms, indices, weights);
  const at::Tensor g = grad_vertices.contiguous();
  const launch::SkinGradZeros zeros = launch::skin_grad_zeros(s, output_mask[0], output_mask[2]);
  at::Tensor grad_rest = grad_buffer(in.rest, zeros.rest);
  at::Tensor grad_tf = grad_buffer(in.tf, zeros.transforms);
  at::Tensor grad_w = grad_buffer(in.w, zeros.weights);
  AT_DISPATCH_FLOATING_TYPES(in.tf.scalar_type(), "torchrig::skin_backward", [&] {
    const scalar_t* G = g.const_data_ptr<scalar_t>();
    const scalar_t* x = in.rest.const_data_ptr<scalar_t>();
    const int64_t* I = in.idx.const_data_ptr<int64_t>();
    const scalar_t* W = in.w.const_data_ptr<scalar_t>();
    launch::skin_grad_vertices(AtenPool{}, in.d, G, x, in.tf.const_data_ptr<scalar_t>(), I, W,
                               output_mask[0] ? grad_rest.mutable_data_ptr<scalar_t>() : nullptr,
                               output_mask[2] ? grad_w.mutable_data_ptr<scalar_t>() : nullptr);
    if (output_mask[1])
      launch::skin_grad_transforms(AtenPool{}, in.d, G, x, I, W,
                                   grad_tf.mutable_data_ptr<scalar_t>());
  });
  return {grad_rest, grad_tf, grad_w};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchrig, CPU, m) {
  m.impl("skin", &skin_cpu);
  m.impl("skin_backward", &skin_backward_cpu);
}

}  // namespace torchrig
