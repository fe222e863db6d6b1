// LogEngine: opening and closing, the writer lock, notes (the other parts:
// internal/log_engine_parts.h).

#include "raftlog/engine/internal/log_engine_parts.h"

namespace raftlog::engine {

using internal::Segment;
using namespace internal::log_engine_detail;  // NOLINT: the parts' shared helpers

void LogEngine::Log(const std::string& dir, const std::string& msg) const {
  if (options_.notes) options_.notes(dir + ": " + msg);
}

LogEngine::LogEngine(std::string dir, const Options& options)
    : dir_(std::move(dir)),
      segments_dir_(io::JoinPath(dir_, kSegmentsDir)),
      options_(options),
      fs_(options.file_system != nullptr ? options.file_system : io::FileSystem::Default()),
      cache_(std::make_unique<internal::FrameCache>(options.frame_cache_bytes)),
      builder_(FrameCompression(options)),
      counters_(std::make_unique<Counters>()) {}

LogEngine::~LogEngine() { (void)Close(); }

Result<std::unique_ptr<LogEngine>> LogEngine::Open(const std::string& dir, const Options& options) {
  if (options.segment_bytes < kMinSegmentBytes || options.segment_bytes > kMaxSegmentBytes) {
    return Status::InvalidArgument("Options::segment_bytes must be between 64 KiB and 2 GiB, is " +
                                   std::to_string(options.segment_bytes));
  }
  if (options.max_frame_bytes < 1024 || options.max_frame_bytes > format::kMaxFramePayloadBytes) {
    return Status::InvalidArgument("Options::max_frame_bytes must be between 1 KiB and 1 GiB");
  }
  if (options.compression_mode == CompressionMode::kColdSegments && options.cold_bytes_per_sec == 0) {
    return Status::InvalidArgument("Options::cold_bytes_per_sec must be above 0");
  }
  if (options.compression_mode == CompressionMode::kColdSegments &&
      !(options.cold_busy_share >= 0 && options.cold_busy_share <= 1)) {
    return Status::InvalidArgument("Options::cold_busy_share must be between 0 and 1, is " +
                                   std::to_string(options.cold_busy_share));
  }
  std::unique_ptr<LogEngine> engine(new LogEngine(dir, options));
  Status s = engine->OpenImpl();
  if (!s.ok()) {
    // Nothing to flush: just stop what was started and release the lock.
    port::MutexLock w(&engine->write_mu_);
    engine->closed_ = true;
    engine->ReleaseLocked();
    return s;
  }
  engine->StartColdWorker();
  return engine;
}


Status LogEngine::Close() {
  StopColdWorker();  // before write_mu_: the worker may be waiting for it
  port::MutexLock w(&write_mu_);
  if (closed_) return Status::OK();
  closed_ = true;
  // The seal in flight finishes first (its commit lists the active segment).
  Status result = WaitForSeal(/*synced_only=*/false);
  if (result.ok() && !has_failed_.load() && !options_.read_only) {
    // The segment first: if it cannot be synced, the disk is in doubt and no
    // more metadata should be written on top of it.
    if (active_ != nullptr && options_.sync != SyncPolicy::kNever) {
      result = active_->file()->Sync();
      counters_->log_syncs++;
      if (result.ok()) durable_offset_ = write_offset_;
    }
    // Lazy state and the durable progress (everything synced above), in one
    // transaction, if either changed since the last commit.
    bool lazy = false;
    {
      port::MutexLock lock(&state_mu_);
      lazy = !lazy_state_.empty();
    }
    if (result.ok() && (lazy || (track_durable_ && DurableProgress() != durable_written_))) {
      MetaStore::Batch batch;
      result = CommitMeta(&batch);
    }
  }
  ReleaseLocked();
  return result;
}

void LogEngine::Abandon() {
  StopColdWorker();  // before write_mu_: the worker may be waiting for it
  port::MutexLock w(&write_mu_);
  if (closed_) return;
  closed_ = true;
  ReleaseLocked();
}

void LogEngine::ReleaseLocked() {
  // After Close's wait nothing is in flight; after Abandon or a failure the
  // seal stops where it is, as a crash would leave it.
  StopSealer(/*abandon=*/true);
  {
    port::MutexLock lock(&sync_mu_);
    sync_stop_ = true;
    sync_file_ = nullptr;
  }
  sync_cv_.SignalAll();
  if (syncer_.joinable()) syncer_.join();
  if (preallocator_) preallocator_->Stop();
  {
    port::WriterLock lock(&mu_);
    segments_.clear();
  }
  active_ = nullptr;
  spare_.reset();  // an untaken spare stays on disk, reused on the next open
  meta_.reset();
  lock_file_.reset();
  lock_.reset();
}

}  // namespace raftlog::engine
