// CPU binding of sparse linear-blend skinning: validates, lays tensors out
// contiguously and runs csrc/kernels/skin.h with at::parallel_for.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <array>
#include <memory>

#include "../checks.h"
#include "../kernels/skin.h"
#include "../layout.h"
#include "skin_lanes.h"

namespace torchrig {
namespace {

constexpr int64_t kVertexGrain = 2048;
// Below this many vertex-influences (B * V * K, some 50 us of work) one thread
// does it all: waking the thread pool costs more than it saves, and far more
// (a scheduler time slice) when the machine is busy.
constexpr int64_t kSerialWork = 32768;

// Vertices per parallel task when each vertex is processed for B batch elements.
int64_t vertex_grain(const kernels::SkinDims& d) {
  const int64_t B = std::max<int64_t>(d.B, 1);
  return std::max<int64_t>({kVertexGrain / B, kSerialWork / (B * std::max<int64_t>(d.K, 1)), 1});
}

template <typename T>
const cpu::LaneKernels<T>& lane_kernels();
template <>
const cpu::LaneKernels<float>& lane_kernels<float>() { return cpu::lane_kernels_float(); }
template <>
const cpu::LaneKernels<double>& lane_kernels<double>() { return cpu::lane_kernels_double(); }

// The batch-in-lanes kernels pay off once a register's lanes are mostly full;
// their per-block scratch ([J, 12] per lane) must stay cache-sized.
template <typename T>
bool use_lanes(const kernels::SkinDims& d) {
  return 2 * d.B >= lane_kernels<T>().lanes && d.J <= 1024;
}

// Work split of the lane kernels: (batch block, vertex chunk) tasks, enough
// for every thread twice, chunks of at least kVertexGrain / 4 vertices.
struct LaneSplit {
  int64_t lanes, blocks, chunks, per_chunk;
};

LaneSplit lane_split(const kernels::SkinDims& d, int64_t lanes) {
  const int64_t blocks = (d.B + lanes - 1) / lanes;
  const int64_t threads = at::get_num_threads();
  const int64_t chunks = std::clamp<int64_t>((2 * threads + blocks - 1) / blocks, 1,
                                             std::max<int64_t>(d.V / (kVertexGrain / 4), 1));
  return {lanes, blocks, chunks, (d.V + chunks - 1) / chunks};
}

template <typename T>
void skin_forward_lanes(const kernels::SkinDims& d, const T* x, const T* tf,
                        const int64_t* I, const T* W, T* y) {
  const cpu::LaneKernels<T>& kern = lane_kernels<T>();
  const LaneSplit s = lane_split(d, kern.lanes);
  at::parallel_for(0, s.blocks * s.chunks, 1, [&](int64_t begin, int64_t end) {
    std::unique_ptr<T[]> scratch(new T[d.J * 12 * s.lanes]);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t blk = task / s.chunks, c = task % s.chunks;
      const int64_t b0 = blk * s.lanes, nb = std::min(s.lanes, d.B - b0);
      const int64_t v0 = c * s.per_chunk, v1 = std::min(d.V, v0 + s.per_chunk);
      if (v0 < v1) kern.forward(d, x, tf, I, W, y, b0, nb, v0, v1, scratch.get());
    }
  });
}

at::Tensor skin_cpu(const at::Tensor& rest_vertices, const at::Tensor& transforms,
                    const at::Tensor& indices, const at::Tensor& weights) {
  const SkinShape s = check_skin_inputs(rest_vertices, transforms, indices, weights);
  const SkinTensors in = skin_tensors(s, rest_vertices, transforms, indices, weights);
  at::Tensor out = at::empty({s.B, s.V, 3}, in.tf.options());
  AT_DISPATCH_FLOATING_TYPES(in.tf.scalar_type(), "torchrig::skin", [&] {
    const scalar_t* x = in.rest.const_data_ptr<scalar_t>();
    const scalar_t* T = in.tf.const_data_ptr<scalar_t>();
    const int64_t* I = in.idx.const_data_ptr<int64_t>();
    const scalar_t* W = in.w.const_data_ptr<scalar_t>();
    scalar_t* y = out.mutable_data_ptr<scalar_t>();
    if (use_lanes<scalar_t>(in.d)) {
      skin_forward_lanes(in.d, x, T, I, W, y);
      return;
    }
    at::parallel_for(0, s.V, vertex_grain(in.d), [&](int64_t begin, int64_t end) {
      kernels::skin_forward_vertices(in.d, x, T, I, W, y, begin, end);
    });
  });
  return out;
}

// dL/dtransforms: each task owns one batch element and one vertex chunk and
// accumulates into its own [J, 3, 4] slab; slabs of a batch element are then
// summed. With B >= threads there is one chunk per element (no reduction).
template <typename scalar_t>
void transforms_grad(const kernels::SkinDims& d, const scalar_t* g,
                     const scalar_t* x, const int64_t* I, const scalar_t* W,
                     at::Tensor& grad_tf) {
  if (use_lanes<scalar_t>(d)) {
    const cpu::LaneKernels<scalar_t>& kern = lane_kernels<scalar_t>();
    const LaneSplit s = lane_split(d, kern.lanes);
    // slabs [chunks, B, J, 3, 4], summed over chunks; one chunk writes grad_tf.
    at::Tensor slabs = s.chunks == 1 ? grad_tf
                                     : at::empty({s.chunks, d.B, d.J, 3, 4}, grad_tf.options());
    scalar_t* S = slabs.mutable_data_ptr<scalar_t>();
    at::parallel_for(0, s.blocks * s.chunks, 1, [&](int64_t begin, int64_t end) {
      std::unique_ptr<scalar_t[]> scratch(new scalar_t[d.J * 12 * s.lanes]);
      for (int64_t task = begin; task < end; ++task) {
        const int64_t blk = task / s.chunks, c = task % s.chunks;
        const int64_t b0 = blk * s.lanes, nb = std::min(s.lanes, d.B - b0);
        const int64_t v0 = c * s.per_chunk, v1 = std::min(d.V, v0 + s.per_chunk);
        kern.grad_transforms(d, g, x, I, W, b0, nb, v0, std::max(v0, v1), scratch.get(),
                             S + (c * d.B + b0) * d.J * 12, d.J * 12);
      }
    });
    if (s.chunks > 1) at::sum_out(grad_tf, slabs, {0});
    return;
  }
  const int64_t threads = at::get_num_threads();
  const int64_t chunks = std::clamp<int64_t>(
      (2 * threads + d.B - 1) / std::max<int64_t>(d.B, 1), 1,
      std::max<int64_t>(d.V / vertex_grain(d), 1));
  const int64_t per_chunk = (d.V + chunks - 1) / chunks;
  at::Tensor slabs = chunks == 1 ? grad_tf
                                 : at::zeros({d.B, chunks, d.J, 3, 4}, grad_tf.options());
  scalar_t* S = slabs.mutable_data_ptr<scalar_t>();
  at::parallel_for(0, d.B * chunks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / chunks, c = task % chunks;
      const int64_t v0 = c * per_chunk, v1 = std::min(d.V, v0 + per_chunk);
      kernels::skin_backward_transforms(d, g, x, I, W, b, v0, v1,
                                        S + task * d.J * 12);
    }
  });
  if (chunks > 1) grad_tf.copy_(slabs.sum(1));
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> skin_backward_cpu(
    const at::Tensor& grad_vertices, const at::Tensor& rest_vertices,
    const at::Tensor& transforms, const at::Tensor& indices,
    const at::Tensor& weights, std::array<bool, 3> output_mask) {
  const SkinShape s = check_skin_backward_inputs(grad_vertices, rest_vertices,
                                                 transforms, indices, weights);
  const SkinTensors in = skin_tensors(s, rest_vertices, transforms, indices, weights);
  const kernels::SkinDims& d = in.d;
  const at::Tensor g = grad_vertices.contiguous();
  const at::Tensor &rest = in.rest, &tf = in.tf, &idx = in.idx, &w = in.w;
  // Gradients not asked for come back as zeros of the right shape. The kernel
  // writes a shared rest's gradient row by row but adds into a batched one.
  at::Tensor grad_rest = output_mask[0] && !s.batched_rest ? at::empty_like(rest)
                                                           : at::zeros_like(rest);
  at::Tensor grad_tf = at::zeros_like(tf);
  at::Tensor grad_w = output_mask[2] ? at::empty_like(w) : at::zeros_like(w);
  AT_DISPATCH_FLOATING_TYPES(tf.scalar_type(), "torchrig::skin_backward", [&] {
    const scalar_t* G = g.const_data_ptr<scalar_t>();
    const scalar_t* x = rest.const_data_ptr<scalar_t>();
    const scalar_t* T = tf.const_data_ptr<scalar_t>();
    const int64_t* I = idx.const_data_ptr<int64_t>();
    const scalar_t* W = w.const_data_ptr<scalar_t>();
    if (output_mask[0] || output_mask[2]) {
      scalar_t* gx = output_mask[0] ? grad_rest.mutable_data_ptr<scalar_t>() : nullptr;
      scalar_t* gw = output_mask[2] ? grad_w.mutable_data_ptr<scalar_t>() : nullptr;
      at::parallel_for(0, s.V, vertex_grain(in.d), [&](int64_t begin, int64_t end) {
        kernels::skin_backward_vertices(d, G, x, T, I, W, gx, gw, begin, end);
      });
    }
    if (output_mask[1]) transforms_grad<scalar_t>(d, G, x, I, W, grad_tf);
  });
  return {grad_rest, grad_tf, grad_w};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchrig, CPU, m) {
  m.impl("skin", &skin_cpu);
  m.impl("skin_backward", &skin_backward_cpu);
}

}  // namespace torchrig
