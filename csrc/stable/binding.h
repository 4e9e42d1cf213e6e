// The stable-ABI binding layer's shared pieces (CPU and CUDA): describe a
// torch::stable::Tensor for the plain-C++ rules of ../check_rules.h, run the
// data-reading checks, lay inputs out contiguously and allocate outputs.
//
// Everything here goes through torch's stable C API (torch/csrc/stable/, built
// with TORCH_TARGET_VERSION = 2.10), never through c10/ATen C++ symbols, so the
// library loads in every torch from 2.10 on.
//
// Bad input: a broken rule throws std::invalid_argument. Only std:: exceptions
// cross the stable ABI, and torch decides what Python sees (2.13/2.14:
// ValueError for std::invalid_argument; 2.15: RuntimeError), so the message
// starts with kValueErrorTag or kTypeErrorTag and python/torchrig/_stable.py
// raises ValueError / TypeError with the rest: the classic build's types and
// messages.
#pragma once

#include <torch/csrc/stable/library.h>
#include <torch/csrc/stable/ops.h>
#include <torch/csrc/stable/tensor.h>
#include <torch/headeronly/core/ScalarType.h>

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include "../check_rules.h"

namespace torchrig::stable {

using Tensor = torch::stable::Tensor;
using torch::headeronly::ScalarType;

inline constexpr const char* kValueErrorTag = "ValueError: ";
inline constexpr const char* kTypeErrorTag = "TypeError: ";

/// Runs `f` (a call of the rules); a CheckFailure leaves as std::invalid_argument.
template <typename F>
auto checked(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const rules::CheckFailure& e) {
    if (e.kind() == rules::ErrorKind::Type)
      throw std::invalid_argument(std::string(kTypeErrorTag) + e.what());
    throw std::invalid_argument(std::string(kValueErrorTag) + e.what());
  }
}

rules::TensorDesc describe(const Tensor& t);

/// Shape/dtype/device rules, then parents ordering (read on the host).
FkShape check_fk_inputs(const Tensor& rotations, const Tensor& offsets, const Tensor& parents);
FkShape check_fk_backward_inputs(const Tensor& grad_transforms, const Tensor& rotations,
                                 const Tensor& offsets, const Tensor& parents,
                                 const Tensor& transforms);
/// joint_transforms: shape/dtype/device rules, then parents ordering; `inverse_bind` may be
/// undefined (None).
FkShape check_joint_inputs(const Tensor& joint_params, const Tensor& offsets,
                           const Tensor& parents, const Tensor& inverse_bind);
FkShape check_joint_backward_inputs(const Tensor& grad_transforms, const Tensor& joint_params,
                                    const Tensor& offsets, const Tensor& parents,
                                    const Tensor& inverse_bind);
/// Shape/dtype/device rules, then the index range (one pass over contiguous CPU indices, else
/// aminmax on the tensor's device).
SkinShape check_skin_inputs(const Tensor& rest_vertices, const Tensor& transforms,
                            const Tensor& indices, const Tensor& weights);
SkinShape check_skin_backward_inputs(const Tensor& grad_vertices, const Tensor& rest_vertices,
                                     const Tensor& transforms, const Tensor& indices,
                                     const Tensor& weights);

/// Contiguous copy (or the tensor itself when already contiguous).
Tensor as_contiguous(const Tensor& t);
/// Uninitialised / zeroed tensor of `sizes` with the dtype and device of `like`.
Tensor alloc(const Tensor& like, std::initializer_list<int64_t> sizes);
Tensor zeros_of(const Tensor& t);
/// A gradient buffer shaped like `like`: zero-filled, or uninitialised.
Tensor grad_buffer(const Tensor& like, bool zeroed);
/// Sum over dim 0, as a new tensor / into `out`.
Tensor sum0(const Tensor& t);
void sum0_out(Tensor& out, const Tensor& t);

/// f(scalar_t{}) for float32 / float64 (the rules have refused other dtypes).
template <typename F>
void dispatch_floating(ScalarType st, F&& f) {
  if (st == ScalarType::Double) {
    f(double{});
  } else {
    STD_TORCH_CHECK(st == ScalarType::Float, "torchrig: unexpected dtype ",
                    torch::headeronly::toString(st));
    f(float{});
  }
}

}  // namespace torchrig::stable
