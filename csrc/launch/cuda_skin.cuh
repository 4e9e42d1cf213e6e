// Launch plan of sparse linear-blend skinning on a CUDA device, for both
// bindings: the batch-in-lanes kernels of ../cuda/skin_kernels.cuh (forward,
// transforms gradient) and the vertex-gradient kernel with its batch chunks.
// Inputs contiguous, sizes in `d` (dims.h), the binding's stream and device.
#pragma once

#include <algorithm>
#include <cstdint>

#include "../cuda/skin_kernels.cuh"
#include "cuda.cuh"
#include "tensors.h"

namespace torchrig::launch {

constexpr int kVertexThreads = 128;

template <typename T>
gpu::LanePlan skin_lane_plan(int device, const kernels::SkinDims& d) {
  return plan_lanes_on(device, d.B, d.V, d.J, d.rest_bs != 0 ? 2 : 1, sizeof(T),
                       gpu::lanes_max_warps<T>());
}

/// y [B, V, 3] = skinned vertices.
template <typename T>
void skin_forward_cuda(cudaStream_t stream, int device, const kernels::SkinDims& d,
                       const T* rest, const T* tf, const int64_t* idx, const T* w, T* y) {
  if (d.B == 0 || d.V == 0) return;
  const gpu::LanePlan p = skin_lane_plan<T>(device, d);
  launch_lanes(stream, gpu::skin_forward_kernel<T>, p, d, p, rest, tf, idx, w, y);
}

/// The vertex-gradient kernel's split of the batch: `used` chunks of `chunk`
/// batch elements, enough threads to fill the device (V threads per chunk), at
/// most B chunks and 65535 (grid.y). With more than one chunk, a shared rest's
/// gradient and the weights' gradient are partial sums per chunk
/// ([used, V, 3], [used, V, K]) that the binding sums over dim 0 afterwards
/// (deterministic: no atomics).
struct SkinVertexSplit {
  int64_t chunk, used;
  bool partial_rest, partial_w;
};

inline SkinVertexSplit skin_vertex_split(int device, const kernels::SkinDims& d, bool want_rest,
                                         bool want_w) {
  if (d.B == 0 || d.V == 0) return {0, 0, false, false};
  const int64_t want = int64_t(multiprocessors(device)) * 2048;
  const int64_t chunks = std::clamp<int64_t>(gpu::ceil_div(want, std::max<int64_t>(d.V, 1)), 1,
                                             std::min<int64_t>(d.B, 65535));
  const int64_t chunk = gpu::ceil_div(d.B, chunks);
  const int64_t used = gpu::ceil_div(d.B, chunk);
  return {chunk, used, want_rest && d.rest_bs == 0 && used > 1, want_w && used > 1};
}

/// The backward of skin: `rest_out` / `w_out` receive dL/drest and dL/dweights
/// (or their partial sums, per `split`), `grad_tf` (zero-filled) dL/dtransforms;
/// a null pointer skips that gradient.
template <typename T>
void skin_backward_cuda(cudaStream_t stream, int device, const kernels::SkinDims& d,
                        const SkinVertexSplit& split, const T* grad, const T* rest, const T* tf,
                        const int64_t* idx, const T* w, T* rest_out, T* w_out, T* grad_tf) {
  if (d.B == 0 || d.V == 0) return;
  if (rest_out != nullptr || w_out != nullptr) {
    const dim3 grid(unsigned(gpu::ceil_div(d.V, kVertexThreads)), unsigned(split.used));
    gpu::skin_grad_vertices_kernel<T><<<grid, kVertexThreads, 0, stream>>>(
        d, split.chunk, grad, rest, tf, idx, w, rest_out, w_out);
    TORCHRIG_CUDA_LAUNCH_CHECK();
  }
  if (grad_tf != nullptr) {
    const gpu::LanePlan p = skin_lane_plan<T>(device, d);
    launch_lanes(stream, gpu::skin_grad_transforms_kernel<T>, p, d, p, grad, rest, idx, w,
                 grad_tf);
  }
}

/// skin over a binding's layout (tensors.h): `in` SkinTensors, `out` [B, V, 3].
template <typename T, class In, class Tensor>
void skin_forward_cuda(cudaStream_t stream, int device, const In& in, const Tensor& out) {
  skin_forward_cuda(stream, device, in.d, in_ptr<T>(in.rest), in_ptr<T>(in.tf),
                    in_ptr<int64_t>(in.idx), in_ptr<T>(in.w), out_ptr<T>(out));
}

/// skin_backward over a binding's layout (tensors.h): `in` SkinTensors, `grad`
/// [B, V, 3], `out` SkinGradTensors, `rest_out` / `w_out` (out.rest / out.w, or
/// the partial sums `split` asks for); `mask`: which of (rest, transforms, weights).
template <typename T, class In, class Tensor, class Grads, class Mask>
void skin_backward_cuda(cudaStream_t stream, int device, const SkinVertexSplit& split,
                        const In& in, const Tensor& grad, const Grads& out, const Tensor& rest_out,
                        const Tensor& w_out, const Mask& mask) {
  skin_backward_cuda(stream, device, in.d, split, in_ptr<T>(grad), in_ptr<T>(in.rest),
                     in_ptr<T>(in.tf), in_ptr<int64_t>(in.idx), in_ptr<T>(in.w),
                     out_ptr_if<T>(mask[0], rest_out), out_ptr_if<T>(mask[2], w_out),
                     out_ptr_if<T>(mask[1], out.tf));
}

}  // namespace torchrig::launch
