#include "layout.h"

namespace torchrig::stable {

FkTensors fk_tensors(const FkShape& s, const Tensor& rotations, const Tensor& offsets,
                     const Tensor& parents) {
  return {as_contiguous(rotations), as_contiguous(offsets), as_contiguous(parents),
          launch::fk_offset_stride(s)};
}

JointTensors joint_tensors(const Tensor& joint_params, const Tensor& offsets,
                           const Tensor& parents, const Tensor& inverse_bind) {
  const bool has_ib = inverse_bind.defined();
  return {as_contiguous(joint_params), as_contiguous(offsets), as_contiguous(parents),
          has_ib ? as_contiguous(inverse_bind) : Tensor(), has_ib};
}

FkGradTensors fk_grad_tensors(const FkShape& s, const Tensor& grad_transforms,
                              const Tensor& transforms) {
  const Tensor G = as_contiguous(transforms);
  return {G, torch::stable::clone(as_contiguous(grad_transforms)), alloc(G, {s.B, s.J, 3, 3}),
          alloc(G, {s.B, s.J, 3})};
}

std::tuple<Tensor, Tensor> fk_grads(const FkShape& s, const FkGradTensors& t) {
  return {t.grad_rot, s.batched_offsets ? t.grad_off : sum0(t.grad_off)};
}

SkinTensors skin_tensors(const SkinShape& s, const Tensor& rest_vertices, const Tensor& transforms,
                         const Tensor& indices, const Tensor& weights) {
  return {launch::skin_dims(s), as_contiguous(rest_vertices), as_contiguous(transforms),
          as_contiguous(indices), as_contiguous(weights)};
}

SkinGradTensors skin_grad_tensors(const SkinShape& s, const SkinTensors& in, bool want_rest,
                                  bool want_weights) {
  const launch::SkinGradZeros z = launch::skin_grad_zeros(s, want_rest, want_weights);
  return {grad_buffer(in.rest, z.rest), grad_buffer(in.tf, z.transforms),
          grad_buffer(in.w, z.weights)};
}

}  // namespace torchrig::stable
