// Stable-ABI CUDA binding of joint_transforms: the checks of binding.h, device
// guard, contiguous layout (layout.h), scratch, then ../launch/cuda_joint.cuh on
// torch's current stream (stream.h).
#include <optional>

#include "binding.h"
#include "launch/cuda_joint.cuh"
#include "layout.h"
#include "stream.h"

namespace torchrig::stable {
namespace {

Tensor joint_cuda(Tensor joint_params, Tensor offsets, Tensor parents,
                  std::optional<Tensor> inverse_bind) {
  const Tensor ib = inverse_bind.value_or(Tensor());
  const FkShape s = check_joint_inputs(joint_params, offsets, parents, ib);
  const int32_t device = joint_params.get_device_index();
  const torch::stable::accelerator::DeviceGuard guard(device);
  const JointTensors in = joint_tensors(joint_params, offsets, parents, ib);
  Tensor out = alloc(in.jp, {s.B, s.J, 3, 4});
  Tensor work = alloc(in.jp, {s.B, s.J * kernels::kJointWork});
  dispatch_floating(in.jp.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    launch::joint_forward_cuda<scalar_t>(current_stream(device), s, in, out, work);
  });
  return out;
}

Tensor joint_backward_cuda(Tensor grad_transforms, Tensor joint_params, Tensor offsets,
                           Tensor parents, std::optional<Tensor> inverse_bind) {
  const Tensor ib = inverse_bind.value_or(Tensor());
  const FkShape s = check_joint_backward_inputs(grad_transforms, joint_params, offsets, parents, ib);
  const int32_t device = joint_params.get_device_index();
  const torch::stable::accelerator::DeviceGuard guard(device);
  const JointTensors in = joint_tensors(joint_params, offsets, parents, ib);
  const Tensor g = as_contiguous(grad_transforms);
  Tensor grad_jp = in.jp.dim() == 2 ? alloc(in.jp, {s.B, s.J * 7}) : alloc(in.jp, {s.B, s.J, 7});
  Tensor work = alloc(in.jp, {s.B, s.J * kernels::kJointWork});
  dispatch_floating(in.jp.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    launch::joint_backward_cuda<scalar_t>(current_stream(device), s, g, in, grad_jp, work);
  });
  return grad_jp;
}

}  // namespace

STABLE_TORCH_LIBRARY_IMPL(torchrig_kernels, CUDA, m) {
  m.impl("joint_transforms", TORCH_BOX(&joint_cuda));
  m.impl("joint_transforms_backward", TORCH_BOX(&joint_backward_cuda));
}

}  // namespace torchrig::stable
