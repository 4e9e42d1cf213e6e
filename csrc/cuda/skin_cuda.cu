// CUDA binding of sparse linear-blend skinning: the checks of csrc/checks.h,
// contiguous layouts, then the kernels of csrc/cuda/skin_kernels.cuh.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <algorithm>
#include <array>

#include "../checks.h"
#include "../layout.h"
#include "launch.cuh"
#include "skin_kernels.cuh"

namespace torchrig {
namespace {

constexpr int kVertexThreads = 128;

template <typename T>
gpu::LanePlan plan_for(const kernels::SkinDims& d) {
  return gpu::plan_lanes_here(d.B, d.V, d.J, d.rest_bs != 0 ? 2 : 1, sizeof(T),
                              gpu::lanes_max_warps<T>());
}

at::Tensor skin_cuda(const at::Tensor& rest_vertices, const at::Tensor& transforms,
                     const at::Tensor& indices, const at::Tensor& weights) {
  const SkinShape s = check_skin_inputs(rest_vertices, transforms, indices, weights);
  const c10::cuda::CUDAGuard guard(transforms.device());
  const SkinTensors in = skin_tensors(s, rest_vertices, transforms, indices, weights);
  const kernels::SkinDims& d = in.d;
  const at::Tensor &rest = in.rest, &tf = in.tf, &idx = in.idx, &w = in.w;
  at::Tensor out = at::empty({s.B, s.V, 3}, tf.options());
  if (out.numel() == 0) return out;
  AT_DISPATCH_FLOATING_TYPES(tf.scalar_type(), "torchrig::skin", [&] {
    const gpu::LanePlan p = plan_for<scalar_t>(d);
    gpu::launch_lanes(gpu::skin_forward_kernel<scalar_t>, p, d, p,
                      rest.const_data_ptr<scalar_t>(),
                      tf.const_data_ptr<scalar_t>(), idx.const_data_ptr<int64_t>(),
                      w.const_data_ptr<scalar_t>(), out.mutable_data_ptr<scalar_t>());
  });
  return out;
}

/// Batch chunks of the vertex-gradient kernel: enough threads to fill the
/// device (V threads per chunk), at most B chunks and 65535 (grid.y).
int64_t vertex_chunks(int64_t B, int64_t V) {
  const int64_t want = int64_t(at::cuda::getCurrentDeviceProperties()->multiProcessorCount) * 2048;
  return std::clamp<int64_t>(gpu::ceil_div(want, std::max<int64_t>(V, 1)), 1,
                             std::min<int64_t>(B, 65535));
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> skin_backward_cuda(
    const at::Tensor& grad_vertices, const at::Tensor& rest_vertices,
    const at::Tensor& transforms, const at::Tensor& indices,
    const at::Tensor& weights, std::array<bool, 3> output_mask) {
  const SkinShape s = check_skin_backward_inputs(grad_vertices, rest_vertices,
                                                 transforms, indices, weights);
  const c10::cuda::CUDAGuard guard(transforms.device());
  const SkinTensors in = skin_tensors(s, rest_vertices, transforms, indices, weights);
  const kernels::SkinDims& d = in.d;
  const at::Tensor &rest = in.rest, &tf = in.tf, &idx = in.idx, &w = in.w;
  const at::Tensor g = grad_vertices.contiguous();
  // Gradients not asked for come back as zeros of the right shape; so do all
  // of them for an empty batch or mesh. grad_tf is accumulated into.
  at::Tensor grad_tf = at::zeros_like(tf);
  if (s.B == 0 || s.V == 0) return {at::zeros_like(rest), grad_tf, at::zeros_like(w)};
  const bool want_rest = output_mask[0], want_w = output_mask[2];
  at::Tensor grad_rest = want_rest ? at::empty_like(rest) : at::zeros_like(rest);
  at::Tensor grad_w = want_w ? at::empty_like(w) : at::zeros_like(w);

  // Vertex side: partial sums per batch chunk, summed here (deterministic).
  const int64_t chunks = vertex_chunks(s.B, s.V);
  const int64_t chunk = gpu::ceil_div(s.B, chunks);
  const int64_t used = gpu::ceil_div(s.B, chunk);
  at::Tensor rest_part, w_part;
  if (want_rest)
    rest_part = s.batched_rest || used == 1 ? grad_rest : at::empty({used, s.V, 3}, tf.options());
  if (want_w) w_part = used == 1 ? grad_w : at::empty({used, s.V, s.K}, tf.options());

  AT_DISPATCH_FLOATING_TYPES(tf.scalar_type(), "torchrig::skin_backward", [&] {
    const scalar_t* G = g.const_data_ptr<scalar_t>();
    const scalar_t* x = rest.const_data_ptr<scalar_t>();
    const scalar_t* T = tf.const_data_ptr<scalar_t>();
    const int64_t* I = idx.const_data_ptr<int64_t>();
    const scalar_t* W = w.const_data_ptr<scalar_t>();
    const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
    if (want_rest || want_w) {
      const dim3 grid(unsigned(gpu::ceil_div(s.V, kVertexThreads)), unsigned(used));
      gpu::skin_grad_vertices_kernel<scalar_t><<<grid, kVertexThreads, 0, stream>>>(
          d, chunk, G, x, T, I, W,
          want_rest ? rest_part.mutable_data_ptr<scalar_t>() : nullptr,
          want_w ? w_part.mutable_data_ptr<scalar_t>() : nullptr);
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    }
    if (output_mask[1]) {
      const gpu::LanePlan p = plan_for<scalar_t>(d);
      gpu::launch_lanes(gpu::skin_grad_transforms_kernel<scalar_t>, p, d, p, G, x, I,
                        W, grad_tf.mutable_data_ptr<scalar_t>());
    }
  });
  if (want_rest && rest_part.data_ptr() != grad_rest.data_ptr()) at::sum_out(grad_rest, rest_part, 0);
  if (want_w && w_part.data_ptr() != grad_w.data_ptr()) at::sum_out(grad_w, w_part, 0);
  return {grad_rest, grad_tf, grad_w};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchrig, CUDA, m) {
  m.impl("skin", &skin_cuda);
  m.impl("skin_backward", &skin_backward_cuda);
}

}  // namespace torchrig
