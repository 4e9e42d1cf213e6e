// Forward kinematics over a joint tree: plain C++ over raw pointers.
//
// No torch types here, so the same maths can sit under the at::Tensor binding
// (csrc/classic/cpu_fk.cpp) and, later, a torch::stable::Tensor binding. The
// caller has validated shapes and `parents` (parents[j] in [-1, j)).
//
// Layouts for one batch element (all contiguous):
//   rot    [J, 3, 3]   local rotation of each joint
//   off    [J, 3]      rest offset of each joint from its parent (root: absolute)
//   parents[J]         int64, -1 for a root
//   G      [J, 3, 4]   global transform [R | t] of each joint
#pragma once

#include <cstdint>

#include "macros.h"

namespace torchrig::kernels {

/// G_j = G_parent(j) * [R_j | t_j] for every joint of one batch element.
template <typename T>
TORCHRIG_HOST_DEVICE inline void fk_forward_one(const T* rot, const T* off,
                                                const int64_t* parents,
                                                int64_t J, T* G) {
  for (int64_t j = 0; j < J; ++j) {
    const T* R = rot + j * 9;
    const T* t = off + j * 3;
    T* Gj = G + j * 12;
    const int64_t p = parents[j];
    if (p < 0) {
      for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 3; ++c) Gj[r * 4 + c] = R[r * 3 + c];
        Gj[r * 4 + 3] = t[r];
      }
      continue;
    }
    const T* P = G + p * 12;
    for (int r = 0; r < 3; ++r) {
      const T p0 = P[r * 4 + 0], p1 = P[r * 4 + 1], p2 = P[r * 4 + 2];
      for (int c = 0; c < 3; ++c)
        Gj[r * 4 + c] = p0 * R[c] + p1 * R[3 + c] + p2 * R[6 + c];
      Gj[r * 4 + 3] = p0 * t[0] + p1 * t[1] + p2 * t[2] + P[r * 4 + 3];
    }
  }
}

/// Reverse pass of fk_forward_one for one batch element.
///
/// `adj` [J, 3, 4] holds dL/dG on entry (a scratch copy of the incoming
/// gradient) and is consumed: children add their contribution to their parent
/// before the parent is visited (joints are topologically ordered).
/// Writes grad_rot [J, 3, 3] and grad_off [J, 3].
template <typename T>
TORCHRIG_HOST_DEVICE inline void fk_backward_one(const T* rot, const T* off,
                                                 const int64_t* parents,
                                                 const T* G, int64_t J, T* adj,
                                                 T* grad_rot, T* grad_off) {
  for (int64_t j = J - 1; j >= 0; --j) {
    const T* dG = adj + j * 12;
    T* dR = grad_rot + j * 9;
    T* dt = grad_off + j * 3;
    const int64_t p = parents[j];
    if (p < 0) {
      for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 3; ++c) dR[r * 3 + c] = dG[r * 4 + c];
        dt[r] = dG[r * 4 + 3];
      }
      continue;
    }
    const T* P = G + p * 12;
    const T* R = rot + j * 9;
    const T* t = off + j * 3;
    // dR = P_rot^T dG_rot, dt = P_rot^T dG_trans
    for (int a = 0; a < 3; ++a) {
      for (int c = 0; c < 4; ++c) {
        const T v = P[0 * 4 + a] * dG[0 * 4 + c] + P[1 * 4 + a] * dG[1 * 4 + c] +
                    P[2 * 4 + a] * dG[2 * 4 + c];
        if (c < 3) dR[a * 3 + c] = v; else dt[a] = v;
      }
    }
    // dP_rot += dG_rot R^T + dG_trans t^T ; dP_trans += dG_trans
    T* dP = adj + p * 12;
    for (int r = 0; r < 3; ++r) {
      const T g0 = dG[r * 4 + 0], g1 = dG[r * 4 + 1], g2 = dG[r * 4 + 2];
      const T gt = dG[r * 4 + 3];
      for (int c = 0; c < 3; ++c)
        dP[r * 4 + c] += g0 * R[c * 3 + 0] + g1 * R[c * 3 + 1] +
                         g2 * R[c * 3 + 2] + gt * t[c];
      dP[r * 4 + 3] += gt;
    }
  }
}

}  // namespace torchrig::kernels
