// Chooses the batch-in-lanes skinning kernels (cpu_lanes.h) for the running CPU.
#include <cstdlib>
#include <cstring>

#include "cpu_lanes.h"

namespace torchrig::launch {
namespace {

// 0 baseline, 1 avx2 + fma, 2 avx512 (f, vl, bw, dq): what this CPU runs,
// capped by TORCHRIG_CPU_ISA.
int best_isa() {
  int level = 0;
#if defined(TORCHRIG_HAVE_ISA_KERNELS)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) level = 1;
  if (level == 1 && __builtin_cpu_supports("avx512f") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq"))
    level = 2;
#endif
  if (const char* cap = std::getenv("TORCHRIG_CPU_ISA")) {
    const int want = std::strcmp(cap, "baseline") == 0 ? 0 : std::strcmp(cap, "avx2") == 0 ? 1 : 2;
    if (want < level) level = want;
  }
  return level;
}

const int kLevel = best_isa();

}  // namespace

const LaneKernels<float>& lane_kernels_float() {
#if defined(TORCHRIG_HAVE_ISA_KERNELS)
  if (kLevel == 2) return kLanesFloat_avx512;
  if (kLevel == 1) return kLanesFloat_avx2;
#endif
  return kLanesFloat_baseline;
}

const LaneKernels<double>& lane_kernels_double() {
#if defined(TORCHRIG_HAVE_ISA_KERNELS)
  if (kLevel == 2) return kLanesDouble_avx512;
  if (kLevel == 1) return kLanesDouble_avx2;
#endif
  return kLanesDouble_baseline;
}

}  // namespace torchrig::launch
