// CPU binding of sparse linear-blend skinning over the stable ABI: the checks
// of binding.h, contiguous inputs, then ../kernels/skin.h with
// torch::stable::parallel_for. Mirrors ../cpu/skin_cpu.cpp.
#include <algorithm>
#include <array>

#include "../kernels/skin.h"
#include "binding.h"

namespace torchrig::stable {
namespace {

constexpr int64_t kVertexGrain = 2048;

int64_t vertex_grain(int64_t B) {
  return std::max<int64_t>(kVertexGrain / std::max<int64_t>(B, 1), 1);
}

kernels::SkinDims dims(const SkinShape& s) {
  return {s.B, s.V, s.J, s.K, s.batched_rest ? s.V * 3 : 0};
}

Tensor skin_cpu(Tensor rest_vertices, Tensor transforms, Tensor indices, Tensor weights) {
  const SkinShape s = check_skin_inputs(rest_vertices, transforms, indices, weights);
  const kernels::SkinDims d = dims(s);
  const Tensor rest = as_contiguous(rest_vertices), tf = as_contiguous(transforms);
  const Tensor idx = as_contiguous(indices), w = as_contiguous(weights);
  Tensor out = alloc(tf, {s.B, s.V, 3});
  dispatch_floating(tf.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    const scalar_t* x = rest.const_data_ptr<scalar_t>();
    const scalar_t* T = tf.const_data_ptr<scalar_t>();
    const int64_t* I = idx.const_data_ptr<int64_t>();
    const scalar_t* W = w.const_data_ptr<scalar_t>();
    scalar_t* y = out.mutable_data_ptr<scalar_t>();
    torch::stable::parallel_for(0, s.V, vertex_grain(s.B), [&](int64_t begin, int64_t end) {
      kernels::skin_forward_vertices(d, x, T, I, W, y, begin, end);
    });
  });
  return out;
}

// dL/dtransforms as in ../cpu/skin_cpu.cpp: one [J, 3, 4] slab per (batch
// element, vertex chunk) task, slabs of an element summed afterwards.
template <typename scalar_t>
void transforms_grad(const kernels::SkinDims& d, const scalar_t* g, const scalar_t* x,
                     const int64_t* I, const scalar_t* W, Tensor& grad_tf) {
  const int64_t threads = int64_t(torch::stable::get_num_threads());
  const int64_t chunks = std::clamp<int64_t>((2 * threads + d.B - 1) / std::max<int64_t>(d.B, 1),
                                             1, std::max<int64_t>(d.V / kVertexGrain, 1));
  const int64_t per_chunk = (d.V + chunks - 1) / chunks;
  Tensor slabs = chunks == 1 ? grad_tf : alloc_zeros(grad_tf, {d.B, chunks, d.J, 3, 4});
  scalar_t* S = slabs.mutable_data_ptr<scalar_t>();
  torch::stable::parallel_for(0, d.B * chunks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / chunks, c = task % chunks;
      const int64_t v0 = c * per_chunk, v1 = std::min(d.V, v0 + per_chunk);
      kernels::skin_backward_transforms(d, g, x, I, W, b, v0, v1, S + task * d.J * 12);
    }
  });
  if (chunks > 1) {
    const int64_t dim1[] = {1};
    torch::stable::sum_out(grad_tf, slabs, torch::headeronly::IntHeaderOnlyArrayRef(dim1, 1));
  }
}

std::tuple<Tensor, Tensor, Tensor> skin_backward_cpu(Tensor grad_vertices, Tensor rest_vertices,
                                                     Tensor transforms, Tensor indices,
                                                     Tensor weights,
                                                     std::vector<bool> output_mask) {
  const SkinShape s =
      check_skin_backward_inputs(grad_vertices, rest_vertices, transforms, indices, weights);
  const kernels::SkinDims d = dims(s);
  const Tensor rest = as_contiguous(rest_vertices), tf = as_contiguous(transforms);
  const Tensor idx = as_contiguous(indices), w = as_contiguous(weights);
  const Tensor g = as_contiguous(grad_vertices);
  const bool want_rest = output_mask[0], want_tf = output_mask[1], want_w = output_mask[2];
  // Gradients not asked for come back as zeros of the right shape. The kernel
  // writes a shared rest's gradient row by row but adds into a batched one.
  Tensor grad_rest = want_rest && !s.batched_rest ? torch::stable::empty_like(rest)
                                                  : zeros_of(rest);
  Tensor grad_tf = zeros_of(tf);
  Tensor grad_w = want_w ? torch::stable::empty_like(w) : zeros_of(w);
  dispatch_floating(tf.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    const scalar_t* G = g.const_data_ptr<scalar_t>();
    const scalar_t* x = rest.const_data_ptr<scalar_t>();
    const scalar_t* T = tf.const_data_ptr<scalar_t>();
    const int64_t* I = idx.const_data_ptr<int64_t>();
    const scalar_t* W = w.const_data_ptr<scalar_t>();
    if (want_rest || want_w) {
      scalar_t* gx = want_rest ? grad_rest.mutable_data_ptr<scalar_t>() : nullptr;
      scalar_t* gw = want_w ? grad_w.mutable_data_ptr<scalar_t>() : nullptr;
      torch::stable::parallel_for(0, s.V, vertex_grain(s.B), [&](int64_t begin, int64_t end) {
        kernels::skin_backward_vertices(d, G, x, T, I, W, gx, gw, begin, end);
      });
    }
    if (want_tf) transforms_grad<scalar_t>(d, G, x, I, W, grad_tf);
  });
  return {grad_rest, grad_tf, grad_w};
}

}  // namespace

STABLE_TORCH_LIBRARY_IMPL(torchrig_kernels, CPU, m) {
  m.impl("skin", TORCH_BOX(&skin_cpu));
  m.impl("skin_backward", TORCH_BOX(&skin_backward_cpu));
}

}  // namespace torchrig::stable
