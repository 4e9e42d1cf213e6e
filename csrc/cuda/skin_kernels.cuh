// CUDA kernels of sparse linear-blend skinning (no torch types).
//
// Shapes as in kernels/skin.h (all contiguous):
//   rest [B or 1, V, 3] (batch stride d.rest_bs), tf [B, J, 3, 4],
//   idx [V, K] int64 in [0, J), w [V, K], out / grad [B, V, 3].
// The per-influence maths is kernels/skin.h's (apply_transform,
// blend_transform); the kernels only decide who computes what, where.
//
//   skin_forward_kernel           batch in lanes (batch_lanes.cuh), one pass
//                                 over the vertices, transforms of each slot
//                                 cached in registers along runs of vertices.
//   skin_grad_transforms_kernel   same layout; dL/dT accumulated in registers
//                                 per slot, flushed into a shared-memory slab
//                                 when the slot's joint changes, the slab added
//                                 to global memory once per block.
//   skin_grad_vertices_kernel     dL/drest and dL/dw: one thread per vertex and
//                                 batch chunk; per-chunk partial sums.
#pragma once

#include <cstdint>

#include "../kernels/skin.h"
#include "batch_lanes.cuh"
#include "device.cuh"

namespace torchrig::gpu {

/// Influence slots whose transform (or gradient) is kept in registers; slots
/// past it are re-read (re-flushed) per vertex.
constexpr int kCachedSlots = 4;

/// Warps per block of the batch-in-lanes kernels: 16 in float32, 8 in float64
/// (the register caches of 4 slots double in size).
template <typename T>
constexpr int lanes_max_warps() {
  return sizeof(T) > 4 ? 8 : 16;
}

/// y += s * (M[:, :3] x + M[:, 3])
template <typename T>
__device__ __forceinline__ void add_influence(const T M[12], T s, const T* x,
                                              T y[3]) {
  T t[3];
  kernels::apply_transform(M, x, t);
  y[0] += s * t[0];
  y[1] += s * t[1];
  y[2] += s * t[2];
}

template <typename T>
__device__ __forceinline__ void atomic_add_row(const LaneRows<T>& rows,
                                               int64_t j, const T A[12]) {
  for (int e = 0; e < 12; ++e) atomicAdd(&rows.at(j, e), A[e]);
}

/// Where a warp of a batch-in-lanes kernel works: the block's shared memory,
/// the warp's tile(s) after the slab, its lane, and its vertex range.
template <typename T>
struct WarpPlace {
  T* smem;
  T* tile;    // [B, V, 3] tile of the output / incoming gradient
  T* tile_x;  // the rest tile (only with a batched rest)
  int lane;
  int64_t v_begin, v_end;
};

template <typename T>
__device__ __forceinline__ WarpPlace<T> warp_place(const kernels::SkinDims& d, const LanePlan& p) {
  T* smem = dynamic_smem<T>();
  const int warp = threadIdx.x / kWarp;
  T* tile = smem + p.slab_elems + warp * p.tiles * kTileElems;
  const int64_t v_begin = (int64_t(blockIdx.x) * p.warps + warp) * p.verts_per_warp;
  return {smem, tile, tile + kTileElems, int(threadIdx.x % kWarp), v_begin,
          min64(d.V, v_begin + p.verts_per_warp)};
}

/// out [B, V, 3] = skin(rest, tf, idx, w). Launch shape: plan_lanes with
/// tiles = 1 (+1 when rest is batched), T's lanes_max_warps.
template <typename T>
__global__ void __launch_bounds__(lanes_max_warps<T>() * kWarp)
skin_forward_kernel(kernels::SkinDims d, LanePlan p, const T* rest,
                    const T* tf, const int64_t* idx, const T* w, T* out) {
  const auto [smem, tile_y, tile_x, lane, v_begin, v_end] = warp_place<T>(d, p);
  const int64_t JE = d.J * 12;
  for (int64_t g = blockIdx.y; g < p.groups; g += gridDim.y) {
    const int64_t b0 = g * kWarp;
    if (p.slab) {
      __syncthreads();  // the previous group's slab is no longer read
      load_slab(smem, tf, b0, d.B, JE);
      __syncthreads();
    }
    // Lanes past B compute on zeros (slab) or on row B-1; never stored.
    const LaneRows<const T> rows =
        p.slab ? LaneRows<const T>{smem + lane, kSlabPitch}
               : LaneRows<const T>{tf + min64(b0 + lane, d.B - 1) * JE, 1};
    int64_t cur[kCachedSlots];
    T M[kCachedSlots][12];
    for (int k = 0; k < kCachedSlots; ++k) cur[k] = -1;
    for (int64_t v0 = v_begin; v0 < v_end; v0 += kTileV) {
      const int nv = int(min64(kTileV, v_end - v0));
      if (d.rest_bs != 0) load_tile(tile_x, rest, b0, d.B, d.V, v0, nv, lane);
      __syncwarp();
      for (int i = 0; i < nv; ++i) {
        const int64_t v = v0 + i;
        const T* xp = d.rest_bs != 0 ? tile_x + lane * kTileRow + i * 3 : rest + v * 3;
        const T x[3] = {xp[0], xp[1], xp[2]};
        const int64_t* idx_v = idx + v * d.K;
        const T* w_v = w + v * d.K;
        T y[3] = {T(0), T(0), T(0)};
#pragma unroll
        for (int k = 0; k < kCachedSlots; ++k) {
          if (k < d.K) {
            const int64_t j = idx_v[k];  // warp-uniform
            if (j != cur[k]) {
              cur[k] = j;
              rows.load(j, M[k]);
            }
            add_influence(M[k], w_v[k], x, y);
          }
        }
        for (int64_t k = kCachedSlots; k < d.K; ++k) {
          T A[12];
          rows.load(idx_v[k], A);
          add_influence(A, w_v[k], x, y);
        }
        T* yt = tile_y + lane * kTileRow + i * 3;
        yt[0] = y[0];
        yt[1] = y[1];
        yt[2] = y[2];
      }
      __syncwarp();
      store_tile(out, tile_y, b0, d.B, d.V, v0, nv, lane);
      __syncwarp();
    }
  }
}

/// grad_tf [B, J, 3, 4] += dL/dtf for grad [B, V, 3] (grad_tf zeroed by the
/// caller). Launch shape as skin_forward_kernel.
template <typename T>
__global__ void __launch_bounds__(lanes_max_warps<T>() * kWarp)
skin_grad_transforms_kernel(kernels::SkinDims d, LanePlan p, const T* grad,
                            const T* rest, const int64_t* idx, const T* w,
                            T* grad_tf) {
  const auto [smem, tile_g, tile_x, lane, v_begin, v_end] = warp_place<T>(d, p);
  const int64_t JE = d.J * 12;
  for (int64_t g = blockIdx.y; g < p.groups; g += gridDim.y) {
    const int64_t b0 = g * kWarp;
    const bool live = b0 + lane < d.B;
    if (p.slab) {
      __syncthreads();  // the previous group's slab has been added out
      zero_slab(smem, JE);
      __syncthreads();
    }
    const LaneRows<T> rows = p.slab
                                 ? LaneRows<T>{smem + lane, kSlabPitch}
                                 : LaneRows<T>{grad_tf + min64(b0 + lane, d.B - 1) * JE, 1};
    int64_t cur[kCachedSlots];
    T A[kCachedSlots][12];
    for (int k = 0; k < kCachedSlots; ++k) cur[k] = -1;
    for (int64_t v0 = v_begin; v0 < v_end; v0 += kTileV) {
      const int nv = int(min64(kTileV, v_end - v0));
      load_tile(tile_g, grad, b0, d.B, d.V, v0, nv, lane);
      if (d.rest_bs != 0) load_tile(tile_x, rest, b0, d.B, d.V, v0, nv, lane);
      __syncwarp();
      for (int i = 0; i < nv; ++i) {
        const int64_t v = v0 + i;
        const T* gp = tile_g + lane * kTileRow + i * 3;
        const T* xp = d.rest_bs != 0 ? tile_x + lane * kTileRow + i * 3 : rest + v * 3;
        const T gv[3] = {gp[0], gp[1], gp[2]}, x[3] = {xp[0], xp[1], xp[2]};
        const int64_t* idx_v = idx + v * d.K;
        const T* w_v = w + v * d.K;
#pragma unroll
        for (int k = 0; k < kCachedSlots; ++k) {
          if (k < d.K) {
            const int64_t j = idx_v[k];  // warp-uniform
            if (j != cur[k]) {
              if (cur[k] >= 0 && live) atomic_add_row(rows, cur[k], A[k]);
              cur[k] = j;
              for (int e = 0; e < 12; ++e) A[k][e] = T(0);
            }
            kernels::add_outer(w_v[k], gv, x, A[k]);
          }
        }
        for (int64_t k = kCachedSlots; k < d.K; ++k) {
          T U[12] = {};
          kernels::add_outer(w_v[k], gv, x, U);
          if (live) atomic_add_row(rows, idx_v[k], U);
        }
      }
      __syncwarp();  // the tiles are refilled next
    }
#pragma unroll
    for (int k = 0; k < kCachedSlots; ++k)
      if (cur[k] >= 0 && live) atomic_add_row(rows, cur[k], A[k]);
    if (p.slab) {
      __syncthreads();
      add_slab(grad_tf, smem, b0, d.B, JE);
    }
  }
}

/// Gradients that live on vertices, for batch elements [c * chunk,
/// (c + 1) * chunk) with c = blockIdx.y; one thread per vertex:
///   grad_rest: batched rest -> [B, V, 3] written in place; shared rest ->
///              partial sums [C, V, 3] (row c) to be summed over C.
///   grad_w:    partial sums [C, V, K] (row c).
/// Either may be null (not requested).
template <typename T>
__global__ void skin_grad_vertices_kernel(kernels::SkinDims d, int64_t chunk,
                                          const T* grad, const T* rest,
                                          const T* tf, const int64_t* idx,
                                          const T* w, T* grad_rest, T* grad_w) {
  const int64_t v = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (v >= d.V) return;
  const int64_t c = blockIdx.y;
  const int64_t b_begin = c * chunk, b_end = min64(d.B, b_begin + chunk);
  const int64_t JE = d.J * 12;
  const int64_t* idx_v = idx + v * d.K;
  const T* w_v = w + v * d.K;
  if (grad_rest != nullptr) {
    T sum[3] = {T(0), T(0), T(0)};
    for (int64_t b = b_begin; b < b_end; ++b) {
      T M[12], t[3];
      kernels::blend_transform(tf + b * JE, idx_v, w_v, d.K, M);
      kernels::rotate_transposed(M, grad + (b * d.V + v) * 3, t);
      if (d.rest_bs != 0) {
        for (int r = 0; r < 3; ++r) grad_rest[(b * d.V + v) * 3 + r] = t[r];
      } else {
        for (int r = 0; r < 3; ++r) sum[r] += t[r];
      }
    }
    if (d.rest_bs == 0)
      for (int r = 0; r < 3; ++r) grad_rest[(c * d.V + v) * 3 + r] = sum[r];
  }
  if (grad_w != nullptr) {
    for (int64_t k = 0; k < d.K; ++k) {
      T sum = T(0);
      for (int64_t b = b_begin; b < b_end; ++b) {
        const T* g = grad + (b * d.V + v) * 3;
        T y[3];
        kernels::apply_transform(tf + b * JE + idx_v[k] * 12,
                                 rest + b * d.rest_bs + v * 3, y);
        sum += g[0] * y[0] + g[1] * y[1] + g[2] * y[2];
      }
      grad_w[(c * d.V + v) * d.K + k] = sum;
    }
  }
}

}  // namespace torchrig::gpu
