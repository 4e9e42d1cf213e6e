// A checked call's sizes (../shapes.h) as the kernels take them, for both
// bindings and both devices.
#pragma once

#include <cstdint>

#include "../kernels/skin.h"
#include "../shapes.h"

namespace torchrig::launch {

/// Batch stride of the offsets in elements: 0 when one [J, 3] serves the batch.
inline int64_t fk_offset_stride(const FkShape& s) { return s.batched_offsets ? s.J * 3 : 0; }

inline kernels::SkinDims skin_dims(const SkinShape& s) {
  return {s.B, s.V, s.J, s.K, s.batched_rest ? s.V * 3 : 0};
}

/// Which skin_backward outputs the binding must hand over zero-filled (the
/// rest it may leave uninitialised): gradients not asked for come back as
/// zeros, and so do all of them for an empty batch (no kernel runs); the
/// kernels write a shared rest's gradient but add into a batched one, and add
/// into the transforms' gradient.
struct SkinGradZeros {
  bool rest, transforms, weights;
};

inline SkinGradZeros skin_grad_zeros(const SkinShape& s, bool want_rest, bool want_weights) {
  const bool empty = s.B == 0 || s.V == 0;
  return {!want_rest || s.batched_rest || empty, true, !want_weights || empty};
}

}  // namespace torchrig::launch
