#include "raftlog/engine/internal/cold_worker.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "raftlog/format/layout.h"

namespace raftlog::engine::internal {

namespace {

using std::chrono::milliseconds;

// How often the append rate and the compaction history are sampled, and
// how long the moving average of the append rate remembers.
constexpr milliseconds kSampleEvery{20};
constexpr double kRateMemorySeconds = 0.2;
// /proc/stat counts in jiffies (10 ms): shorter samples would be noise.
constexpr milliseconds kCpuSampleEvery{100};
// While it waits for room; while it has nothing to do it also polls the
// segment list this often, besides being woken by each seal.
constexpr milliseconds kWaitStep{20};
constexpr milliseconds kIdlePoll{50};
constexpr std::chrono::seconds kRescanEvery{1};
// The most work the budget lets it do at once after a quiet period: a few
// frames' compression, not a whole segment's.
constexpr double kBudgetBurstSeconds = 0.02;
constexpr milliseconds kChargeEvery{2};

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

void CompactionHistory::Observe(uint64_t first_index, uint64_t last_index) {
  if (first_.has_value() && first_index > *first_ && last_index >= first_index) {
    lags_.push_back(last_index - first_index + 1);
    if (lags_.size() > kKept) lags_.pop_front();
  }
  first_ = first_index;
}

std::optional<uint64_t> CompactionHistory::Lag() const {
  if (lags_.empty()) return std::nullopt;
  std::vector<uint64_t> sorted(lags_.begin(), lags_.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted[sorted.size() / 2];
}

bool CompactionWillRemoveSoon(const format::SegmentRecord& segment, uint64_t first_index,
                              uint64_t last_index, std::optional<uint64_t> lag) {
  if (segment.base_index < first_index) return true;
  if (!lag.has_value()) return false;
  // The log's last index when a compaction at the usual lag first reaches
  // past the segment: last - lag + 1 > segment.last_index.
  const uint64_t removed_at = segment.last_index + *lag;
  const uint64_t ahead = removed_at > last_index ? removed_at - last_index : 0;
  return ahead < *lag / 2 + 1;
}

ColdWorker::ColdWorker(LogEngine* log, ColdWorkerConfig config,
                       std::function<uint64_t()> bytes_appended,
                       std::function<void(const std::string&)> note)
    : log_(log),
      config_(config),
      bytes_appended_(std::move(bytes_appended)),
      note_(std::move(note)) {
  thread_ = std::thread([this] { Run(); });
}

ColdWorker::~ColdWorker() { Stop(); }

void ColdWorker::SegmentSealed() {
  {
    port::MutexLock lock(&mu_);
    woken_ = true;
  }
  cv_.SignalAll();
}

void ColdWorker::Stop() {
  {
    // Under the lock, so that a sleeper between its check and its wait
    // cannot miss it.
    port::MutexLock lock(&mu_);
    stop_.store(true, std::memory_order_release);
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

bool ColdWorker::SleepFor(Clock::duration d, bool wake_ok) {
  const Clock::time_point start = Clock::now();
  const Clock::time_point until = start + d;
  {
    port::MutexLock lock(&mu_);
    while (!stopping() && !(wake_ok && woken_)) {
      const Clock::time_point now = Clock::now();
      if (now >= until) break;
      cv_.WaitFor(until - now);
    }
  }
  not_working_ += Clock::now() - start;
  return !stopping();
}

void ColdWorker::Run() {
  LowerThisThreadPriority();
  Clock::time_point next_scan = Clock::now();
  while (!stopping()) {
    Sample();
    bool woken = false;
    {
      port::MutexLock lock(&mu_);
      std::swap(woken, woken_);
    }
    const Clock::time_point now = Clock::now();
    if (!gave_up_ && (woken || now >= next_scan)) {
      next_scan = now + kRescanEvery;
      if (std::optional<format::SegmentRecord> segment = Pick()) {
        if (!WaitForRoom()) break;
        Compress(*segment);
        next_scan = Clock::now();  // look for the next one at once
        continue;
      }
    }
    if (!SleepFor(kIdlePoll, /*wake_ok=*/true)) break;
  }
}

void ColdWorker::Sample() {
  const Clock::time_point now = Clock::now();
  if (last_sample_ == Clock::time_point{}) {
    last_sample_ = last_cpu_sample_ = tokens_at_ = budget_at_ = now;
    runqueue_wait_ns_ = ThisThreadRunqueueWaitNs();
    budget_s_ = kBudgetBurstSeconds;
    last_bytes_ = bytes_appended_();
    history_.Observe(log_->FirstIndex(), log_->LastIndex());
    (void)cores_.Sample();
    return;
  }
  if (now - last_sample_ >= kSampleEvery) {
    const double dt = Seconds(now - last_sample_);
    const uint64_t bytes = bytes_appended_();
    const double rate = static_cast<double>(bytes - last_bytes_) / dt;
    append_rate_ += (1 - std::exp(-dt / kRateMemorySeconds)) * (rate - append_rate_);
    last_bytes_ = bytes;
    last_sample_ = now;
    const uint64_t first = log_->FirstIndex();
    history_.Observe(first, log_->LastIndex());
    counters_.lag.store(history_.Lag().value_or(0), std::memory_order_relaxed);
  }
  if (now - last_cpu_sample_ >= kCpuSampleEvery) {
    idle_cores_ = cores_.Sample();
    last_cpu_sample_ = now;
  }
}

void ColdWorker::ChargeBudget(Clock::time_point now) {
  // Waiting for a CPU costs the others nothing (at nice 19 it waits while
  // they run). It may overlap the end of a sleep; not_working_ is capped.
  const uint64_t runqueue_wait_ns = ThisThreadRunqueueWaitNs();
  not_working_ += std::chrono::nanoseconds(runqueue_wait_ns - std::min(runqueue_wait_ns_,
                                                                       runqueue_wait_ns));
  runqueue_wait_ns_ = runqueue_wait_ns;
  const Clock::duration passed = now - budget_at_;
  const double worked = Seconds(passed - std::min(not_working_, passed));
  budget_s_ = std::min(budget_s_ + config_.busy_share * Seconds(passed) - worked,
                       kBudgetBurstSeconds);
  budget_at_ = now;
  not_working_ = Clock::duration::zero();
}

bool ColdWorker::WaitForRoom() {
  bool counted_busy = false, counted_cpu = false;
  for (;;) {
    if (stopping()) return false;
    Sample();
    const bool busy = config_.busy_bytes_per_sec > 0 &&
                      append_rate_ > static_cast<double>(config_.busy_bytes_per_sec);
    const bool no_core = config_.free_cores >= 0 && idle_cores_.has_value() &&
                         *idle_cores_ <= config_.free_cores;
    const Clock::time_point now = Clock::now();
    if (!busy && !no_core) {
      // Room: work as fast as the rate limit allows, and start the next
      // busy period with a small burst, not with a debt.
      budget_at_ = now;
      not_working_ = Clock::duration::zero();
      runqueue_wait_ns_ = ThisThreadRunqueueWaitNs();
      budget_s_ = std::max(budget_s_, 0.0);
      return true;
    }
    // Charged every kChargeEvery at most (a frame of the raw file may be a
    // few KiB: reading /proc for each would be a cost of its own).
    if (config_.busy_share > 0 && budget_s_ >= 0 && now - budget_at_ < kChargeEvery) return true;
    ChargeBudget(now);
    if (config_.busy_share > 0 && budget_s_ >= 0) return true;
    if (busy && !counted_busy) counters_.pauses_busy++;
    if (no_core && !counted_cpu) counters_.pauses_cpu++;
    counted_busy = counted_busy || busy;
    counted_cpu = counted_cpu || no_core;
    // Sleep off the debt (in steps, to notice when the room comes back).
    Clock::duration step = kWaitStep;
    if (config_.busy_share > 0) {
      step = std::min(step, std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(-budget_s_ / config_.busy_share)) +
                                std::chrono::milliseconds(1));
    }
    if (!SleepFor(step, /*wake_ok=*/false)) return false;
  }
}

Status ColdWorker::Pace(const format::SegmentRecord& segment, uint64_t bytes) {
  static const Status kStopping = Status::Busy("the log is closing: the rewrite stops");
  if (stopping()) return kStopping;
  // The log moved on while the rewrite paced itself: a segment compaction
  // will soon remove is not worth finishing.
  if (CompactionWillRemoveSoon(segment, log_->FirstIndex(), log_->LastIndex(), history_.Lag())) {
    abandon_ = true;
    return Status::Busy("compaction will remove the segment soon: the rewrite stops");
  }
  if (bytes == 0) {
    // The rewrite is ready and the swap is next: it takes the writer lock
    // and commits to LMDB, so it must not wait behind idle-class I/O or
    // start while the log is busy.
    if (!WaitForRoom()) return kStopping;
    SetThisThreadIdleIo(false);
    return Status::OK();
  }
  counters_.bytes_read.fetch_add(bytes, std::memory_order_relaxed);
  // A token bucket holding at most 50 ms of reading (and one frame).
  const double rate = static_cast<double>(std::max<uint64_t>(config_.bytes_per_sec, 1));
  const Clock::time_point now = Clock::now();
  tokens_ = std::min(tokens_ + Seconds(now - tokens_at_) * rate,
                     std::max(rate * 0.05, static_cast<double>(bytes)));
  tokens_at_ = now;
  tokens_ -= static_cast<double>(bytes);
  if (tokens_ < 0) {
    if (!SleepFor(std::chrono::duration_cast<Clock::duration>(
                      std::chrono::duration<double>(-tokens_ / rate)),
                  /*wake_ok=*/false)) {
      return kStopping;
    }
  }
  return WaitForRoom() ? Status::OK() : kStopping;
}

std::optional<format::SegmentRecord> ColdWorker::Pick() {
  const std::vector<format::SegmentRecord> records = log_->SegmentRecords();
  if (records.empty()) return std::nullopt;
  // Forget segments that are gone (ids are never reused).
  const std::pair<uint64_t, uint64_t> oldest{records.front().segment_id, 0};
  not_again_.erase(not_again_.begin(), not_again_.lower_bound(oldest));
  skipped_.erase(skipped_.begin(), skipped_.lower_bound(oldest));
  const uint64_t first = log_->FirstIndex(), last = log_->LastIndex();
  const std::optional<uint64_t> lag = history_.Lag();
  // Newest first: its raw bytes are the likeliest to be in the page cache,
  // and it lives the longest.
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    const format::SegmentRecord& r = *it;
    if (r.state != format::SegmentState::kSealed || r.compressed()) continue;
    const std::pair<uint64_t, uint64_t> key{r.segment_id, r.generation};
    if (not_again_.count(key) != 0) continue;
    if (CompactionWillRemoveSoon(r, first, last, lag)) {
      if (skipped_.insert(key).second) counters_.skipped++;
      continue;
    }
    return r;
  }
  return std::nullopt;
}

void ColdWorker::Compress(const format::SegmentRecord& segment) {
  CompressSegmentOptions options;
  options.level = config_.level;
  options.pace = [this, &segment](uint64_t bytes) { return Pace(segment, bytes); };
  abandon_ = false;
  Result<CompressSegmentResult> result = log_->CompressSegment(segment.segment_id, options);
  SetThisThreadIdleIo(true);  // Pace raised it for the swap
  // Waiting for the writer lock is the appender's time, not work.
  if (result.ok()) not_working_ += result->write_lock_wait;
  const std::pair<uint64_t, uint64_t> key{segment.segment_id, segment.generation};
  if (result.ok()) {
    switch (result->outcome) {
      case CompressSegmentResult::Outcome::kCompressed:
        counters_.compressed++;
        counters_.bytes_saved += result->raw_bytes - result->compressed_bytes;
        break;
      case CompressSegmentResult::Outcome::kNotWorthIt:
        counters_.kept_raw++;
        not_again_.insert(key);
        break;
      case CompressSegmentResult::Outcome::kAlreadyCompressed:
        break;
      case CompressSegmentResult::Outcome::kChanged:
        counters_.abandoned++;
        break;
    }
    return;
  }
  // Stopped, given up by Pace, or the segment was compacted, truncated or
  // replaced while it was read (a freed file may even be reused, and read
  // as garbage): not a failure of the rewrite.
  const std::vector<format::SegmentRecord> now = log_->SegmentRecords();
  const bool unchanged = std::find(now.begin(), now.end(), segment) != now.end();
  if (abandon_ || stopping() || !unchanged) {
    counters_.abandoned++;
    return;
  }
  counters_.errors++;
  const Status& s = result.status();
  if (s.IsFailedPrecondition() || s.IsInvalidArgument()) {
    // The engine refuses writes (an earlier failure): so will every segment.
    gave_up_ = true;
    note_("cold segments: the background worker stops: " + s.ToString());
    return;
  }
  not_again_.insert(key);
  note_("cold segments: " + format::SegmentRecordFileName(segment) + " stays raw: " +
        s.ToString());
}

void ColdWorker::AddStats(Stats* stats) const {
  stats->cold_segments_compressed = counters_.compressed.load();
  stats->cold_segments_kept_raw = counters_.kept_raw.load();
  stats->cold_segments_skipped = counters_.skipped.load();
  stats->cold_rewrites_abandoned = counters_.abandoned.load();
  stats->cold_errors = counters_.errors.load();
  stats->cold_bytes_read = counters_.bytes_read.load();
  stats->cold_bytes_saved = counters_.bytes_saved.load();
  stats->cold_pauses_busy = counters_.pauses_busy.load();
  stats->cold_pauses_cpu = counters_.pauses_cpu.load();
  stats->cold_compaction_lag = counters_.lag.load();
}

}  // namespace raftlog::engine::internal
