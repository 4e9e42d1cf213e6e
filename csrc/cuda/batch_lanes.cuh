// "Batch in lanes": the work layout of the skinning kernels (no torch types).
//
// The 32 lanes of a warp hold 32 consecutive batch elements b0 + lane and walk
// the same vertices together. Everything per vertex (indices, weights, a
// shared rest mesh) is then warp-uniform, and so is the joint of each
// influence slot k. Neighbouring vertices of a mesh mostly share joints, so a
// lane keeps, per slot, the transform it blends (forward) or the gradient it
// accumulates (backward) in registers until the slot's joint changes: the
// [J, 12] data of the lane's batch element is touched once per run of
// vertices, not once per vertex.
//
// Per-(b, v) arrays ([B, V, 3]: rest, output, its gradient) pass through a
// per-warp tile in shared memory, [32 batch rows][kTileV vertices * 3],
// filled and drained row by row, so global accesses are coalesced while each
// lane works on its own row. The [J, 12] rows of the block's 32 batch
// elements are staged in a shared-memory "slab" [J * 12][kSlabPitch] when it
// fits (LanePlan::slab); otherwise lanes address global memory directly.
// Both pitches are odd multiples of one bank, so lanes hit distinct banks.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "device.cuh"

namespace torchrig::gpu {

constexpr int kTileV = 16;                     // vertices per tile
constexpr int kTileRow = kTileV * 3 + 1;       // padded row of one batch element
constexpr int kTileElems = kWarp * kTileRow;   // one tile
constexpr int kSlabPitch = kWarp + 1;          // padded [32 batch] column of a slab
constexpr int kMinSlabWarps = 4;               // below this, skip the slab

/// Launch shape of a batch-in-lanes kernel: grid (splits, min(groups, 65535)),
/// warps * 32 threads, smem_bytes of dynamic shared memory.
struct LanePlan {
  int64_t groups;          // batch groups of 32 (grid.y, grid-strided)
  int64_t splits;          // blocks per group along the vertices (grid.x)
  int64_t verts_per_warp;  // contiguous vertices of one warp, multiple of kTileV
  int64_t slab_elems;      // J * 12 * kSlabPitch when slab, else 0
  int warps;               // warps per block
  int tiles;               // [B, V, 3] tiles per warp (1, or 2 with a batched rest)
  bool slab;               // per-batch [J, 12] rows staged in shared memory
  size_t smem_bytes;
};

/// Plans a launch for B x V vertices, J joints, `tiles` tiles per warp,
/// elements of `elem` bytes, at most `smem_limit` bytes of shared memory per
/// block, `max_warps` warps per block and `num_sms` multiprocessors.
inline LanePlan plan_lanes(int64_t B, int64_t V, int64_t J, int tiles,
                           size_t elem, size_t smem_limit, int max_warps,
                           int num_sms) {
  LanePlan p{};
  p.groups = ceil_div(B, kWarp);
  p.tiles = tiles;
  const size_t tile_bytes = size_t(tiles) * kTileElems * elem;
  const size_t slab_bytes = size_t(J) * 12 * kSlabPitch * elem;
  p.slab = slab_bytes + kMinSlabWarps * tile_bytes <= smem_limit;
  const size_t left = smem_limit - (p.slab ? slab_bytes : 0);
  const int64_t vtiles = ceil_div(V, kTileV);
  p.warps = int(std::clamp<int64_t>(
      std::min<int64_t>(int64_t(left / tile_bytes), vtiles), 1, max_warps));
  p.slab_elems = p.slab ? J * 12 * kSlabPitch : 0;
  // About two blocks per multiprocessor, but no block without vertices.
  p.splits = std::clamp<int64_t>(ceil_div(2 * int64_t(num_sms), p.groups), 1,
                                 std::max<int64_t>(ceil_div(vtiles, p.warps), 1));
  p.verts_per_warp = ceil_div(vtiles, p.splits * p.warps) * kTileV;
  p.smem_bytes = (p.slab ? slab_bytes : 0) + size_t(p.warps) * tile_bytes;
  return p;
}

/// The [J, 12] rows of one lane's batch element: in a slab (pitch kSlabPitch)
/// or in global memory (pitch 1).
template <typename T>
struct LaneRows {
  T* base;
  int64_t pitch;

  TORCHRIG_HOST_DEVICE T& at(int64_t j, int e) const {
    return base[(j * 12 + e) * pitch];
  }
  TORCHRIG_HOST_DEVICE void load(int64_t j, std::remove_const_t<T> M[12]) const {
    for (int e = 0; e < 12; ++e) M[e] = at(j, e);
  }
};

/// tile[r][c] = src[b0 + r, v0 + c / 3, c % 3] for c < 3 * nv (rows past B: 0).
/// src is [B, V, 3]; called by all lanes of a warp.
template <typename T>
__device__ __forceinline__ void load_tile(T* tile, const T* src, int64_t b0,
                                          int64_t B, int64_t V, int64_t v0,
                                          int nv, int lane) {
  for (int r = 0; r < kWarp; ++r) {
    T* dst = tile + r * kTileRow;
    if (b0 + r >= B) {
      for (int c = lane; c < 3 * nv; c += kWarp) dst[c] = T(0);
      continue;
    }
    const T* row = src + ((b0 + r) * V + v0) * 3;
    for (int c = lane; c < 3 * nv; c += kWarp) dst[c] = row[c];
  }
}

/// The reverse of load_tile (rows past B are not written).
template <typename T>
__device__ __forceinline__ void store_tile(T* dst, const T* tile, int64_t b0,
                                           int64_t B, int64_t V, int64_t v0,
                                           int nv, int lane) {
  for (int r = 0; r < kWarp && b0 + r < B; ++r) {
    T* row = dst + ((b0 + r) * V + v0) * 3;
    for (int c = lane; c < 3 * nv; c += kWarp) row[c] = tile[r * kTileRow + c];
  }
}

/// slab[e][r] = src[b0 + r][e] for e < JE (rows past B: 0). Block-wide.
template <typename T>
__device__ __forceinline__ void load_slab(T* slab, const T* src, int64_t b0,
                                          int64_t B, int64_t JE) {
  for (int64_t i = threadIdx.x; i < kWarp * JE; i += blockDim.x) {
    const int64_t r = i / JE, e = i - r * JE;
    slab[e * kSlabPitch + r] = b0 + r < B ? src[(b0 + r) * JE + e] : T(0);
  }
}

/// Zeroes a slab of JE entries. Block-wide.
template <typename T>
__device__ __forceinline__ void zero_slab(T* slab, int64_t JE) {
  for (int64_t i = threadIdx.x; i < JE * kSlabPitch; i += blockDim.x) slab[i] = T(0);
}

/// dst[b0 + r][e] += slab[e][r] for rows below B; atomically, since blocks
/// of other vertex splits add to the same rows. Block-wide.
template <typename T>
__device__ __forceinline__ void add_slab(T* dst, const T* slab, int64_t b0,
                                         int64_t B, int64_t JE) {
  const int64_t rows = min64(kWarp, B - b0);
  for (int64_t i = threadIdx.x; i < rows * JE; i += blockDim.x) {
    const int64_t r = i / JE, e = i - r * JE;
    atomicAdd(dst + (b0 + r) * JE + e, slab[e * kSlabPitch + r]);
  }
}

}  // namespace torchrig::gpu
