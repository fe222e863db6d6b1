// LogEngine, cold segments in the background: starting and stopping the
// worker (internal/cold_worker.h) that rewrites sealed segments compressed
// with CompressSegment when Options::compression_mode is kColdSegments.

#include "raftlog/engine/internal/log_engine_parts.h"

namespace raftlog::engine {

void LogEngine::StartColdWorker() {
  // A read-only engine changes nothing on disk: no worker. Neither when the
  // older switch compression.enabled asks for every frame compressed on the
  // append path: its segments are compressed already.
  if (options_.read_only || options_.compression_mode != CompressionMode::kColdSegments ||
      options_.compression.enabled) {
    return;
  }
  internal::ColdWorkerConfig config;
  config.level = ColdCompressionLevel(options_);
  config.bytes_per_sec = options_.cold_bytes_per_sec;
  config.busy_bytes_per_sec = options_.cold_busy_bytes_per_sec;
  config.free_cores = options_.cold_free_cores;
  config.busy_share = options_.cold_busy_share;
  Counters* counters = counters_.get();
  cold_ = std::make_unique<internal::ColdWorker>(
      this, config,
      [counters] { return counters->bytes_written.load(std::memory_order_relaxed); },
      [this](const std::string& note) { Log(dir_, note); });
}

void LogEngine::StopColdWorker() {
  if (cold_ != nullptr) cold_->Stop();
}

}  // namespace raftlog::engine
