// CUDA binding of sparse linear-blend skinning over the stable ABI: the checks
// of binding.h, contiguous inputs, then the kernels of
// ../cuda/skin_kernels.cuh on torch's current stream. Mirrors
// ../cuda/skin_cuda.cu.
#include <algorithm>

#include "../cuda/skin_kernels.cuh"
#include "binding.h"
#include "cuda_launch.cuh"

namespace torchrig::stable {
namespace {

constexpr int kVertexThreads = 128;

kernels::SkinDims dims(const SkinShape& s) {
  return {s.B, s.V, s.J, s.K, s.batched_rest ? s.V * 3 : 0};
}

template <typename T>
gpu::LanePlan plan_for(int32_t device, const kernels::SkinDims& d) {
  return plan_lanes_on(device, d.B, d.V, d.J, d.rest_bs != 0 ? 2 : 1, sizeof(T),
                       gpu::lanes_max_warps<T>());
}

Tensor skin_cuda(Tensor rest_vertices, Tensor transforms, Tensor indices, Tensor weights) {
  const SkinShape s = check_skin_inputs(rest_vertices, transforms, indices, weights);
  const int32_t device = transforms.get_device_index();
  const torch::stable::accelerator::DeviceGuard guard(device);
  const kernels::SkinDims d = dims(s);
  const Tensor rest = as_contiguous(rest_vertices), tf = as_contiguous(transforms);
  const Tensor idx = as_contiguous(indices), w = as_contiguous(weights);
  Tensor out = alloc(tf, {s.B, s.V, 3});
  if (out.numel() == 0) return out;
  const cudaStream_t stream = current_stream(device);
  dispatch_floating(tf.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    const gpu::LanePlan p = plan_for<scalar_t>(device, d);
    launch_lanes(stream, gpu::skin_forward_kernel<scalar_t>, p, d, p,
                 rest.const_data_ptr<scalar_t>(), tf.const_data_ptr<scalar_t>(),
                 idx.const_data_ptr<int64_t>(), w.const_data_ptr<scalar_t>(),
                 out.mutable_data_ptr<scalar_t>());
  });
  return out;
}

/// Batch chunks of the vertex-gradient kernel, as in ../cuda/skin_cuda.cu.
int64_t vertex_chunks(int32_t device, int64_t B, int64_t V) {
  const int64_t want = int64_t(multiprocessors(device)) * 2048;
  return std::clamp<int64_t>(gpu::ceil_div(want, std::max<int64_t>(V, 1)), 1,
                             std::min<int64_t>(B, 65535));
}

std::tuple<Tensor, Tensor, Tensor> skin_backward_cuda(Tensor grad_vertices, Tensor rest_vertices,
                                                      Tensor transforms, Tensor indices,
                                                      Tensor weights,
                                                      std::vector<bool> output_mask) {
  const SkinShape s =
      check_skin_backward_inputs(grad_vertices, rest_vertices, transforms, indices, weights);
  const int32_t device = transforms.get_device_index();
  const torch::stable::accelerator::DeviceGuard guard(device);
  const kernels::SkinDims d = dims(s);
  const Tensor rest = as_contiguous(rest_vertices), tf = as_contiguous(transforms);
  const Tensor idx = as_contiguous(indices), w = as_contiguous(weights);
  const Tensor g = as_contiguous(grad_vertices);
  // Gradients not asked for come back as zeros of the right shape; so do all
  // of them for an empty batch or mesh. grad_tf is accumulated into.
  Tensor grad_tf = zeros_of(tf);
  if (s.B == 0 || s.V == 0) return {zeros_of(rest), grad_tf, zeros_of(w)};
  const bool want_rest = output_mask[0], want_w = output_mask[2];
  Tensor grad_rest = want_rest ? torch::stable::empty_like(rest) : zeros_of(rest);
  Tensor grad_w = want_w ? torch::stable::empty_like(w) : zeros_of(w);

  // Vertex side: partial sums per batch chunk, summed here (deterministic).
  const int64_t chunks = vertex_chunks(device, s.B, s.V);
  const int64_t chunk = gpu::ceil_div(s.B, chunks);
  const int64_t used = gpu::ceil_div(s.B, chunk);
  Tensor rest_part = grad_rest, w_part = grad_w;
  const bool sum_rest = want_rest && !s.batched_rest && used > 1;
  const bool sum_w = want_w && used > 1;
  if (sum_rest) rest_part = alloc(tf, {used, s.V, 3});
  if (sum_w) w_part = alloc(tf, {used, s.V, s.K});

  const cudaStream_t stream = current_stream(device);
  dispatch_floating(tf.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    const scalar_t* G = g.const_data_ptr<scalar_t>();
    const scalar_t* x = rest.const_data_ptr<scalar_t>();
    const scalar_t* T = tf.const_data_ptr<scalar_t>();
    const int64_t* I = idx.const_data_ptr<int64_t>();
    const scalar_t* W = w.const_data_ptr<scalar_t>();
    if (want_rest || want_w) {
      const dim3 grid(unsigned(gpu::ceil_div(s.V, kVertexThreads)), unsigned(used));
      gpu::skin_grad_vertices_kernel<scalar_t><<<grid, kVertexThreads, 0, stream>>>(
          d, chunk, G, x, T, I, W, want_rest ? rest_part.mutable_data_ptr<scalar_t>() : nullptr,
          want_w ? w_part.mutable_data_ptr<scalar_t>() : nullptr);
      STD_CUDA_KERNEL_LAUNCH_CHECK();
    }
    if (output_mask[1]) {
      const gpu::LanePlan p = plan_for<scalar_t>(device, d);
      launch_lanes(stream, gpu::skin_grad_transforms_kernel<scalar_t>, p, d, p, G, x, I, W,
                   grad_tf.mutable_data_ptr<scalar_t>());
    }
  });
  const int64_t dim0[] = {0};
  const torch::headeronly::IntHeaderOnlyArrayRef over_chunks(dim0, 1);
  if (sum_rest) torch::stable::sum_out(grad_rest, rest_part, over_chunks);
  if (sum_w) torch::stable::sum_out(grad_w, w_part, over_chunks);
  return {grad_rest, grad_tf, grad_w};
}

}  // namespace

STABLE_TORCH_LIBRARY_IMPL(torchrig_kernels, CUDA, m) {
  m.impl("skin", TORCH_BOX(&skin_cuda));
  m.impl("skin_backward", TORCH_BOX(&skin_backward_cuda));
}

}  // namespace torchrig::stable
