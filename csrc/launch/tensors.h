// The launch plans over a binding's layout structs (FkTensors, FkGradTensors,
// SkinTensors, SkinGradTensors of ../classic/layout.h and ../stable/layout.h),
// so that a binding's kernel is checks + layout + one call here per dtype.
// `Tensor` is the binding's tensor type: anything with const_data_ptr<T>() and
// mutable_data_ptr<T>() (at::Tensor, torch::stable::Tensor); no torch header.
#pragma once

#include <cstdint>

#include "../shapes.h"

namespace torchrig::launch {

template <typename T, class Tensor>
const T* in_ptr(const Tensor& t) {
  return t.template const_data_ptr<T>();
}

template <typename T, class Tensor>
T* out_ptr(const Tensor& t) {
  return t.template mutable_data_ptr<T>();
}

/// out_ptr, or null when that output is not asked for.
template <typename T, class Tensor>
T* out_ptr_if(bool wanted, const Tensor& t) {
  return wanted ? out_ptr<T>(t) : nullptr;
}

}  // namespace torchrig::launch
