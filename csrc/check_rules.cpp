// The rules of check_rules.h. Order of the checks and wording follow
// csrc/classic/checks.cpp, so both binding layers fail the same way on the same input.
#include "check_rules.h"

#include <sstream>
#include <utility>

namespace torchrig::rules {
namespace {

template <typename... Args>
[[noreturn]] void fail(ErrorKind kind, const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  throw CheckFailure(kind, os.str());
}

#define TORCHRIG_RULE(kind, cond, ...) \
  do {                                 \
    if (!(cond)) fail(kind, __VA_ARGS__); \
  } while (0)
#define TORCHRIG_VALUE(cond, ...) TORCHRIG_RULE(ErrorKind::Value, cond, __VA_ARGS__)
#define TORCHRIG_TYPE(cond, ...) TORCHRIG_RULE(ErrorKind::Type, cond, __VA_ARGS__)

// A Python None passed for a Tensor argument arrives as an undefined tensor.
void check_defined(std::initializer_list<std::pair<const TensorDesc*, const char*>> args) {
  for (const auto& [t, name] : args)
    TORCHRIG_VALUE(t->defined, name, " is None; expected a tensor");
}

void check_float(const TensorDesc& t, const char* name) {
  TORCHRIG_TYPE(t.dtype == DType::Float32 || t.dtype == DType::Float64, name,
                " must be float32 or float64, got ", t.dtype_name);
}

void check_index(const TensorDesc& t, const char* name) {
  TORCHRIG_TYPE(t.dtype == DType::Int64, name, " must be int64 (torch.long), got ",
                t.dtype_name);
}

void check_same(const TensorDesc& t, const char* name, const TensorDesc& ref,
                const char* ref_name, bool dtype) {
  TORCHRIG_VALUE(t.device == ref.device, name, " is on ", t.device, " but ", ref_name,
                 " is on ", ref.device, "; move them to the same device");
  if (dtype) {
    TORCHRIG_TYPE(t.dtype == ref.dtype && std::string(t.dtype_name) == ref.dtype_name, name,
                  " has dtype ", t.dtype_name, " but ", ref_name, " has dtype ",
                  ref.dtype_name, "; use one floating dtype");
  }
}

bool has_shape(const TensorDesc& t, std::initializer_list<int64_t> want) {
  if (t.sizes.size() != want.size()) return false;
  size_t i = 0;
  for (int64_t w : want)
    if (t.sizes[i++] != w) return false;
  return true;
}

}  // namespace

std::string shape_str(const std::vector<int64_t>& sizes) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < sizes.size(); ++i) os << (i ? ", " : "") << sizes[i];
  os << ']';
  return os.str();
}

FkShape check_fk(const TensorDesc& rotations, const TensorDesc& offsets,
                 const TensorDesc& parents) {
  check_defined({{&rotations, "rotations"}, {&offsets, "offsets"}, {&parents, "parents"}});
  TORCHRIG_VALUE(rotations.dim() == 4 && rotations.size(2) == 3 && rotations.size(3) == 3,
                 "rotations must have shape [B, J, 3, 3], got ", shape_str(rotations.sizes));
  const int64_t B = rotations.size(0), J = rotations.size(1);
  TORCHRIG_VALUE(parents.dim() == 1 && parents.size(0) == J, "parents must have shape [J] = [",
                 J, "], got ", shape_str(parents.sizes));
  const bool batched = offsets.dim() == 3;
  TORCHRIG_VALUE(has_shape(offsets, {J, 3}) || has_shape(offsets, {B, J, 3}),
                 "offsets must have shape [J, 3] or [B, J, 3] = [", B, ", ", J, ", 3], got ",
                 shape_str(offsets.sizes));
  check_float(rotations, "rotations");
  check_index(parents, "parents");
  check_same(offsets, "offsets", rotations, "rotations", /*dtype=*/true);
  check_same(parents, "parents", rotations, "rotations", /*dtype=*/false);
  return {B, J, batched};
}

FkShape check_joint(const TensorDesc& joint_params, const TensorDesc& offsets,
                    const TensorDesc& parents, const TensorDesc& inverse_bind) {
  check_defined({{&joint_params, "joint_params"}, {&offsets, "offsets"}, {&parents, "parents"}});
  // [B, J, 7], or [B, 7 * J] as pymomentum takes them (J: the length of parents)
  const bool flat = joint_params.dim() == 2 && parents.dim() == 1 &&
                    joint_params.size(1) == 7 * parents.size(0);
  TORCHRIG_VALUE(flat || (joint_params.dim() == 3 && joint_params.size(2) == 7),
                 "joint_params must have shape [B, J, 7] or [B, 7 * J] (tx, ty, tz, rx, ry, rz, "
                 "log2 scale per joint; J = len(parents)), got ", shape_str(joint_params.sizes));
  const int64_t B = joint_params.size(0), J = flat ? parents.size(0) : joint_params.size(1);
  TORCHRIG_VALUE(parents.dim() == 1 && parents.size(0) == J, "parents must have shape [J] = [",
                 J, "], got ", shape_str(parents.sizes));
  TORCHRIG_VALUE(has_shape(offsets, {J, 3}), "offsets must have shape [J, 3] = [", J,
                 ", 3], got ", shape_str(offsets.sizes));
  TORCHRIG_VALUE(!inverse_bind.defined || has_shape(inverse_bind, {J, 3, 4}),
                 "inverse_bind must have shape [J, 3, 4] = [", J, ", 3, 4], got ",
                 shape_str(inverse_bind.sizes));
  check_float(joint_params, "joint_params");
  check_index(parents, "parents");
  check_same(offsets, "offsets", joint_params, "joint_params", /*dtype=*/true);
  check_same(parents, "parents", joint_params, "joint_params", /*dtype=*/false);
  if (inverse_bind.defined)
    check_same(inverse_bind, "inverse_bind", joint_params, "joint_params", /*dtype=*/true);
  return {B, J, false};
}

void check_parents_order(const int64_t* parents, int64_t J) {
  // On failure, name the first offending joint and its parent, never the whole
  // tensor (J may be 1e5).
  for (int64_t j = 0; j < J; ++j) {
    const int64_t p = parents[j];
    if (p >= -1 && p < j) continue;
    fail(ErrorKind::Value,
         "parents must be topologically ordered with parents[j] in [-1, j) (-1 marks a root); "
         "got parents[", j, "] = ", p,
         p >= j ? " (a parent must come before its child: reorder the joints so every parent "
                  "precedes its children)"
                : " (only -1 may be negative)");
  }
}

SkinShape check_skin(const TensorDesc& rest_vertices, const TensorDesc& transforms,
                     const TensorDesc& indices, const TensorDesc& weights) {
  check_defined({{&rest_vertices, "rest_vertices"}, {&transforms, "transforms"},
                 {&indices, "indices"}, {&weights, "weights"}});
  TORCHRIG_VALUE(transforms.dim() == 4 && transforms.size(2) == 3 && transforms.size(3) == 4,
                 "transforms must have shape [B, J, 3, 4], got ", shape_str(transforms.sizes));
  const int64_t B = transforms.size(0), J = transforms.size(1);
  TORCHRIG_VALUE(indices.dim() == 2, "indices must have shape [V, K], got ",
                 shape_str(indices.sizes));
  const int64_t V = indices.size(0), K = indices.size(1);
  TORCHRIG_VALUE(K >= 1, "indices must have K >= 1 influences per vertex, got shape ",
                 shape_str(indices.sizes));
  TORCHRIG_VALUE(weights.sizes == indices.sizes,
                 "weights must have the shape of indices [V, K] = [", V, ", ", K, "], got ",
                 shape_str(weights.sizes));
  const bool batched = rest_vertices.dim() == 3;
  TORCHRIG_VALUE(has_shape(rest_vertices, {V, 3}) || has_shape(rest_vertices, {B, V, 3}),
                 "rest_vertices must have shape [V, 3] or [B, V, 3] = [", B, ", ", V,
                 ", 3], got ", shape_str(rest_vertices.sizes));
  check_float(transforms, "transforms");
  check_index(indices, "indices");
  check_same(rest_vertices, "rest_vertices", transforms, "transforms", true);
  check_same(weights, "weights", transforms, "transforms", true);
  check_same(indices, "indices", transforms, "transforms", false);
  // decidable from the shapes: no index lies in [0, 0) (the meta kernels refuse it too)
  TORCHRIG_VALUE(J > 0 || V == 0, "indices must lie in [0, J) = [0, 0): transforms has no "
                 "joints for V = ", V, " vertices");
  return {B, V, J, K, batched};
}

bool indices_in_range(const int64_t* indices, int64_t n, int64_t J) {
  bool ok = true;
  for (int64_t i = 0; i < n; ++i) ok &= indices[i] >= 0 && indices[i] < J;  // vectorises
  return ok;
}

void check_index_range(int64_t lo, int64_t hi, int64_t J) {
  TORCHRIG_VALUE(lo >= 0 && hi < J, "indices must lie in [0, J) = [0, ", J,
                 "), got values in [", lo, ", ", hi, "]");
}

void check_grad(const TensorDesc& grad, const char* name, const std::vector<int64_t>& sizes,
                const TensorDesc& like) {
  check_defined({{&grad, name}});
  TORCHRIG_VALUE(grad.sizes == sizes, name, " must have shape ", shape_str(sizes), ", got ",
                 shape_str(grad.sizes));
  check_same(grad, name, like, "the forward input", /*dtype=*/true);
}

}  // namespace torchrig::rules
