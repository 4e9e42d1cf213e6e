// How the CPU launch plans (cpu_fk.h, cpu_skin.h) use a binding's thread pool.
//
// The plans are shared by both bindings (../classic, ../stable) and include no
// torch header: a binding passes its pool as a `Pool`, a type with
//
//   int64_t threads() const;                        // threads the pool runs
//   template <class F>                              // f(begin, end) over chunks of
//   void parallel_for(int64_t begin, int64_t end,   // at least `grain` iterations
//                     int64_t grain, const F& f) const;
//
// (at::parallel_for in the classic binding, torch::stable::parallel_for in the
// stable one), and everything else — grains, the serial small-work path, the
// work split — is decided here, once.
#pragma once

#include <algorithm>
#include <cstdint>

namespace torchrig::launch {

/// Below this many units of work (a vertex influence, a joint: each some
/// nanoseconds) one thread does it all: waking the thread pool costs more than
/// it saves, and far more (a scheduler time slice) when the machine is busy.
constexpr int64_t kSerialWork = 32768;

/// f(begin, end) over [begin, end): on the calling thread when the range is at
/// most one grain or the pool has one thread (no pool round trip), otherwise on
/// the pool in chunks of at least `grain`.
template <class Pool, class F>
void run(const Pool& pool, int64_t begin, int64_t end, int64_t grain, const F& f) {
  if (end <= begin) return;
  if (end - begin <= grain || pool.threads() <= 1) {
    f(begin, end);
    return;
  }
  pool.parallel_for(begin, end, grain, f);
}

/// Iterations per chunk so that a chunk holds at least kSerialWork units when
/// each iteration costs `work_per_iteration` units.
inline int64_t grain_for(int64_t work_per_iteration) {
  return std::max<int64_t>(kSerialWork / std::max<int64_t>(work_per_iteration, 1), 1);
}

}  // namespace torchrig::launch
