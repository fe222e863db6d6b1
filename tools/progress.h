// Progress: a one-line progress bar on stderr for long passes (verify),
// drawn only when stderr is a terminal, so that logs and pipes get no
// control characters. Redrawn at most ten times a second.
//
// Thread-compatible.

#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace raftlog::tools {

class Progress {
 public:
  // `total` is in bytes. `enabled` false (or stderr not a terminal) makes
  // every call a no-op.
  Progress(std::string label, uint64_t total, bool enabled);
  ~Progress() { Finish(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Add(uint64_t bytes);
  // Erases the bar (before printing results). Idempotent.
  void Finish();

  bool enabled() const { return enabled_; }

 private:
  void Draw();

  const std::string label_;
  const uint64_t total_;
  const bool enabled_;
  uint64_t done_ = 0;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace raftlog::tools
