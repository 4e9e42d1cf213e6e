// Describing, checking, laying out and allocating tensors through the stable
// C API (see binding.h).
#include "binding.h"

#include <torch/csrc/stable/device.h>

#include <algorithm>
#include <array>
#include <vector>

namespace torchrig::stable {
namespace {

using torch::headeronly::DeviceType;

std::string device_name(const torch::stable::Device& d) {
  std::string name;
  switch (d.type()) {
    case DeviceType::CPU: name = "cpu"; break;
    case DeviceType::CUDA: name = "cuda"; break;
    case DeviceType::Meta: name = "meta"; break;
    default: name = "device_type_" + std::to_string(int(d.type()));
  }
  if (d.index() >= 0) name += ":" + std::to_string(int(d.index()));
  return name;
}

/// min and max of a non-empty int64 tensor, on its device (one copy back).
std::pair<int64_t, int64_t> min_max(const Tensor& t) {
  std::array<StableIValue, 3> stack{torch::stable::detail::from(t),
                                    torch::stable::detail::from(std::nullopt),
                                    torch::stable::detail::from(false)};
  STABLE_TORCH_ERROR_CODE_CHECK(
      torch_call_dispatcher("aten::aminmax", "", stack.data(), TORCH_ABI_VERSION));
  Tensor lo = torch::stable::detail::to<Tensor>(stack[0]);
  Tensor hi = torch::stable::detail::to<Tensor>(stack[1]);
  if (!t.is_cpu()) {
    const torch::stable::Device cpu(DeviceType::CPU);
    lo = torch::stable::to(lo, cpu);
    hi = torch::stable::to(hi, cpu);
  }
  return {*lo.const_data_ptr<int64_t>(), *hi.const_data_ptr<int64_t>()};
}

void check_parents_data(const Tensor& parents, int64_t J) {
  if (J == 0) return;
  Tensor host = parents.is_cpu() ? as_contiguous(parents)
                                 : torch::stable::to(parents, torch::stable::Device(DeviceType::CPU));
  checked([&] { rules::check_parents_order(host.const_data_ptr<int64_t>(), J); });
}

}  // namespace

rules::TensorDesc describe(const Tensor& t) {
  rules::TensorDesc d;
  d.defined = t.defined();
  if (!d.defined) return d;
  const auto sizes = t.sizes();
  d.sizes.assign(sizes.begin(), sizes.end());
  const ScalarType st = t.scalar_type();
  d.dtype = st == ScalarType::Float    ? rules::DType::Float32
            : st == ScalarType::Double ? rules::DType::Float64
            : st == ScalarType::Long   ? rules::DType::Int64
                                       : rules::DType::Other;
  d.dtype_name = torch::headeronly::toString(st);
  d.device = device_name(t.device());
  return d;
}

FkShape check_fk_inputs(const Tensor& rotations, const Tensor& offsets, const Tensor& parents) {
  const FkShape s = checked([&] {
    return rules::check_fk(describe(rotations), describe(offsets), describe(parents));
  });
  check_parents_data(parents, s.J);
  return s;
}

FkShape check_fk_backward_inputs(const Tensor& grad_transforms, const Tensor& rotations,
                                 const Tensor& offsets, const Tensor& parents,
                                 const Tensor& transforms) {
  const FkShape s = check_fk_inputs(rotations, offsets, parents);
  checked([&] {
    const rules::TensorDesc like = describe(rotations);
    rules::check_grad(describe(grad_transforms), "grad_transforms", {s.B, s.J, 3, 4}, like);
    rules::check_grad(describe(transforms), "transforms", {s.B, s.J, 3, 4}, like);
  });
  return s;
}

FkShape check_joint_inputs(const Tensor& joint_params, const Tensor& offsets,
                           const Tensor& parents, const Tensor& inverse_bind) {
  const FkShape s = checked([&] {
    return rules::check_joint(describe(joint_params), describe(offsets), describe(parents),
                              describe(inverse_bind));
  });
  check_parents_data(parents, s.J);
  return s;
}

FkShape check_joint_backward_inputs(const Tensor& grad_transforms, const Tensor& joint_params,
                                    const Tensor& offsets, const Tensor& parents,
                                    const Tensor& inverse_bind) {
  const FkShape s = check_joint_inputs(joint_params, offsets, parents, inverse_bind);
  checked([&] {
    rules::check_grad(describe(grad_transforms), "grad_transforms", {s.B, s.J, 3, 4},
                      describe(joint_params));
  });
  return s;
}

SkinShape check_skin_inputs(const Tensor& rest_vertices, const Tensor& transforms,
                            const Tensor& indices, const Tensor& weights) {
  const SkinShape s = checked([&] {
    return rules::check_skin(describe(rest_vertices), describe(transforms), describe(indices),
                             describe(weights));
  });
  if (s.V * s.K > 0 && !rules::cpu_indices_in_range(indices, s.J)) {  // min/max on the device
    const auto [lo, hi] = min_max(indices);
    checked([&] { rules::check_index_range(lo, hi, s.J); });
  }
  return s;
}

SkinShape check_skin_backward_inputs(const Tensor& grad_vertices, const Tensor& rest_vertices,
                                     const Tensor& transforms, const Tensor& indices,
                                     const Tensor& weights) {
  const SkinShape s = check_skin_inputs(rest_vertices, transforms, indices, weights);
  checked([&] {
    rules::check_grad(describe(grad_vertices), "grad_vertices", {s.B, s.V, 3},
                      describe(transforms));
  });
  return s;
}

Tensor as_contiguous(const Tensor& t) {
  return t.is_contiguous() ? t : torch::stable::contiguous(t);
}

Tensor alloc(const Tensor& like, std::initializer_list<int64_t> sizes) {
  // One C call into at::empty_strided (the shim's aoti_torch_empty_strided, in every torch the
  // stable build loads in); torch::stable::new_empty finds aten::new_empty in the dispatcher
  // by name and boxes six arguments on every call, a good part of a small op's cost.
  constexpr size_t kMaxDim = 8;
  STD_TORCH_CHECK(sizes.size() <= kMaxDim, "torchrig: alloc of ", sizes.size(), " dimensions");
  const int64_t n = int64_t(sizes.size());
  std::array<int64_t, kMaxDim> dims{}, strides{};
  std::copy(sizes.begin(), sizes.end(), dims.begin());
  int64_t stride = 1;
  for (int64_t i = n - 1; i >= 0; --i) {  // contiguous, as torch strides empty dimensions
    strides[size_t(i)] = stride;
    stride *= std::max<int64_t>(dims[size_t(i)], 1);
  }
  int32_t dtype = 0, device_type = 0, device_index = 0;
  STABLE_TORCH_ERROR_CODE_CHECK(aoti_torch_get_dtype(like.get(), &dtype));
  STABLE_TORCH_ERROR_CODE_CHECK(aoti_torch_get_device_type(like.get(), &device_type));
  STABLE_TORCH_ERROR_CODE_CHECK(aoti_torch_get_device_index(like.get(), &device_index));
  AtenTensorHandle out = nullptr;
  STABLE_TORCH_ERROR_CODE_CHECK(aoti_torch_empty_strided(n, dims.data(), strides.data(), dtype,
                                                         device_type, device_index, &out));
  return Tensor(out);
}

Tensor zeros_of(const Tensor& t) { return torch::stable::new_zeros(t, t.sizes()); }

Tensor grad_buffer(const Tensor& like, bool zeroed) {
  return zeroed ? zeros_of(like) : torch::stable::empty_like(like);
}

namespace {
const int64_t kDim0[] = {0};
}  // namespace

Tensor sum0(const Tensor& t) {
  return torch::stable::sum(t, torch::headeronly::IntHeaderOnlyArrayRef(kDim0, 1));
}

void sum0_out(Tensor& out, const Tensor& t) {
  torch::stable::sum_out(out, t, torch::headeronly::IntHeaderOnlyArrayRef(kDim0, 1));
}

}  // namespace torchrig::stable
