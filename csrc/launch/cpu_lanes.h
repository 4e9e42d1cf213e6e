// CPU skinning kernels with the batch in SIMD lanes (csrc/kernels/skin_lanes.h),
// built once per x86 instruction set and chosen at run time.
//
// No inline functions here: this header is included by translation units
// compiled with different -m flags (cpu_lanes_*.cpp), which must share only
// plain data and function pointers.
#pragma once

#include <cstdint>

#include "../kernels/skin.h"

namespace torchrig::launch {

template <typename T>
struct LaneKernels {
  const char* isa;  // "avx512", "avx2" or "baseline"
  int lanes;        // batch elements per SIMD register of T
  /// out[b0 .. b0+nb, v0 .. v1); scratch: J * 12 * lanes elements.
  void (*forward)(const kernels::SkinDims& d, const T* rest, const T* tf,
                  const int64_t* idx, const T* w, T* out, int64_t b0,
                  int64_t nb, int64_t v0, int64_t v1, T* scratch);
  /// dL/dtransforms of batch elements b0 .. b0+nb from vertices v0 .. v1,
  /// written (not added) to out + l * out_bs, l < nb, [J, 3, 4] each.
  void (*grad_transforms)(const kernels::SkinDims& d, const T* grad,
                          const T* rest, const int64_t* idx, const T* w,
                          int64_t b0, int64_t nb, int64_t v0, int64_t v1,
                          T* scratch, T* out, int64_t out_bs);
};

/// The widest kernels this CPU runs (TORCHRIG_CPU_ISA=baseline|avx2|avx512
/// caps the choice, for tests and comparisons).
const LaneKernels<float>& lane_kernels_float();
const LaneKernels<double>& lane_kernels_double();

// One definition per instruction-set translation unit (cpu_lanes_isa.inc).
extern const LaneKernels<float> kLanesFloat_baseline, kLanesFloat_avx2, kLanesFloat_avx512;
extern const LaneKernels<double> kLanesDouble_baseline, kLanesDouble_avx2, kLanesDouble_avx512;

}  // namespace torchrig::launch
