// Sparse skinning with the batch in SIMD lanes (CPU): plain C++ over raw pointers.
//
// The B elements of a batch share indices, weights and (usually) the rest
// mesh, so L consecutive batch elements b0 .. b0+L-1 can walk the vertices
// together: every per-vertex scalar (joint index, weight, rest coordinate) is
// the same for all lanes, and each line below `for (l < L)` is one SIMD
// operation the compiler vectorises (L = one register of T: 4 floats with
// SSE2, 8 with AVX2, 16 with AVX-512; csrc/launch/cpu_lanes_*.cpp build this
// header once per instruction set, chosen at run time).
//
// Per-block scratch, "lanes innermost":
//   tfl  [J][12][L]   the block's transforms           (forward)
//   acc  [J][12][L]   the block's dL/dtransforms       (backward)
// Per-(b, v) arrays ([B, V, 3]) pass through a tile [kTile * 3][L] so that the
// strided accesses across the batch become a transpose of a small tile.
//
// Layouts as in skin.h (SkinDims): rest [B or 1, V, 3] (batch stride
// d.rest_bs), tf [B, J, 3, 4], idx/w [V, K], out/grad [B, V, 3], all
// contiguous. Lanes past the end of the batch (nb < L) compute on zeros and
// are never stored.
//
// Everything here has internal linkage (anonymous namespace): each
// instruction-set build keeps its own copy, so the linker can never swap an
// AVX-512 instantiation into baseline code.
#pragma once

#include <cstdint>

#include "skin.h"

namespace torchrig::kernels {
namespace {  // NOLINT(google-build-namespaces): one copy per ISA translation unit

constexpr int64_t kLaneTile = 16;  // vertices per [B, V, 3] tile

/// tfl[j][e][l] = tf[b0 + l][j][e] (zero for l >= nb).
template <typename T, int L>
inline void gather_lane_transforms(const SkinDims& d, const T* tf, int64_t b0,
                                   int64_t nb, T* tfl) {
  for (int64_t l = 0; l < L; ++l) {
    if (l < nb) {
      const T* src = tf + (b0 + l) * d.J * 12;
      for (int64_t je = 0; je < d.J * 12; ++je) tfl[je * L + l] = src[je];
    } else {
      for (int64_t je = 0; je < d.J * 12; ++je) tfl[je * L + l] = T(0);
    }
  }
}

/// tile[i][l] = src[(b0 + l) * stride + i] for i < n (zero for l >= nb).
template <typename T, int L>
inline void load_tile(const T* src, int64_t stride, int64_t nb, int64_t n,
                      T* tile) {
  for (int64_t l = 0; l < L; ++l) {
    if (l < nb) {
      const T* s = src + l * stride;
      for (int64_t i = 0; i < n; ++i) tile[i * L + l] = s[i];
    } else {
      for (int64_t i = 0; i < n; ++i) tile[i * L + l] = T(0);
    }
  }
}

/// dst[(b0 + l) * stride + i] = tile[i][l] for i < n, l < nb.
template <typename T, int L>
inline void store_tile(const T* tile, int64_t stride, int64_t nb, int64_t n,
                       T* dst) {
  for (int64_t l = 0; l < nb; ++l) {
    T* o = dst + l * stride;
    for (int64_t i = 0; i < n; ++i) o[i] = tile[i * L + l];
  }
}

/// Forward of batch elements [b0, b0 + nb), nb <= L, vertices [v0, v1).
/// `tfl` is scratch of J * 12 * L elements.
template <typename T, int L>
inline void skin_forward_lanes(const SkinDims& d, const T* rest, const T* tf,
                               const int64_t* idx, const T* w, T* out,
                               int64_t b0, int64_t nb, int64_t v0, int64_t v1,
                               T* tfl) {
  gather_lane_transforms<T, L>(d, tf, b0, nb, tfl);
  alignas(64) T xt[kLaneTile * 3 * L];
  alignas(64) T yt[kLaneTile * 3 * L];
  const bool shared = d.rest_bs == 0;
  for (int64_t t0 = v0; t0 < v1; t0 += kLaneTile) {
    const int64_t n = (t0 + kLaneTile < v1 ? t0 + kLaneTile : v1) - t0;
    if (!shared)
      load_tile<T, L>(rest + b0 * d.rest_bs + t0 * 3, d.rest_bs, nb, n * 3, xt);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t v = t0 + i;
      const int64_t* idx_v = idx + v * d.K;
      const T* w_v = w + v * d.K;
      alignas(64) T M[12][L];
      for (int e = 0; e < 12; ++e)
        for (int l = 0; l < L; ++l) M[e][l] = T(0);
      for (int64_t k = 0; k < d.K; ++k) {
        const T* A = tfl + idx_v[k] * 12 * L;
        const T wk = w_v[k];
        for (int e = 0; e < 12; ++e)
          for (int l = 0; l < L; ++l) M[e][l] += wk * A[e * L + l];
      }
      T* y = yt + i * 3 * L;
      if (shared) {
        const T x0 = rest[v * 3], x1 = rest[v * 3 + 1], x2 = rest[v * 3 + 2];
        for (int r = 0; r < 3; ++r)
          for (int l = 0; l < L; ++l)
            y[r * L + l] = M[r * 4][l] * x0 + M[r * 4 + 1][l] * x1 +
                           M[r * 4 + 2][l] * x2 + M[r * 4 + 3][l];
      } else {
        const T* x = xt + i * 3 * L;
        for (int r = 0; r < 3; ++r)
          for (int l = 0; l < L; ++l)
            y[r * L + l] = M[r * 4][l] * x[l] + M[r * 4 + 1][l] * x[L + l] +
                           M[r * 4 + 2][l] * x[2 * L + l] + M[r * 4 + 3][l];
      }
    }
    store_tile<T, L>(yt, d.V * 3, nb, n * 3, out + b0 * d.V * 3 + t0 * 3);
  }
}

/// dL/dtransforms of batch elements [b0, b0 + nb) from vertices [v0, v1):
/// acc[j][e][l] (J * 12 * L, zeroed here) += w_k g_bv [x; 1]^T, then written
/// to out[l][j][e] (J * 12 per batch element, batch stride `out_bs`).
template <typename T, int L>
inline void skin_grad_transforms_lanes(const SkinDims& d, const T* grad,
                                       const T* rest, const int64_t* idx,
                                       const T* w, int64_t b0, int64_t nb,
                                       int64_t v0, int64_t v1, T* acc, T* out,
                                       int64_t out_bs) {
  for (int64_t i = 0; i < d.J * 12 * L; ++i) acc[i] = T(0);
  alignas(64) T xt[kLaneTile * 3 * L];
  alignas(64) T gt[kLaneTile * 3 * L];
  const bool shared = d.rest_bs == 0;
  for (int64_t t0 = v0; t0 < v1; t0 += kLaneTile) {
    const int64_t n = (t0 + kLaneTile < v1 ? t0 + kLaneTile : v1) - t0;
    load_tile<T, L>(grad + b0 * d.V * 3 + t0 * 3, d.V * 3, nb, n * 3, gt);
    if (!shared)
      load_tile<T, L>(rest + b0 * d.rest_bs + t0 * 3, d.rest_bs, nb, n * 3, xt);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t v = t0 + i;
      const T* g = gt + i * 3 * L;
      alignas(64) T x[3][L];
      for (int c = 0; c < 3; ++c)
        for (int l = 0; l < L; ++l)
          x[c][l] = shared ? rest[v * 3 + c] : xt[(i * 3 + c) * L + l];
      for (int64_t k = 0; k < d.K; ++k) {
        T* A = acc + idx[v * d.K + k] * 12 * L;
        const T wk = w[v * d.K + k];
        for (int r = 0; r < 3; ++r)
          for (int l = 0; l < L; ++l) {
            const T wg = wk * g[r * L + l];
            A[(r * 4 + 0) * L + l] += wg * x[0][l];
            A[(r * 4 + 1) * L + l] += wg * x[1][l];
            A[(r * 4 + 2) * L + l] += wg * x[2][l];
            A[(r * 4 + 3) * L + l] += wg;
          }
      }
    }
  }
  store_tile<T, L>(acc, out_bs, nb, d.J * 12, out);
}

}  // namespace
}  // namespace torchrig::kernels
