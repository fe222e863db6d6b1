// Time since a steady-clock point, in nanoseconds: what the engine's busy
// and wait counters (Stats, LogWriter::busy_ns) add up.
// Private to the engine.

#pragma once

#include <chrono>
#include <cstdint>

namespace raftlog::engine::internal {

inline uint64_t ElapsedNs(std::chrono::steady_clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count());
}

}  // namespace raftlog::engine::internal
