// CUDA binding of forward kinematics over the stable ABI: the checks of
// binding.h, contiguous inputs, then ../cuda/fk_kernels.cuh on torch's current
// stream. Mirrors ../cuda/fk_cuda.cu.
#include "../cuda/fk_kernels.cuh"
#include "binding.h"
#include "cuda_launch.cuh"

namespace torchrig::stable {
namespace {

unsigned fk_blocks(int64_t B) { return unsigned(gpu::ceil_div(B, gpu::kFkThreads)); }

Tensor fk_cuda(Tensor rotations, Tensor offsets, Tensor parents) {
  const FkShape s = check_fk_inputs(rotations, offsets, parents);
  const int32_t device = rotations.get_device_index();
  const torch::stable::accelerator::DeviceGuard guard(device);
  const Tensor rot = as_contiguous(rotations), off = as_contiguous(offsets);
  const Tensor par = as_contiguous(parents);
  const int64_t off_bs = s.batched_offsets ? s.J * 3 : 0;
  Tensor out = alloc(rot, {s.B, s.J, 3, 4});
  if (out.numel() == 0) return out;
  const cudaStream_t stream = current_stream(device);
  dispatch_floating(rot.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    gpu::fk_forward_kernel<scalar_t><<<fk_blocks(s.B), gpu::kFkThreads, 0, stream>>>(
        s.B, s.J, rot.const_data_ptr<scalar_t>(), off.const_data_ptr<scalar_t>(), off_bs,
        par.const_data_ptr<int64_t>(), out.mutable_data_ptr<scalar_t>());
    STD_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return out;
}

std::tuple<Tensor, Tensor> fk_backward_cuda(Tensor grad_transforms, Tensor rotations,
                                            Tensor offsets, Tensor parents, Tensor transforms) {
  const FkShape s =
      check_fk_backward_inputs(grad_transforms, rotations, offsets, parents, transforms);
  const int32_t device = rotations.get_device_index();
  const torch::stable::accelerator::DeviceGuard guard(device);
  const Tensor rot = as_contiguous(rotations), off = as_contiguous(offsets);
  const Tensor par = as_contiguous(parents), G = as_contiguous(transforms);
  Tensor adj = torch::stable::clone(as_contiguous(grad_transforms));  // consumed
  const int64_t off_bs = s.batched_offsets ? s.J * 3 : 0;
  Tensor grad_rot = alloc(rot, {s.B, s.J, 3, 3}), grad_off = alloc(rot, {s.B, s.J, 3});
  if (grad_rot.numel() > 0) {
    const cudaStream_t stream = current_stream(device);
    dispatch_floating(rot.scalar_type(), [&](auto zero) {
      using scalar_t = decltype(zero);
      gpu::fk_backward_kernel<scalar_t><<<fk_blocks(s.B), gpu::kFkThreads, 0, stream>>>(
          s.B, s.J, rot.const_data_ptr<scalar_t>(), off.const_data_ptr<scalar_t>(), off_bs,
          par.const_data_ptr<int64_t>(), G.const_data_ptr<scalar_t>(),
          adj.mutable_data_ptr<scalar_t>(), grad_rot.mutable_data_ptr<scalar_t>(),
          grad_off.mutable_data_ptr<scalar_t>());
      STD_CUDA_KERNEL_LAUNCH_CHECK();
    });
  }
  return {grad_rot, s.batched_offsets ? grad_off : sum0(grad_off)};
}

}  // namespace

STABLE_TORCH_LIBRARY_IMPL(torchrig_kernels, CUDA, m) {
  m.impl("forward_kinematics", TORCH_BOX(&fk_cuda));
  m.impl("forward_kinematics_backward", TORCH_BOX(&fk_backward_cuda));
}

}  // namespace torchrig::stable
