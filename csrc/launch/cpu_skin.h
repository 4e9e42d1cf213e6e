// Launch plan of sparse linear-blend skinning on the CPU, for both bindings:
// which kernels run (the per-vertex ones of ../kernels/skin.h, or the
// batch-in-lanes ones of cpu_lanes.h for the widest instruction set this CPU
// has), how the work is split over the binding's thread pool (cpu.h), the
// serial path for small work, and the reduction of the transforms gradient.
// Inputs are contiguous, sizes in `d` (dims.h); no torch types.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "../kernels/skin.h"
#include "cpu.h"
#include "tensors.h"
#include "cpu_lanes.h"

namespace torchrig::launch {

/// Vertices per parallel task when each is processed for B batch elements.
constexpr int64_t kVertexGrain = 2048;

inline int64_t skin_vertex_grain(const kernels::SkinDims& d) {
  const int64_t B = std::max<int64_t>(d.B, 1);
  return std::max<int64_t>(kVertexGrain / B, grain_for(B * std::max<int64_t>(d.K, 1)));
}

inline bool skin_is_small(const kernels::SkinDims& d) {
  return d.B * d.V * std::max<int64_t>(d.K, 1) <= kSerialWork;
}

template <typename T>
const LaneKernels<T>& lane_kernels();
template <>
inline const LaneKernels<float>& lane_kernels<float>() { return lane_kernels_float(); }
template <>
inline const LaneKernels<double>& lane_kernels<double>() { return lane_kernels_double(); }

/// The batch-in-lanes kernels pay off once a register's lanes are mostly full;
/// their per-task scratch ([J, 12] per lane) must stay cache-sized.
template <typename T>
bool skin_uses_lanes(const kernels::SkinDims& d) {
  return 2 * d.B >= lane_kernels<T>().lanes && d.J <= 1024;
}

/// Work split of the lane kernels: (batch block, vertex chunk) tasks, enough
/// for every thread twice, chunks of at least kVertexGrain / 4 vertices.
struct LaneSplit {
  int64_t lanes, blocks, chunks, per_chunk;
  int64_t tasks() const { return blocks * chunks; }

  /// Task t's batch elements [b0, b0 + nb) and vertices [v0, v1) (v1 >= v0), and its chunk c.
  struct Task {
    int64_t c, b0, nb, v0, v1;
  };
  Task task(const kernels::SkinDims& d, int64_t t) const {
    const int64_t c = t % chunks, b0 = (t / chunks) * lanes, v0 = c * per_chunk;
    return {c, b0, std::min(lanes, d.B - b0), v0, std::max(v0, std::min(d.V, v0 + per_chunk))};
  }
};

inline LaneSplit lane_split(const kernels::SkinDims& d, int64_t lanes, int64_t threads) {
  const int64_t blocks = (d.B + lanes - 1) / lanes;
  const int64_t chunks = std::clamp<int64_t>((2 * threads + blocks - 1) / blocks, 1,
                                             std::max<int64_t>(d.V / (kVertexGrain / 4), 1));
  return {lanes, blocks, chunks, (d.V + chunks - 1) / chunks};
}

/// Tasks per pool chunk: all of them on the calling thread for small work.
inline int64_t task_grain(const kernels::SkinDims& d, int64_t tasks) {
  return skin_is_small(d) ? tasks : 1;
}

/// y [B, V, 3] = skinned vertices.
template <typename T, class Pool>
void skin_forward(const Pool& pool, const kernels::SkinDims& d, const T* rest, const T* tf,
                  const int64_t* idx, const T* w, T* y) {
  if (!skin_uses_lanes<T>(d)) {
    run(pool, 0, d.V, skin_vertex_grain(d), [&](int64_t begin, int64_t end) {
      kernels::skin_forward_vertices(d, rest, tf, idx, w, y, begin, end);
    });
    return;
  }
  const LaneKernels<T>& kern = lane_kernels<T>();
  const LaneSplit s = lane_split(d, kern.lanes, pool.threads());
  run(pool, 0, s.tasks(), task_grain(d, s.tasks()), [&](int64_t begin, int64_t end) {
    std::unique_ptr<T[]> scratch(new T[d.J * 12 * s.lanes]);
    for (int64_t t = begin; t < end; ++t) {
      const LaneSplit::Task k = s.task(d, t);
      if (k.v0 < k.v1) kern.forward(d, rest, tf, idx, w, y, k.b0, k.nb, k.v0, k.v1, scratch.get());
    }
  });
}

/// out[i] = sum over c < chunks of slabs[c * n + i], i < n.
template <typename T>
void sum_slabs(const T* slabs, int64_t chunks, int64_t n, T* out) {
  std::copy(slabs, slabs + n, out);
  for (int64_t c = 1; c < chunks; ++c) {
    const T* s = slabs + c * n;
    for (int64_t i = 0; i < n; ++i) out[i] += s[i];
  }
}

/// grad_tf [B, J, 3, 4] (zero-filled on entry) = dL/dtransforms. Each task owns
/// one batch block and one vertex chunk and writes its own [J, 3, 4] slab per
/// batch element; slabs [chunks, B, J, 3, 4] are then summed over the chunks.
/// With enough batch blocks for every thread there is one chunk (no slabs).
template <typename T, class Pool>
void skin_grad_transforms(const Pool& pool, const kernels::SkinDims& d, const T* grad,
                          const T* rest, const int64_t* idx, const T* w, T* grad_tf) {
  if (d.B == 0) return;
  const int64_t slab = d.J * 12;
  const bool lanes = skin_uses_lanes<T>(d);
  const LaneKernels<T>& kern = lane_kernels<T>();
  const LaneSplit s = lane_split(d, lanes ? kern.lanes : 1, pool.threads());
  std::vector<T> slabs;  // the per-vertex kernel adds into its slab: zero-filled
  if (s.chunks > 1) slabs.assign(size_t(s.chunks * d.B * slab), T(0));
  T* S = s.chunks > 1 ? slabs.data() : grad_tf;
  run(pool, 0, s.tasks(), task_grain(d, s.tasks()), [&](int64_t begin, int64_t end) {
    std::unique_ptr<T[]> scratch(lanes ? new T[slab * s.lanes] : nullptr);
    for (int64_t t = begin; t < end; ++t) {
      const LaneSplit::Task k = s.task(d, t);
      T* out = S + (k.c * d.B + k.b0) * slab;
      if (lanes) {
        kern.grad_transforms(d, grad, rest, idx, w, k.b0, k.nb, k.v0, k.v1, scratch.get(), out,
                             slab);
      } else {
        kernels::skin_backward_transforms(d, grad, rest, idx, w, k.b0, k.v0, k.v1, out);
      }
    }
  });
  if (s.chunks > 1) sum_slabs(S, s.chunks, d.B * slab, grad_tf);
}

/// dL/drest (layout of rest) and dL/dweights [V, K]; either may be null (not
/// asked for). A batched rest's gradient must come zero-filled (dims.h).
template <typename T, class Pool>
void skin_grad_vertices(const Pool& pool, const kernels::SkinDims& d, const T* grad,
                        const T* rest, const T* tf, const int64_t* idx, const T* w,
                        T* grad_rest, T* grad_w) {
  if (grad_rest == nullptr && grad_w == nullptr) return;
  run(pool, 0, d.V, skin_vertex_grain(d), [&](int64_t begin, int64_t end) {
    kernels::skin_backward_vertices(d, grad, rest, tf, idx, w, grad_rest, grad_w, begin, end);
  });
}

/// skin over a binding's layout (tensors.h): `in` SkinTensors, `out` [B, V, 3].
template <typename T, class Pool, class In, class Tensor>
void skin_forward(const Pool& pool, const In& in, const Tensor& out) {
  skin_forward(pool, in.d, in_ptr<T>(in.rest), in_ptr<T>(in.tf), in_ptr<int64_t>(in.idx),
               in_ptr<T>(in.w), out_ptr<T>(out));
}

/// skin_backward over a binding's layout (tensors.h): `in` SkinTensors, `grad`
/// [B, V, 3], `out` SkinGradTensors; `mask`: which of (rest, transforms, weights).
template <typename T, class Pool, class In, class Tensor, class Grads, class Mask>
void skin_backward(const Pool& pool, const In& in, const Tensor& grad, const Grads& out,
                   const Mask& mask) {
  skin_grad_vertices(pool, in.d, in_ptr<T>(grad), in_ptr<T>(in.rest), in_ptr<T>(in.tf),
                     in_ptr<int64_t>(in.idx), in_ptr<T>(in.w), out_ptr_if<T>(mask[0], out.rest),
                     out_ptr_if<T>(mask[2], out.w));
  if (mask[1])
    skin_grad_transforms(pool, in.d, in_ptr<T>(grad), in_ptr<T>(in.rest), in_ptr<int64_t>(in.idx),
                         in_ptr<T>(in.w), out_ptr<T>(out.tf));
}

}  // namespace torchrig::launch
