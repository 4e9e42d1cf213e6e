// The stable binding's thread pool for the CPU launch plans (../launch/cpu.h):
// torch's intra-op pool through the stable C API.
#pragma once

#include <torch/csrc/stable/ops.h>

#include <cstdint>

namespace torchrig::stable {

struct StablePool {
  int64_t threads() const { return int64_t(torch::stable::get_num_threads()); }
  template <class F>
  void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) const {
    torch::stable::parallel_for(begin, end, grain, f);
  }
};

}  // namespace torchrig::stable
