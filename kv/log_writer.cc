#include "kv/log_writer.h"

#include <deque>
#include <thread>
#include <utility>

#include "raftlog/port/mutex.h"

namespace raftlog::kv {

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

 private:
  void Run() {
    bool failed = false;
    for (;;) {
      std::deque<raft::Message> batch;
      {
        port::MutexLock lock(&mu_);
        while (queue_.empty() && !stop_) cv_.Wait();
        if (queue_.empty()) return;
        batch.swap(queue_);
        in_flight_ = batch.size();
      }
      if (!failed) failed = !Persist(batch);
      {
        port::MutexLock lock(&mu_);
        in_flight_ = 0;
      }
    }
  }

  // Saves the batch in order, syncing once at the end, then hands out the
  // responses. Returns false after a failure (reported to on_error_).
  bool Persist(std::deque<raft::Message>& batch) {
    bool need_sync = false;
    for (size_t i = 0; i < batch.size(); ++i) {
      const raft::Message& m = batch[i];
      raft::HardState hs;
      if (m.term != 0 || m.vote != 0 || m.commit != 0) hs = raft::HardState{m.term, m.vote, m.commit};
      // etcd's MustSync: entries, or a new term or vote, must be durable
      // before the responses go out; a commit bump alone need not be.
      need_sync = need_sync || !m.entries.empty() || m.snapshot != nullptr ||
                  (!raft::IsEmptyHardState(hs) && (hs.term != last_.term || hs.vote != last_.vote));
      const bool last = i + 1 == batch.size();
      Status s = storage_->Save(hs, m.entries, m.snapshot.get(), last && need_sync);
      if (!s.ok()) {
        on_error_(s);
        return false;
      }
      if (!raft::IsEmptyHardState(hs)) last_ = hs;
    }
    for (raft::Message& m : batch) done_(std::move(m.responses));
    return true;
  }

  raft::WritableStorage* const storage_;
  const Done done_;
  const OnError on_error_;
  raft::HardState last_;  // writer thread only

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

}  // namespace raftlog::kv
