#include "raftlog/engine/log_writer.h"

#include <atomic>
#include <chrono>
#include <deque>
#include <iterator>
#include <thread>
#include <utility>

#include "raftlog/engine/internal/elapsed.h"
#include "raftlog/port/mutex.h"

namespace raftlog::engine {

namespace {

// The HardState a MsgStorageAppend carries (empty if none).
raft::HardState HardStateOf(const raft::Message& m) {
  if (m.term == 0 && m.vote == 0 && m.commit == 0) return {};
  return raft::HardState{m.term, m.vote, m.commit};
}

}  // namespace

std::vector<bool> SyncPlan(const std::vector<raft::Message>& batch, raft::HardState* last) {
  std::vector<bool> need(batch.size(), false);
  size_t last_entries = batch.size();  // none
  for (size_t i = 0; i < batch.size(); ++i) {
    const raft::Message& m = batch[i];
    const raft::HardState hs = HardStateOf(m);
    const bool new_term_or_vote =
        !raft::IsEmptyHardState(hs) && (hs.term != last->term || hs.vote != last->vote);
    need[i] = !m.entries.empty() || m.snapshot != nullptr || new_term_or_vote;
    if (!raft::IsEmptyHardState(hs)) *last = hs;
    if (!m.entries.empty()) last_entries = i;
  }
  std::vector<bool> sync(batch.size(), false);
  bool pending = false;  // a need not yet covered by a sync
  for (size_t i = 0; i < batch.size(); ++i) {
    pending = pending || need[i];
    if (i == last_entries) {
      sync[i] = pending;
      pending = false;
    } else if (i > last_entries || last_entries == batch.size()) {
      sync[i] = need[i];
      pending = false;
    }
  }
  return sync;
}

namespace {

class ThreadedLogWriter final : public LogWriter {
 public:
  ThreadedLogWriter(raft::WritableStorage* storage, Done done, OnError on_error)
      : storage_(storage), done_(std::move(done)), on_error_(std::move(on_error)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~ThreadedLogWriter() override { Stop(); }

  void Submit(raft::Message append) override {
    port::MutexLock lock(&mu_);
    queue_.push_back(std::move(append));
    cv_.Signal();
  }

  void Stop() override {
    {
      port::MutexLock lock(&mu_);
      stop_ = true;
      cv_.Signal();
    }
    if (thread_.joinable()) thread_.join();
  }

  size_t queued() const override {
    port::MutexLock lock(&mu_);
    return queue_.size() + in_flight_;
  }
  uint64_t batches() const override { return batches_.load(std::memory_order_relaxed); }
  uint64_t syncs() const override { return syncs_.load(std::memory_order_relaxed); }
  uint64_t busy_ns() const override { return busy_ns_.load(std::memory_order_relaxed); }

 private:
  void Run() {
    bool failed = false;
    for (;;) {
      std::vector<raft::Message> batch;
      {
        port::MutexLock lock(&mu_);
        while (queue_.empty() && !stop_) cv_.Wait();
        if (queue_.empty()) return;
        batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
        queue_.clear();
        in_flight_ = batch.size();
      }
      const auto start = std::chrono::steady_clock::now();
      if (!failed) failed = !Persist(batch);
      busy_ns_.fetch_add(internal::ElapsedNs(start), std::memory_order_relaxed);
      {
        port::MutexLock lock(&mu_);
        in_flight_ = 0;
      }
    }
  }

  // Saves the batch in order, syncing as SyncPlan says, then hands out the
  // responses. Returns false after a failure (reported to on_error_).
  bool Persist(std::vector<raft::Message>& batch) {
    const std::vector<bool> sync = SyncPlan(batch, &last_);
    batches_.fetch_add(1, std::memory_order_relaxed);
    for (size_t i = 0; i < batch.size(); ++i) {
      if (sync[i]) syncs_.fetch_add(1, std::memory_order_relaxed);
      const raft::Message& m = batch[i];
      Status s = storage_->Save(HardStateOf(m), m.entries, m.snapshot.get(), sync[i]);
      if (!s.ok()) {
        on_error_(s);
        return false;
      }
    }
    for (raft::Message& m : batch) done_(std::move(m.responses));
    return true;
  }

  raft::WritableStorage* const storage_;
  const Done done_;
  const OnError on_error_;
  raft::HardState last_;  // writer thread only
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> busy_ns_{0};

  mutable port::Mutex mu_;
  port::CondVar cv_{&mu_};
  std::deque<raft::Message> queue_ GUARDED_BY(mu_);
  size_t in_flight_ GUARDED_BY(mu_) = 0;
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<LogWriter> NewThreadedLogWriter(raft::WritableStorage* storage,
                                                LogWriter::Done done, LogWriter::OnError on_error) {
  return std::make_unique<ThreadedLogWriter>(storage, std::move(done), std::move(on_error));
}

}  // namespace raftlog::engine
