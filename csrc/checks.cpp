#include "checks.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

namespace torchrig {
namespace {

std::string shape_str(const at::Tensor& t) { return c10::str(t.sizes()); }

// A Python None passed for a Tensor argument arrives as an undefined tensor.
void check_defined(std::initializer_list<std::pair<const at::Tensor*, const char*>> args) {
  for (const auto& [t, name] : args)
    TORCH_CHECK_VALUE(t->defined(), name, " is None; expected a tensor");
}

void check_float(const at::Tensor& t, const char* name) {
  TORCH_CHECK_TYPE(t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble,
                   name, " must be float32 or float64, got ", t.scalar_type());
}

void check_index(const at::Tensor& t, const char* name) {
  TORCH_CHECK_TYPE(t.scalar_type() == at::kLong, name,
                   " must be int64 (torch.long), got ", t.scalar_type());
}

void check_same(const at::Tensor& t, const char* name, const at::Tensor& ref,
                const char* ref_name, bool dtype) {
  TORCH_CHECK_VALUE(t.device() == ref.device(), name, " is on ", t.device(),
                    " but ", ref_name, " is on ", ref.device(),
                    "; move them to the same device");
  if (dtype) {
    TORCH_CHECK_TYPE(t.scalar_type() == ref.scalar_type(), name, " has dtype ",
                     t.scalar_type(), " but ", ref_name, " has dtype ",
                     ref.scalar_type(), "; use one floating dtype");
  }
}

/// min and max of a non-empty integer tensor, on any device (one sync).
std::pair<int64_t, int64_t> min_max(const at::Tensor& t) {
  auto [lo, hi] = at::aminmax(t);
  return {lo.item<int64_t>(), hi.item<int64_t>()};
}

}  // namespace

FkShape check_fk_inputs(const at::Tensor& rotations, const at::Tensor& offsets,
                        const at::Tensor& parents) {
  check_defined({{&rotations, "rotations"}, {&offsets, "offsets"}, {&parents, "parents"}});
  TORCH_CHECK_VALUE(rotations.dim() == 4 && rotations.size(2) == 3 &&
                        rotations.size(3) == 3,
                    "rotations must have shape [B, J, 3, 3], got ",
                    shape_str(rotations));
  const int64_t B = rotations.size(0), J = rotations.size(1);
  TORCH_CHECK_VALUE(parents.dim() == 1 && parents.size(0) == J,
                    "parents must have shape [J] = [", J, "], got ",
                    shape_str(parents));
  const bool batched = offsets.dim() == 3;
  TORCH_CHECK_VALUE(
      (offsets.dim() == 2 && offsets.size(0) == J && offsets.size(1) == 3) ||
          (batched && offsets.size(0) == B && offsets.size(1) == J &&
           offsets.size(2) == 3),
      "offsets must have shape [J, 3] or [B, J, 3] = [", B, ", ", J,
      ", 3], got ", shape_str(offsets));
  check_float(rotations, "rotations");
  check_index(parents, "parents");
  check_same(offsets, "offsets", rotations, "rotations", /*dtype=*/true);
  check_same(parents, "parents", rotations, "rotations", /*dtype=*/false);
  if (J > 0) {
    // parents[j] must lie in [-1, j): checked against arange on the device.
    // On failure, name the first offending joint and its parent (never the
    // whole tensor: J may be 1e5).
    const at::Tensor pos = at::arange(J, parents.options());
    const at::Tensor bad = at::logical_or(parents < -1, parents >= pos);
    if (bad.any().item<bool>()) {
      const int64_t j = bad.to(at::kByte).argmax().item<int64_t>();  // first true
      const int64_t p = parents[j].item<int64_t>();
      TORCH_CHECK_VALUE(false,
                        "parents must be topologically ordered with parents[j] "
                        "in [-1, j) (-1 marks a root); got parents[", j, "] = ", p,
                        p >= j ? " (a parent must come before its child: reorder the "
                                 "joints so every parent precedes its children)"
                               : " (only -1 may be negative)");
    }
  }
  return {B, J, batched};
}

SkinShape check_skin_inputs(const at::Tensor& rest_vertices,
                            const at::Tensor& transforms,
                            const at::Tensor& indices,
                            const at::Tensor& weights) {
  check_defined({{&rest_vertices, "rest_vertices"}, {&transforms, "transforms"},
                 {&indices, "indices"}, {&weights, "weights"}});
  TORCH_CHECK_VALUE(transforms.dim() == 4 && transforms.size(2) == 3 &&
                        transforms.size(3) == 4,
                    "transforms must have shape [B, J, 3, 4], got ",
                    shape_str(transforms));
  const int64_t B = transforms.size(0), J = transforms.size(1);
  TORCH_CHECK_VALUE(indices.dim() == 2,
                    "indices must have shape [V, K], got ", shape_str(indices));
  const int64_t V = indices.size(0), K = indices.size(1);
  TORCH_CHECK_VALUE(K >= 1, "indices must have K >= 1 influences per vertex, "
                    "got shape ", shape_str(indices));
  TORCH_CHECK_VALUE(weights.sizes() == indices.sizes(),
                    "weights must have the shape of indices [V, K] = [", V,
                    ", ", K, "], got ", shape_str(weights));
  const bool batched = rest_vertices.dim() == 3;
  TORCH_CHECK_VALUE(
      (rest_vertices.dim() == 2 && rest_vertices.size(0) == V &&
       rest_vertices.size(1) == 3) ||
          (batched && rest_vertices.size(0) == B &&
           rest_vertices.size(1) == V && rest_vertices.size(2) == 3),
      "rest_vertices must have shape [V, 3] or [B, V, 3] = [", B, ", ", V,
      ", 3], got ", shape_str(rest_vertices));
  check_float(transforms, "transforms");
  check_index(indices, "indices");
  check_same(rest_vertices, "rest_vertices", transforms, "transforms", true);
  check_same(weights, "weights", transforms, "transforms", true);
  check_same(indices, "indices", transforms, "transforms", false);
  if (indices.numel() > 0) {
    const auto [lo, hi] = min_max(indices);
    TORCH_CHECK_VALUE(lo >= 0 && hi < J, "indices must lie in [0, J) = [0, ", J,
                      "), got values in [", lo, ", ", hi, "]");
  }
  return {B, V, J, K, batched};
}

FkShape check_fk_backward_inputs(const at::Tensor& grad_transforms,
                                 const at::Tensor& rotations,
                                 const at::Tensor& offsets,
                                 const at::Tensor& parents,
                                 const at::Tensor& transforms) {
  const FkShape s = check_fk_inputs(rotations, offsets, parents);
  check_grad(grad_transforms, "grad_transforms", {s.B, s.J, 3, 4}, rotations);
  check_grad(transforms, "transforms", {s.B, s.J, 3, 4}, rotations);
  return s;
}

SkinShape check_skin_backward_inputs(const at::Tensor& grad_vertices,
                                     const at::Tensor& rest_vertices,
                                     const at::Tensor& transforms,
                                     const at::Tensor& indices,
                                     const at::Tensor& weights) {
  const SkinShape s = check_skin_inputs(rest_vertices, transforms, indices, weights);
  check_grad(grad_vertices, "grad_vertices", {s.B, s.V, 3}, transforms);
  return s;
}

void check_grad(const at::Tensor& grad, const char* name,
                at::IntArrayRef sizes, const at::Tensor& like) {
  check_defined({{&grad, name}});
  TORCH_CHECK_VALUE(grad.sizes() == sizes, name, " must have shape ", sizes,
                    ", got ", shape_str(grad));
  check_same(grad, name, like, "the forward input", /*dtype=*/true);
}

}  // namespace torchrig
