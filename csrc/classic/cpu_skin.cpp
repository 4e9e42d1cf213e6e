// Classic CPU binding of sparse linear-blend skinning: checks (checks.h),
// contiguous layout (layout.h), outputs, then the launch plan of
// ../launch/cpu_skin.h on ATen's thread pool.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <array>

#include "checks.h"
#include "launch/cpu_skin.h"
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
    launch::skin_forward<scalar_t>(AtenPool{}, in, out);
  });
  return out;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> skin_backward_cpu(
    const at::Tensor& grad_vertices, const at::Tensor& rest_vertices,
    const at::Tensor& transforms, const at::Tensor& indices,
    const at::Tensor& weights, std::array<bool, 3> output_mask) {
  const SkinShape s = check_skin_backward_inputs(grad_vertices, rest_vertices,
                                                 transforms, indices, weights);
  const SkinTensors in = skin_tensors(s, rest_vertices, transforms, indices, weights);
  const at::Tensor g = grad_vertices.contiguous();
  const SkinGradTensors out = skin_grad_tensors(s, in, output_mask[0], output_mask[2]);
  AT_DISPATCH_FLOATING_TYPES(in.tf.scalar_type(), "torchrig::skin_backward", [&] {
    launch::skin_backward<scalar_t>(AtenPool{}, in, g, out, output_mask);
  });
  return {out.rest, out.tf, out.w};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchrig, CPU, m) {
  m.impl("skin", &skin_cpu);
  m.impl("skin_backward", &skin_backward_cpu);
}

}  // namespace torchrig
