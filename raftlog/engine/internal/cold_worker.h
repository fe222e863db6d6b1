// ColdWorker: the background thread of Options::compression_mode
// kColdSegments. It rewrites the log's sealed segments compressed, one at a
// time, newest first, through LogEngine::CompressSegment, and never on the
// append path: the rewrite runs on its own thread at nice 19 with idle-class
// I/O and reads at most Options::cold_bytes_per_sec. While the log appends
// faster than cold_busy_bytes_per_sec or the machine has cold_free_cores
// idle cores or fewer, it works at most cold_busy_share of the wall time
// (its budget; with a share of 0 it waits instead): it times its own work
// (all its time but its sleeps, its waits for the writer lock and its waits
// for a CPU, so its CPU time and its reads, writes and syncs), and between
// any two frames, mid-segment included, sleeps off what it overspent. It
// leaves raw the segments compaction will remove soon (see
// CompactionWillRemoveSoon). docs/operations.md ("Cold segments") explains
// the rules for operators.
//
// Thread-safety: SegmentSealed, Stop and AddStats may be called from any
// thread. The LogEngine owns the worker and must call Stop before it
// closes (Stop waits for the thread, which may be waiting for the writer
// lock inside CompressSegment).
// Private to the engine.

#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "raftlog/engine/internal/machine_load.h"
#include "raftlog/engine/log_engine.h"
#include "raftlog/engine/stats.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/port/mutex.h"

namespace raftlog::engine::internal {

// How far behind its last index the log compacts, learned by watching its
// bounds: each rise of the first index is a compaction, which kept
// last_index - first_index + 1 entries (the lag). Thread-compatible.
class CompactionHistory {
 public:
  // Lags remembered; Lag() is their median, so one odd compaction (a
  // snapshot installed from the leader empties the log) does not decide.
  static constexpr size_t kKept = 8;

  // The log's bounds as they stand now. A compaction that empties the log
  // (last < first) is not a sample.
  void Observe(uint64_t first_index, uint64_t last_index);
  // The median lag seen, or nullopt before the first compaction.
  std::optional<uint64_t> Lag() const;

 private:
  std::optional<uint64_t> first_;
  std::deque<uint64_t> lags_;
};

// True if compaction will remove `segment` soon, so that compressing it
// would cost more than it saves: its first entry is already compacted
// (first_index is past its base), or the log will have grown by less than
// half the usual lag when a compaction reaches past its last entry. A
// compaction at the usual lag reaches past segment.last_index once the log
// ends at segment.last_index + lag; a segment with less than half its
// retention still ahead is left raw.
bool CompactionWillRemoveSoon(const format::SegmentRecord& segment, uint64_t first_index,
                              uint64_t last_index, std::optional<uint64_t> lag);

struct ColdWorkerConfig {
  int level = 3;
  uint64_t bytes_per_sec = 32ull << 20;
  uint64_t busy_bytes_per_sec = 16ull << 20;
  double free_cores = 1.0;
  double busy_share = 0.05;
};

class ColdWorker {
 public:
  // Starts the thread. `log` must outlive Stop(); bytes_appended returns
  // the log's frame bytes written since open (monotone); note receives a
  // line about a failed rewrite.
  ColdWorker(LogEngine* log, ColdWorkerConfig config, std::function<uint64_t()> bytes_appended,
             std::function<void(const std::string&)> note);
  ~ColdWorker();
  ColdWorker(const ColdWorker&) = delete;
  ColdWorker& operator=(const ColdWorker&) = delete;

  // A segment was sealed: look for work now rather than at the next poll.
  void SegmentSealed();
  // Ends the thread and waits for it. A rewrite in progress stops at its
  // next frame (its new file is removed) or, if it waits for the writer
  // lock, once it has it. Idempotent.
  void Stop();

  void AddStats(Stats* stats) const;

 private:
  using Clock = std::chrono::steady_clock;

  void Run();
  // The newest sealed raw segment worth compressing, or nullopt. Counts
  // segments skipped for compaction (once each).
  std::optional<format::SegmentRecord> Pick();
  void Compress(const format::SegmentRecord& segment);
  // CompressSegmentOptions::pace: rate limit, waits for room, stops.
  Status Pace(const format::SegmentRecord& segment, uint64_t bytes);
  // Returns at once while the log is quiet and the machine has a spare
  // core; otherwise once the budget allows more work (busy_share > 0) or
  // they are (busy_share 0). False if asked to stop.
  bool WaitForRoom();
  // Charges the work done since the last call to the budget and credits it
  // busy_share of the time passed.
  void ChargeBudget(Clock::time_point now);
  // Refreshes the append rate, the compaction history and the idle cores
  // if their intervals passed.
  void Sample();
  // Sleeps up to `d` unless asked to stop (or woken, if wake_ok). False if
  // asked to stop.
  bool SleepFor(Clock::duration d, bool wake_ok);
  bool stopping() const { return stop_.load(std::memory_order_acquire); }

  LogEngine* const log_;
  const ColdWorkerConfig config_;
  const std::function<uint64_t()> bytes_appended_;
  const std::function<void(const std::string&)> note_;

  port::Mutex mu_;
  port::CondVar cv_{&mu_};
  bool woken_ GUARDED_BY(mu_) = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;

  // The thread's own state (no lock: only the thread touches it).
  CompactionHistory history_;
  IdleCoreSampler cores_;
  Clock::time_point last_sample_{};
  Clock::time_point last_cpu_sample_{};
  uint64_t last_bytes_ = 0;
  double append_rate_ = 0;                  // bytes/s, a moving average
  std::optional<double> idle_cores_;        // from the last CPU sample
  double tokens_ = 0;                       // rate limit: bytes it may read now
  Clock::time_point tokens_at_{};
  // The budget while the log is busy or no core is spare: seconds of work
  // it may still do now (negative: owed), as of budget_at_; the time since
  // then it slept, or waited for the writer lock, is not work.
  double budget_s_ = 0;
  Clock::time_point budget_at_{};
  Clock::duration not_working_{};
  uint64_t runqueue_wait_ns_ = 0;           // ThisThreadRunqueueWaitNs() at budget_at_
  // Segments (id, generation) not to try again in this process.
  std::set<std::pair<uint64_t, uint64_t>> not_again_;
  std::set<std::pair<uint64_t, uint64_t>> skipped_;  // counted once each
  bool gave_up_ = false;                    // the engine refuses writes
  bool abandon_ = false;                    // Pace stopped the current rewrite

  struct Counters {
    std::atomic<uint64_t> compressed{0}, kept_raw{0}, skipped{0}, abandoned{0}, errors{0},
        bytes_read{0}, bytes_saved{0}, pauses_busy{0}, pauses_cpu{0}, lag{0};
  };
  Counters counters_;
};

}  // namespace raftlog::engine::internal
