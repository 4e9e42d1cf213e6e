// Sparse linear-blend skinning: plain C++ over raw pointers.
//
//   out[b, v] = sum_k w[v, k] * T[b, idx[v, k]] @ [x[b, v]; 1]
//
// Layouts (contiguous inner dimensions):
//   rest  [B or 1, V, 3]  rest positions; `rest_bs` is the batch stride in
//                         elements (0 when one rest mesh is shared by the batch)
//   tf    [B, J, 3, 4]    skinning transforms (global transform x inverse bind)
//   idx   [V, K]          int64 joint index of each influence, validated in [0, J)
//   w     [V, K]          influence weights (not required to sum to 1)
//   out   [B, V, 3]
// No torch types: the per-vertex functions are shared by the CPU loops below
// and the CUDA kernels.
#pragma once

#include <cstdint>

#include "macros.h"

namespace torchrig::kernels {

struct SkinDims {
  int64_t B, V, J, K;
  int64_t rest_bs;  // batch stride of rest in elements: 0 (shared) or V * 3
};

/// M = sum_k w_k * tf_b[idx_k]: the blended 3x4 transform of one vertex.
template <typename T>
TORCHRIG_HOST_DEVICE inline void blend_transform(const T* tf_b,
                                                 const int64_t* idx_v,
                                                 const T* w_v, int64_t K,
                                                 T M[12]) {
  for (int e = 0; e < 12; ++e) M[e] = T(0);
  for (int64_t k = 0; k < K; ++k) {
    const T* A = tf_b + idx_v[k] * 12;
    const T wk = w_v[k];
    for (int e = 0; e < 12; ++e) M[e] += wk * A[e];
  }
}

/// y = M[:, :3] x + M[:, 3]
template <typename T>
TORCHRIG_HOST_DEVICE inline void apply_transform(const T M[12], const T* x,
                                                 T* y) {
  for (int r = 0; r < 3; ++r)
    y[r] = M[r * 4] * x[0] + M[r * 4 + 1] * x[1] + M[r * 4 + 2] * x[2] +
           M[r * 4 + 3];
}

/// out = M[:, :3]^T g: the gradient of M[:, :3] x + M[:, 3] w.r.t. x.
template <typename T>
TORCHRIG_HOST_DEVICE inline void rotate_transposed(const T M[12], const T* g,
                                                   T* out) {
  for (int c = 0; c < 3; ++c)
    out[c] = M[c] * g[0] + M[4 + c] * g[1] + M[8 + c] * g[2];
}

/// A += s * g [x; 1]^T: the gradient w.r.t. the 3x4 transform of one
/// influence with weight s.
template <typename T>
TORCHRIG_HOST_DEVICE inline void add_outer(T s, const T* g, const T* x,
                                           T A[12]) {
  for (int r = 0; r < 3; ++r) {
    const T sg = s * g[r];
    A[r * 4 + 0] += sg * x[0];
    A[r * 4 + 1] += sg * x[1];
    A[r * 4 + 2] += sg * x[2];
    A[r * 4 + 3] += sg;
  }
}

/// Skins vertices [v_begin, v_end) of every batch element.
///
/// Vertices are taken in tiles, each tile for the whole batch, so a tile's
/// indices and weights stay in L1 while they are reused B times.
template <typename T>
inline void skin_forward_vertices(const SkinDims& d, const T* rest,
                                  const T* tf, const int64_t* idx, const T* w,
                                  T* out, int64_t v_begin, int64_t v_end) {
  constexpr int64_t kTile = 256;
  T M[12];
  for (int64_t t0 = v_begin; t0 < v_end; t0 += kTile) {
    const int64_t t1 = t0 + kTile < v_end ? t0 + kTile : v_end;
    for (int64_t b = 0; b < d.B; ++b) {
      const T* tf_b = tf + b * d.J * 12;
      const T* x_b = rest + b * d.rest_bs;
      T* y_b = out + b * d.V * 3;
      for (int64_t v = t0; v < t1; ++v) {
        blend_transform(tf_b, idx + v * d.K, w + v * d.K, d.K, M);
        apply_transform(M, x_b + v * 3, y_b + v * 3);
      }
    }
  }
}

/// Gradients that live on vertices, for vertices [v_begin, v_end), summing
/// over the batch where the input is shared:
///   grad_rest[b?, v] = sum_b M_bv[:, :3]^T g_bv         (when grad_rest != null)
///   grad_w[v, k]     = sum_b g_bv . (T_b[idx_k] [x; 1])  (when grad_w != null)
/// `grad_rest` has the layout of `rest` (batch stride d.rest_bs).
template <typename T>
inline void skin_backward_vertices(const SkinDims& d, const T* grad,
                                   const T* rest, const T* tf,
                                   const int64_t* idx, const T* w,
                                   T* grad_rest, T* grad_w, int64_t v_begin,
                                   int64_t v_end) {
  T M[12];
  for (int64_t v = v_begin; v < v_end; ++v) {
    const int64_t* idx_v = idx + v * d.K;
    const T* w_v = w + v * d.K;
    if (grad_rest != nullptr && d.rest_bs == 0)
      for (int c = 0; c < 3; ++c) grad_rest[v * 3 + c] = T(0);
    if (grad_w != nullptr)
      for (int64_t k = 0; k < d.K; ++k) grad_w[v * d.K + k] = T(0);
    for (int64_t b = 0; b < d.B; ++b) {
      const T* g = grad + (b * d.V + v) * 3;
      const T* x = rest + b * d.rest_bs + v * 3;
      const T* tf_b = tf + b * d.J * 12;
      if (grad_rest != nullptr) {
        blend_transform(tf_b, idx_v, w_v, d.K, M);
        T t[3];
        rotate_transposed(M, g, t);
        T* gx = grad_rest + b * d.rest_bs + v * 3;
        for (int c = 0; c < 3; ++c) gx[c] += t[c];
      }
      if (grad_w != nullptr) {
        for (int64_t k = 0; k < d.K; ++k) {
          T y[3];
          apply_transform(tf_b + idx_v[k] * 12, x, y);
          grad_w[v * d.K + k] += g[0] * y[0] + g[1] * y[1] + g[2] * y[2];
        }
      }
    }
  }
}

/// Adds dL/dT_b for batch element b from vertices [v_begin, v_end) into
/// acc [J, 3, 4]:  acc[idx_k] += w_k * g_bv [x; 1]^T.
template <typename T>
inline void skin_backward_transforms(const SkinDims& d, const T* grad,
                                     const T* rest, const int64_t* idx,
                                     const T* w, int64_t b, int64_t v_begin,
                                     int64_t v_end, T* acc) {
  for (int64_t v = v_begin; v < v_end; ++v) {
    const T* g = grad + (b * d.V + v) * 3;
    const T* x = rest + b * d.rest_bs + v * 3;
    for (int64_t k = 0; k < d.K; ++k)
      add_outer(w[v * d.K + k], g, x, acc + idx[v * d.K + k] * 12);
  }
}

}  // namespace torchrig::kernels
