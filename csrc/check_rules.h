// Input rules of every torchrig op as plain C++ over a tensor's description
// (defined?, sizes, dtype, device) and host integer data: no torch types, so
// the stable-ABI binding (csrc/stable/) and the classic one can share them.
//
// A broken rule throws CheckFailure (a std::invalid_argument carrying whether
// Python should see a ValueError or a TypeError); each binding layer turns it
// into its own error type. Messages match csrc/classic/checks.cpp word for word.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include "shapes.h"

namespace torchrig::rules {

enum class DType { Float32, Float64, Int64, Other };
enum class ErrorKind { Value, Type };

/// What the rules need to know of one tensor argument.
struct TensorDesc {
  bool defined = false;
  std::vector<int64_t> sizes;
  DType dtype = DType::Other;
  const char* dtype_name = "";  // as torch prints a ScalarType: Float, Double, Long, Int, ...
  std::string device;           // as torch prints a device: cpu, cuda:0, meta
  int64_t dim() const { return int64_t(sizes.size()); }
  int64_t size(int64_t d) const { return sizes[size_t(d)]; }
};

class CheckFailure : public std::invalid_argument {
 public:
  CheckFailure(ErrorKind kind, const std::string& message)
      : std::invalid_argument(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

/// "[2, 7, 3, 3]", as c10 prints IntArrayRef.
std::string shape_str(const std::vector<int64_t>& sizes);

/// Shape, dtype and device rules of forward_kinematics (rotations [B,J,3,3],
/// offsets [J,3] or [B,J,3], parents [J] int64). The ordering of parents is
/// checked separately, on host data (check_parents_order).
FkShape check_fk(const TensorDesc& rotations, const TensorDesc& offsets,
                 const TensorDesc& parents);

/// Shape, dtype and device rules of joint_transforms (joint_params [B,J,7] or [B,7J], offsets [J,3],
/// parents [J] int64, inverse_bind [J,3,4] or undefined). Returns {B, J, false}; the
/// ordering of parents is checked separately (check_parents_order).
FkShape check_joint(const TensorDesc& joint_params, const TensorDesc& offsets,
                    const TensorDesc& parents, const TensorDesc& inverse_bind);

/// parents[j] in [-1, j) for every j; `parents` is J host int64 values.
void check_parents_order(const int64_t* parents, int64_t J);

/// Shape, dtype and device rules of skin (rest [V,3] or [B,V,3], transforms
/// [B,J,3,4], indices [V,K] int64, weights [V,K], K >= 1). Index ranges are
/// checked separately (check_index_range).
SkinShape check_skin(const TensorDesc& rest_vertices, const TensorDesc& transforms,
                     const TensorDesc& indices, const TensorDesc& weights);

/// min and max of indices lie in [0, J).
void check_index_range(int64_t lo, int64_t hi, int64_t J);

/// Every one of the n host values lies in [0, J): the bindings' fast path for
/// contiguous CPU indices (one vectorised pass, no allocation); when false,
/// they find min and max on the tensor's device for check_index_range's message.
bool indices_in_range(const int64_t* indices, int64_t n, int64_t J);

/// indices_in_range over a binding's tensor (at::Tensor, torch::stable::Tensor): false
/// unless it is a contiguous CPU tensor whose values all lie in [0, J). The bindings' fast
/// path of the index-range check: a plain loop instead of aminmax and two copies back (each
/// a dispatcher round trip, ~2 us: most of a small call's time); false sends them to the
/// general check, which finds min and max on the device and raises with them.
template <class Tensor>
bool cpu_indices_in_range(const Tensor& indices, int64_t J) {
  return indices.is_cpu() && indices.is_contiguous() &&
         indices_in_range(indices.template const_data_ptr<int64_t>(), indices.numel(), J);
}

/// `grad` (named `name`) has exactly `sizes`, the dtype and device of `like`.
void check_grad(const TensorDesc& grad, const char* name,
                const std::vector<int64_t>& sizes, const TensorDesc& like);

}  // namespace torchrig::rules
