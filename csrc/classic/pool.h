// The classic binding's thread pool for the CPU launch plans (../launch/cpu.h).
#pragma once

#include <ATen/Parallel.h>

#include <cstdint>

namespace torchrig {

struct AtenPool {
  int64_t threads() const { return at::get_num_threads(); }
  template <class F>
  void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) const {
    at::parallel_for(begin, end, grain, f);
  }
};

}  // namespace torchrig
