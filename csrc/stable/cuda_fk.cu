// Stable-ABI CUDA binding of forward kinematics: the checks of binding.h,
// device guard, contiguous layout (layout.h), then ../launch/cuda_fk.cuh on
// torch's current stream (stream.h).
#include "binding.h"
#include "launch/cuda_fk.cuh"
#include "layout.h"
#include "stream.h"

namespace torchrig::stable {
namespace {

Tensor fk_cuda(Tensor rotations, Tensor offsets, Tensor parents) {
  const FkShape s = check_fk_inputs(rotations, offsets, parents);
  const int32_t device = rotations.get_device_index();
  const torch::stable::accelerator::DeviceGuard guard(device);
  const FkTensors in = fk_tensors(s, rotations, offsets, parents);
  Tensor out = alloc(in.rot, {s.B, s.J, 3, 4});
  dispatch_floating(in.rot.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    launch::fk_forward_cuda<scalar_t>(current_stream(device), s, in, out);
  });
  return out;
}

std::tuple<Tensor, Tensor> fk_backward_cuda(Tensor grad_transforms, Tensor rotations,
                                            Tensor offsets, Tensor parents, Tensor transforms) {
  const FkShape s =
      check_fk_backward_inputs(grad_transforms, rotations, offsets, parents, transforms);
  const int32_t device = rotations.get_device_index();
  const torch::stable::accelerator::DeviceGuard guard(device);
  const FkTensors in = fk_tensors(s, rotations, offsets, parents);
  const FkGradTensors g = fk_grad_tensors(s, grad_transforms, transforms);
  dispatch_floating(in.rot.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    launch::fk_backward_cuda<scalar_t>(current_stream(device), s, in, g);
  });
  return fk_grads(s, g);
}

}  // namespace

STABLE_TORCH_LIBRARY_IMPL(torchrig_kernels, CUDA, m) {
  m.impl("forward_kinematics", TORCH_BOX(&fk_cuda));
  m.impl("forward_kinematics_backward", TORCH_BOX(&fk_backward_cuda));
}

}  // namespace torchrig::stable
