// Joint parameters to joint transforms: plain C++ over raw pointers (host and
// CUDA), for one batch element, on top of kernels/fk.h.
//
// Joint parameters are pymomentum's, 7 per joint: translation (tx, ty, tz),
// Euler angles (rx, ry, rz, radians) and a log2 scale (sc). Joint j's local
// transform is
//   M_j = 2^sc * Rz(rz) Ry(ry) Rx(rx),   t_j = offsets_j + (tx, ty, tz),
// and its global one G_j = G_parent(j) * [M_j | t_j] (fk_forward_one). With an
// inverse bind IB [J, 3, 4] the result is the skinning transform G_j * IB_j,
// what skin() takes: joint parameters to skinning transforms in one pass.
//
// Layouts for one batch element (all contiguous):
//   jp      [J, 7]      joint parameters
//   off     [J, 3]      rest offset of each joint from its parent (root: absolute)
//   parents [J]         int64, -1 for a root
//   ib      [J, 3, 4]   inverse bind, or null
//   out     [J, 3, 4]   global (ib null) or skinning transforms
//   work    [J * kJointWork] scratch
#pragma once

#include <cmath>
#include <cstdint>

#include "fk.h"
#include "macros.h"

namespace torchrig::kernels {

/// Scratch elements per joint of joint_transforms_one / joint_transforms_backward_one.
constexpr int64_t kJointWork = 48;

// sin, cos, exp2 of float or double, on the host and on a CUDA device
#if defined(__CUDA_ARCH__)
#define TORCHRIG_MATH(f) f
#else
#define TORCHRIG_MATH(f) std::f
#endif

/// M = 2^sc Rz Ry Rx [J, 3, 3] and t = off + (tx, ty, tz) [J, 3].
template <typename T>
TORCHRIG_HOST_DEVICE inline void joint_locals_one(const T* jp, const T* off, int64_t J, T* M,
                                                  T* t) {
  for (int64_t j = 0; j < J; ++j) {
    const T* p = jp + j * 7;
    const T sa = TORCHRIG_MATH(sin)(p[3]), ca = TORCHRIG_MATH(cos)(p[3]);
    const T sb = TORCHRIG_MATH(sin)(p[4]), cb = TORCHRIG_MATH(cos)(p[4]);
    const T sc = TORCHRIG_MATH(sin)(p[5]), cc = TORCHRIG_MATH(cos)(p[5]);
    const T s = TORCHRIG_MATH(exp2)(p[6]);
    T* m = M + j * 9;
    m[0] = s * (cc * cb);
    m[1] = s * (cc * sb * sa - sc * ca);
    m[2] = s * (cc * sb * ca + sc * sa);
    m[3] = s * (sc * cb);
    m[4] = s * (sc * sb * sa + cc * ca);
    m[5] = s * (sc * sb * ca - cc * sa);
    m[6] = s * (-sb);
    m[7] = s * (cb * sa);
    m[8] = s * (cb * ca);
    for (int r = 0; r < 3; ++r) t[j * 3 + r] = off[j * 3 + r] + p[r];
  }
}

/// out_j = G_j * IB_j (homogeneous 3x4 product) for every joint.
template <typename T>
TORCHRIG_HOST_DEVICE inline void compose_one(const T* G, const T* ib, int64_t J, T* out) {
  for (int64_t j = 0; j < J; ++j) {
    const T* g = G + j * 12;
    const T* b = ib + j * 12;
    T* o = out + j * 12;
    for (int r = 0; r < 3; ++r) {
      const T g0 = g[r * 4 + 0], g1 = g[r * 4 + 1], g2 = g[r * 4 + 2];
      for (int c = 0; c < 4; ++c) o[r * 4 + c] = g0 * b[c] + g1 * b[4 + c] + g2 * b[8 + c];
      o[r * 4 + 3] += g[r * 4 + 3];
    }
  }
}

/// Global (ib null) or skinning transforms of one batch element.
template <typename T>
TORCHRIG_HOST_DEVICE inline void joint_transforms_one(const T* jp, const T* off,
                                                      const int64_t* parents, const T* ib,
                                                      int64_t J, T* out, T* work) {
  T* M = work;
  T* t = work + J * 9;
  T* G = work + J * 12;
  joint_locals_one(jp, off, J, M, t);
  if (ib == nullptr) {
    fk_forward_one(M, t, parents, J, out);
    return;
  }
  fk_forward_one(M, t, parents, J, G);
  compose_one(G, ib, J, out);
}

/// d/d(joint parameters) [J, 7] of <grad, joint_transforms_one(...)>; `grad` [J, 3, 4].
template <typename T>
TORCHRIG_HOST_DEVICE inline void joint_transforms_backward_one(
    const T* grad, const T* jp, const T* off, const int64_t* parents, const T* ib, int64_t J,
    T* grad_jp, T* work) {
  T* M = work;
  T* t = work + J * 9;
  T* G = work + J * 12;
  T* adj = work + J * 24;
  T* dM = work + J * 36;
  T* dt = work + J * 45;
  joint_locals_one(jp, off, J, M, t);
  fk_forward_one(M, t, parents, J, G);
  // dL/dG: through the inverse bind when there is one (T = G IB: dG_rot = dT_rot IB_rot^T +
  // dT_t IB_t^T, dG_t = dT_t), else the incoming gradient itself
  for (int64_t j = 0; j < J; ++j) {
    const T* g = grad + j * 12;
    T* a = adj + j * 12;
    if (ib == nullptr) {
      for (int k = 0; k < 12; ++k) a[k] = g[k];
      continue;
    }
    const T* b = ib + j * 12;
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 3; ++c)
        a[r * 4 + c] = g[r * 4 + 0] * b[c * 4 + 0] + g[r * 4 + 1] * b[c * 4 + 1] +
                       g[r * 4 + 2] * b[c * 4 + 2] + g[r * 4 + 3] * b[c * 4 + 3];
      a[r * 4 + 3] = g[r * 4 + 3];
    }
  }
  fk_backward_one(M, t, parents, G, J, adj, dM, dt);
  const T ln2 = T(0.69314718055994530942);
  for (int64_t j = 0; j < J; ++j) {
    const T* p = jp + j * 7;
    const T* m = M + j * 9;
    const T* d = dM + j * 9;
    T* gp = grad_jp + j * 7;
    for (int r = 0; r < 3; ++r) gp[r] = dt[j * 3 + r];
    const T sa = TORCHRIG_MATH(sin)(p[3]), ca = TORCHRIG_MATH(cos)(p[3]);
    const T sb = TORCHRIG_MATH(sin)(p[4]), cb = TORCHRIG_MATH(cos)(p[4]);
    const T sc = TORCHRIG_MATH(sin)(p[5]), cc = TORCHRIG_MATH(cos)(p[5]);
    const T s = TORCHRIG_MATH(exp2)(p[6]);
    // M = s R: dL/dR = s dM. dR/drx = R [e_x]x (columns: 0, R_:2, -R_:1), dR/drz = [e_z]x R
    // (rows: -R_1:, R_0:, 0), dR/dry written out; R = M / s.
    T g_rx = 0, g_rz = 0, g_sc = 0;
    for (int r = 0; r < 3; ++r) {
      g_rx += d[r * 3 + 1] * m[r * 3 + 2] - d[r * 3 + 2] * m[r * 3 + 1];
      g_rz += -d[0 * 3 + r] * m[1 * 3 + r] + d[1 * 3 + r] * m[0 * 3 + r];
    }
    for (int k = 0; k < 9; ++k) g_sc += d[k] * m[k];
    const T dRb[9] = {-cc * sb, cc * cb * sa, cc * cb * ca,   //
                      -sc * sb, sc * cb * sa, sc * cb * ca,   //
                      -cb,      -sb * sa,     -sb * ca};
    T g_ry = 0;
    for (int k = 0; k < 9; ++k) g_ry += d[k] * dRb[k];
    gp[3] = g_rx;  // (m already carries s)
    gp[4] = s * g_ry;
    gp[5] = g_rz;
    gp[6] = ln2 * g_sc;
  }
}

}  // namespace torchrig::kernels

#undef TORCHRIG_MATH
