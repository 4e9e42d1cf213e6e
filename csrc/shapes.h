// Sizes of a checked op call, shared by the classic (checks.h) and stable
// (check_rules.h) binding layers and by layout.h. Plain C++, no torch types.
#pragma once

#include <cstdint>

namespace torchrig {

/// Sizes of a forward_kinematics call.
struct FkShape {
  int64_t B, J;
  bool batched_offsets;  // offsets is [B, J, 3] rather than [J, 3]
};

/// Sizes of a skin call.
struct SkinShape {
  int64_t B, V, J, K;
  bool batched_rest;  // rest_vertices is [B, V, 3] rather than [V, 3]
};

}  // namespace torchrig
