// LogEngine, the background seal: a roll hands the full segment to the
// sealer thread, which writes its footer and trailer, fdatasyncs it and
// commits the manifest change, while the writer appends to the successor.
//
// Why it is safe (docs/crash-safety.md, "Background seals"):
//  - The successor's entries are found after a crash without any manifest
//    record: its header (written with its first frame) names the id,
//    generation and base index, and recovery adopts the spare whose header
//    continues the manifest's active segment (RecoverSuccessor). So the
//    LMDB commit is needed for nothing acknowledged and can run late.
//  - A synced append that rolled returns only once the old segment is
//    durable as well (WaitForSeal(synced_only) in WriteFrames): an
//    acknowledged entry in the successor always has every entry before it
//    on disk, so the successor always continues the recovered log.
//  - At most one seal is in flight: a roll waits for the previous seal's
//    commit, and so do the operations that change the manifest's segments
//    (truncation, compaction, reset) and Close. So recovery meets at most
//    one unlisted successor, right after the last listed segment.

#include <chrono>

#include "raftlog/engine/internal/log_engine_parts.h"

namespace raftlog::engine {

using internal::Segment;
using namespace internal::log_engine_detail;  // NOLINT: the parts' shared helpers

void LogEngine::StartSeal(std::unique_ptr<SealJob> job) {
  {
    port::MutexLock lock(&seal_mu_);
    RAFTLOG_CHECK_MSG(seal_job_ == nullptr, "a seal is already in flight");
    seal_job_ = std::move(job);
    seal_synced_ = false;
  }
  seal_cv_.SignalAll();
}

Status LogEngine::WaitForSeal(bool synced_only) {
  port::MutexLock lock(&seal_mu_);
  if (seal_job_ == nullptr || (synced_only && seal_synced_)) return seal_error_;
  const auto start = std::chrono::steady_clock::now();
  while (seal_job_ != nullptr && !(synced_only && seal_synced_)) seal_cv_.Wait();
  const uint64_t ns = ElapsedNs(start);
  counters_->seal_waits++;
  counters_->seal_wait_ns += ns;
  RaiseMax(&counters_->seal_wait_max_ns, ns);  // under seal_mu_
  return seal_error_;
}

void LogEngine::StopSealer(bool abandon) {
  {
    port::MutexLock lock(&seal_mu_);
    seal_stop_ = true;
    seal_abandon_ = abandon;
  }
  seal_cv_.SignalAll();
  if (sealer_.joinable()) sealer_.join();
}

void LogEngine::SealLoop() {
  for (;;) {
    SealJob* job = nullptr;
    {
      port::MutexLock lock(&seal_mu_);
      while (!seal_stop_ && seal_job_ == nullptr) seal_cv_.Wait();
      // On stop, a job handed over before it still runs (unless abandoned:
      // RunSeal then stops before its first step).
      if (seal_job_ == nullptr) return;
      job = seal_job_.get();
    }
    if (job->cold.has_value()) {
      // A swap's failure is its own (the worker reports it), not the log's.
      Status s = RunColdSwap(job);
      {
        port::MutexLock lock(&seal_mu_);
        job->cold->outcome->status = s;
        job->cold->outcome->done = true;
        seal_job_.reset();
        seal_synced_ = false;
      }
      seal_cv_.SignalAll();
      continue;
    }
    Status s = RunSeal(job);
    bool abandoned = false;
    {
      port::MutexLock lock(&seal_mu_);
      abandoned = seal_abandon_;
    }
    if (!s.ok() && !abandoned) Fail(s);
    {
      port::MutexLock lock(&seal_mu_);
      if (!s.ok() && !abandoned && seal_error_.ok()) seal_error_ = s;
      seal_job_.reset();
      seal_synced_ = false;
    }
    seal_cv_.SignalAll();
  }
}

Status LogEngine::RunSeal(SealJob* job) {
  const auto abandoned = [this] {
    port::MutexLock lock(&seal_mu_);
    return seal_abandon_;
  };
  // Abandon (a simulated crash) writes nothing more: stop between steps.
  if (abandoned()) return Status::FailedPrecondition("seal abandoned");
  uint64_t footer_offset = 0, file_bytes = 0;
  RAFTLOG_RETURN_IF_ERROR(WriteSeal(job->segment, job->write_offset, job->last_index, job->runs,
                                    job->durable_offset, &footer_offset, &file_bytes));
  {
    port::MutexLock lock(&seal_mu_);
    seal_synced_ = true;
  }
  seal_cv_.SignalAll();
  RAFTLOG_ASSIGN_OR_RETURN(format::FooterView footer,
                           ParseFooter(*job->segment, footer_offset, file_bytes));
  if (abandoned()) return Status::FailedPrecondition("seal abandoned");

  const format::SegmentRecord sealed =
      SealedRecord(*job->segment, job->last_index, footer_offset, file_bytes, job->runs);
  MetaStore::Batch batch;
  batch.Put(SegmentKey(sealed.segment_id), format::EncodeSegmentRecord(sealed));
  batch.Put(SegmentKey(job->successor.segment_id), format::EncodeSegmentRecord(job->successor));
  batch.Put(kNextSegmentIdKey, Counter(kNextSegmentIdKey, job->next_segment_id));
  // Lazy state rides along, as with every commit: it matters here. A lazy
  // value (DiskStorage's commit index) may be durable only in the frames'
  // commit hints, and open reads hints from the active segment alone: once
  // this commit seals the segment, the hints in it are never read again.
  // (The durable progress is the writer's: it rides on its next commit.)
  const LazyState lazy = AddLazyState(&batch);
  Status s = meta_->Write(batch);
  counters_->meta_commits++;
  RAFTLOG_RETURN_IF_ERROR(s);
  ForgetCommittedLazyState(lazy);
  {
    port::WriterLock lock(&mu_);
    job->segment->Seal(footer, footer_offset, file_bytes, std::move(job->runs));
  }
  counters_->background_seals++;
  // The cold worker (set before the first append, so before any seal job)
  // may compress the segment from now on: it is listed sealed.
  if (cold_ != nullptr) cold_->SegmentSealed();
  return Status::OK();
}

}  // namespace raftlog::engine
