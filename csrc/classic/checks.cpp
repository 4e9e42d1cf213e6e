// The classic (at::Tensor) binding's input checks: a thin adapter over the
// plain-C++ rules of check_rules.h, which the stable-ABI binding shares.
// Broken rules leave as c10::ValueError / c10::TypeError (Python ValueError /
// TypeError); the data-reading checks read parents / index ranges here.
#include "checks.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include "check_rules.h"

namespace torchrig {
namespace {

rules::TensorDesc describe(const at::Tensor& t) {
  rules::TensorDesc d;
  d.defined = t.defined();
  if (!d.defined) return d;
  d.sizes.assign(t.sizes().begin(), t.sizes().end());
  const at::ScalarType st = t.scalar_type();
  d.dtype = st == at::kFloat    ? rules::DType::Float32
            : st == at::kDouble ? rules::DType::Float64
            : st == at::kLong   ? rules::DType::Int64
                                : rules::DType::Other;
  d.dtype_name = c10::toString(st);
  d.device = t.device().str();
  return d;
}

template <typename F>
auto checked(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const rules::CheckFailure& e) {
    if (e.kind() == rules::ErrorKind::Type) TORCH_CHECK_TYPE(false, e.what());
    TORCH_CHECK_VALUE(false, e.what());
    throw;  // not reached
  }
}

}  // namespace

FkShape check_fk_inputs(const at::Tensor& rotations, const at::Tensor& offsets,
                        const at::Tensor& parents) {
  const FkShape s = checked([&] {
    return rules::check_fk(describe(rotations), describe(offsets), describe(parents));
  });
  if (s.J > 0) {  // parents[j] in [-1, j): J values, read on the host
    const at::Tensor host = parents.cpu().contiguous();
    checked([&] { rules::check_parents_order(host.const_data_ptr<int64_t>(), s.J); });
  }
  return s;
}

FkShape check_joint_inputs(const at::Tensor& joint_params, const at::Tensor& offsets,
                           const at::Tensor& parents, const at::Tensor& inverse_bind) {
  const FkShape s = checked([&] {
    return rules::check_joint(describe(joint_params), describe(offsets), describe(parents),
                              describe(inverse_bind));
  });
  if (s.J > 0) {  // parents[j] in [-1, j): J values, read on the host
    const at::Tensor host = parents.cpu().contiguous();
    checked([&] { rules::check_parents_order(host.const_data_ptr<int64_t>(), s.J); });
  }
  return s;
}

FkShape check_joint_backward_inputs(const at::Tensor& grad_transforms,
                                    const at::Tensor& joint_params, const at::Tensor& offsets,
                                    const at::Tensor& parents, const at::Tensor& inverse_bind) {
  const FkShape s = check_joint_inputs(joint_params, offsets, parents, inverse_bind);
  check_grad(grad_transforms, "grad_transforms", {s.B, s.J, 3, 4}, joint_params);
  return s;
}

SkinShape check_skin_inputs(const at::Tensor& rest_vertices, const at::Tensor& transforms,
                            const at::Tensor& indices, const at::Tensor& weights) {
  const SkinShape s = checked([&] {
    return rules::check_skin(describe(rest_vertices), describe(transforms), describe(indices),
                             describe(weights));
  });
  if (indices.numel() > 0 && !rules::cpu_indices_in_range(indices, s.J)) {  // else min/max on the device
    auto [lo, hi] = at::aminmax(indices);
    const int64_t l = lo.item<int64_t>(), h = hi.item<int64_t>();
    checked([&] { rules::check_index_range(l, h, s.J); });
  }
  return s;
}

FkShape check_fk_backward_inputs(const at::Tensor& grad_transforms, const at::Tensor& rotations,
                                 const at::Tensor& offsets, const at::Tensor& parents,
                                 const at::Tensor& transforms) {
  const FkShape s = check_fk_inputs(rotations, offsets, parents);
  check_grad(grad_transforms, "grad_transforms", {s.B, s.J, 3, 4}, rotations);
  check_grad(transforms, "transforms", {s.B, s.J, 3, 4}, rotations);
  return s;
}

SkinShape check_skin_backward_inputs(const at::Tensor& grad_vertices,
                                     const at::Tensor& rest_vertices,
                                     const at::Tensor& transforms, const at::Tensor& indices,
                                     const at::Tensor& weights) {
  const SkinShape s = check_skin_inputs(rest_vertices, transforms, indices, weights);
  check_grad(grad_vertices, "grad_vertices", {s.B, s.V, 3}, transforms);
  return s;
}

void check_grad(const at::Tensor& grad, const char* name, at::IntArrayRef sizes,
                const at::Tensor& like) {
  checked([&] {
    rules::check_grad(describe(grad), name, sizes.vec(), describe(like));
  });
}

}  // namespace torchrig
