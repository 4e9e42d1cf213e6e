#include "layout.h"

#include <ATen/ATen.h>

#include "launch/dims.h"

namespace torchrig {

FkTensors fk_tensors(const FkShape& s, const at::Tensor& rotations,
                     const at::Tensor& offsets, const at::Tensor& parents) {
  return {rotations.contiguous(), offsets.contiguous(), parents.contiguous(),
          launch::fk_offset_stride(s)};
}

JointTensors joint_tensors(const at::Tensor& joint_params, const at::Tensor& offsets,
                           const at::Tensor& parents, const at::Tensor& inverse_bind) {
  const bool has_ib = inverse_bind.defined();
  return {joint_params.contiguous(), offsets.contiguous(), parents.contiguous(),
          has_ib ? inverse_bind.contiguous() : at::Tensor(), has_ib};
}

FkGradTensors fk_grad_tensors(const FkShape& s, const at::Tensor& grad_transforms,
                              const at::Tensor& transforms) {
  const auto opts = transforms.options();
  return {transforms.contiguous(), grad_transforms.contiguous().clone(),
          at::empty({s.B, s.J, 3, 3}, opts), at::empty({s.B, s.J, 3}, opts)};
}

std::tuple<at::Tensor, at::Tensor> fk_grads(const FkShape& s, FkGradTensors& t) {
  return {t.grad_rot, s.batched_offsets ? t.grad_off : t.grad_off.sum(0)};
}

SkinTensors skin_tensors(const SkinShape& s, const at::Tensor& rest_vertices,
                         const at::Tensor& transforms, const at::Tensor& indices,
                         const at::Tensor& weights) {
  return {launch::skin_dims(s), rest_vertices.contiguous(), transforms.contiguous(),
          indices.contiguous(), weights.contiguous()};
}

namespace {
at::Tensor grad_buffer(const at::Tensor& like, bool zeroed) {
  return zeroed ? at::zeros_like(like) : at::empty_like(like);
}
}  // namespace

SkinGradTensors skin_grad_tensors(const SkinShape& s, const SkinTensors& in, bool want_rest,
                                  bool want_weights) {
  const launch::SkinGradZeros z = launch::skin_grad_zeros(s, want_rest, want_weights);
  return {grad_buffer(in.rest, z.rest), grad_buffer(in.tf, z.transforms),
          grad_buffer(in.w, z.weights)};
}

}  // namespace torchrig
