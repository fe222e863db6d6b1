// LogEngine, segment lifecycle: rolls and seals, suffix and prefix
// truncation, reset, state writes, sync.

#include "raftlog/engine/internal/log_engine_parts.h"

namespace raftlog::engine {

using internal::Segment;
using namespace internal::log_engine_detail;  // NOLINT: the parts' shared helpers

Status LogEngine::Roll(PendingFrames* pending) {
  MetaStore::Batch batch;
  std::unique_ptr<Segment> new_active;
  if (active_ != nullptr) {
    if (!pending->empty()) {
      // Frames of this batch already in the old segment: publish them first
      // so the footer lists them (the seal's sync makes them durable).
      port::WriterLock lock(&mu_);
      active_->PublishFrames(pending->frames, pending->last_index);
      for (const format::TermRun& run : pending->runs) term_runs_.push_back(run);
      active_runs_ += pending->segment_runs;
      last_index_.store(pending->last_index, std::memory_order_release);
      *pending = PendingFrames();
    }
    // An empty active segment is rolled only when it is smaller than the
    // configured size (created before Options::segment_bytes was raised) and
    // the next entry fits only the configured size: Activate drops it.
  }
  RAFTLOG_RETURN_IF_ERROR(Activate(&batch));
  counters_->segment_rolls++;
  return Status::OK();
}

Status LogEngine::Activate(MetaStore::Batch* batch) {
  // At most one seal in flight: a segment filled before its predecessor's
  // seal committed waits for that commit here (log_engine_seal.cc says why).
  RAFTLOG_RETURN_IF_ERROR(WaitForSeal(/*synced_only=*/false));
  // The file reserved by WriteFrames, or (a batch spanning segments) a new one.
  internal::PreparedSegment spare;
  if (spare_ != nullptr) {
    spare = std::move(*spare_);
    spare_.reset();
  } else {
    auto taken = preallocator_->Take();
    if (!taken.ok()) {
      Fail(taken.status());
      return taken.status();
    }
    spare = std::move(*taken);
  }

  // Seal the current active segment, if any: on the sealer thread when it
  // runs (the successor is then listed by the seal's commit, and found by
  // its header until then), else here. One that never received a frame
  // holds nothing to seal: its record is deleted in the same commit that
  // lists the new one, and its file removed afterwards (a crash in between
  // leaves an unlisted file, which open removes as a stray).
  std::optional<format::FooterView> sealed_footer;
  std::vector<format::TermRun> sealed_runs;
  uint64_t footer_offset = 0, file_bytes = 0;
  const bool drop_empty = active_ != nullptr && active_->empty();
  const bool background = active_ != nullptr && !drop_empty && sealer_.joinable();
  std::unique_ptr<SealJob> job;
  if (drop_empty) {
    batch->Delete(SegmentKey(active_->record().segment_id));
  } else if (background) {
    job = std::make_unique<SealJob>();
    job->segment = active_;
    job->write_offset = write_offset_;
    job->last_index = active_->last_index();
    job->durable_offset = durable_offset_;
    port::ReaderLock lock(&mu_);
    job->runs = RunsWithin(active_->base_index(), active_->last_index());
  } else if (active_ != nullptr) {
    {
      port::ReaderLock lock(&mu_);
      sealed_runs = RunsWithin(active_->base_index(), active_->last_index());
    }
    Status sealed_ok = WriteSeal(active_, write_offset_, active_->last_index(), sealed_runs,
                                 durable_offset_, &footer_offset, &file_bytes);
    auto footer = sealed_ok.ok() ? ParseFooter(*active_, footer_offset, file_bytes)
                                 : Result<format::FooterView>(sealed_ok);
    if (!footer.ok()) {
      Fail(footer.status());
      return footer.status();
    }
    sealed_footer = *footer;
    const format::SegmentRecord sealed =
        SealedRecord(*active_, active_->last_index(), footer_offset, file_bytes, sealed_runs);
    batch->Put(SegmentKey(sealed.segment_id), format::EncodeSegmentRecord(sealed));
  }

  auto mapping = spare.file->Map(0, options_.segment_bytes);
  if (!mapping.ok()) {
    Fail(mapping.status());
    return mapping.status();
  }
  format::SegmentRecord record;
  record.segment_id = spare.segment_id;
  record.base_index = LastIndex() + 1;
  // A successor found by its header (a background seal that never
  // committed) is adopted only if its generation is the active segment's
  // (FindSuccessor), so it takes that one: generation_ may have moved past
  // it, as a cold rewrite reserves its own generation from the same counter.
  // With no active segment (a new log, or after a truncation or reset) the
  // new segment is listed at once, in the log's current generation.
  record.generation = background ? active_->generation() : generation_;
  record.state = format::SegmentState::kActive;
  record.last_index = record.base_index - 1;
  const uint64_t next_id = std::max(next_segment_id_, record.segment_id + 1);
  if (background) {
    job->successor = record;
    job->next_segment_id = next_id;
  } else {
    batch->Put(SegmentKey(record.segment_id), format::EncodeSegmentRecord(record));
    batch->Put(kNextSegmentIdKey, Counter(kNextSegmentIdKey, next_id));
    Status s = CommitMeta(batch);
    if (!s.ok()) {
      Fail(s);
      return s;
    }
  }
  next_segment_id_ = next_id;

  auto segment = Segment::NewActive(record, spare.file, std::move(*mapping),
                                    internal::SegmentFileName(record.segment_id));
  std::vector<std::unique_ptr<Segment>> dropped;
  {
    port::WriterLock lock(&mu_);
    if (drop_empty) {
      RAFTLOG_CHECK(!segments_.empty() && segments_.back().get() == active_);
      dropped.push_back(std::move(segments_.back()));
      segments_.pop_back();
    } else if (active_ != nullptr && !background) {
      active_->Seal(*sealed_footer, footer_offset, file_bytes, std::move(sealed_runs));
    }
    segments_.push_back(std::move(segment));
    active_ = segments_.back().get();
  }
  // A segment sealed here (not by the sealer, which tells the worker itself).
  if (sealed_footer.has_value() && cold_ != nullptr) cold_->SegmentSealed();
  if (!dropped.empty()) RemoveSegmentFiles(std::move(dropped));
  write_offset_ = format::kSegmentHeaderBytes;
  durable_offset_ = 0;
  header_pending_ = true;
  active_stale_tail_ = spare.stale_tail;
  active_bytes_ = options_.segment_bytes;
  active_runs_ = 0;
  {
    port::MutexLock lock(&sync_mu_);
    sync_file_ = active_->file();
    sync_written_ = 0;
    sync_durable_ = 0;
  }
  if (background) StartSeal(std::move(job));
  return Status::OK();
}

std::vector<format::TermRun> LogEngine::RunsWithin(uint64_t first, uint64_t last) const {
  std::vector<format::TermRun> out;
  for (const format::TermRun& run : term_runs_) {
    if (run.first_index > last) break;
    if (run.first_index <= first) {
      out.assign(1, format::TermRun{first, run.term});  // the run that covers `first`
    } else {
      out.push_back(run);
    }
  }
  return out;
}

Status LogEngine::WriteSeal(Segment* segment, uint64_t write_offset, uint64_t last_index,
                            std::vector<format::TermRun> runs, uint64_t durable_offset,
                            uint64_t* footer_offset, uint64_t* file_bytes) {
  format::FooterContents contents;
  contents.last_index = last_index;
  for (uint32_t k = 0; k < segment->frame_count(); ++k) {
    const format::FrameRef ref = segment->frame(k);
    if (segment->base_index() + ref.index_delta > last_index) break;
    contents.frames.push_back(ref);
  }
  while (!runs.empty() && runs.back().first_index > last_index) runs.pop_back();
  contents.term_runs = std::move(runs);
  const std::string payload = format::EncodeFooterPayload(contents);
  format::FrameBuilder footer_builder;
  footer_builder.set_durable_offset(durable_offset);
  footer_builder.BuildFooter(segment->seed(), payload);
  *footer_offset = write_offset;
  *file_bytes = write_offset + footer_builder.frame_bytes() + format::kTrailerBytes;
  const std::string trailer = format::EncodeTrailer(*footer_offset, *file_bytes, segment->seed());
  std::vector<std::string_view> pieces(footer_builder.pieces().begin(),
                                       footer_builder.pieces().end());
  pieces.push_back(trailer);
  RAFTLOG_RETURN_IF_ERROR(segment->file()->PWrite(write_offset, pieces));
  RAFTLOG_RETURN_IF_ERROR(segment->file()->Sync());
  counters_->log_syncs++;
  // Give back the preallocated space past the trailer. Not synced: if the
  // size change is lost, the file is just longer than its manifest entry says.
  (void)segment->file()->Truncate(*file_bytes);
  return Status::OK();
}

Result<format::FooterView> LogEngine::ParseFooter(const Segment& segment, uint64_t footer_offset,
                                                  uint64_t file_bytes) const {
  const std::string where = segment.file_name() + " at offset " + std::to_string(footer_offset);
  const std::string_view bytes = segment.bytes();
  if (file_bytes > bytes.size()) {
    return Status::Corruption(where + ": footer lies beyond the mapped segment");
  }
  RAFTLOG_ASSIGN_OR_RETURN(
      format::FrameView frame,
      format::DecodeFrame(bytes.substr(footer_offset, file_bytes - footer_offset), segment.seed(),
                          where));
  return format::FooterView::Parse(frame.payload, where);
}

Status LogEngine::TruncateSuffix(uint64_t new_last) {
  // The manifest's segments change: the seal in flight commits first.
  RAFTLOG_RETURN_IF_ERROR(WaitForSeal(/*synced_only=*/false));
  MetaStore::Batch batch;
  // What changes, read under mu_ shared (and unchanged until the publish
  // below: only a holder of write_mu_ changes the index).
  size_t keep = 0;  // segments [0, keep) survive
  Segment* cut = nullptr;
  std::vector<format::TermRun> cut_runs;
  std::vector<uint64_t> dead_ids;
  {
    port::ReaderLock lock(&mu_);
    keep = segments_.size();
    for (size_t k = 0; k < segments_.size(); ++k) {
      if (segments_[k]->base_index() > new_last) {
        keep = k;
        break;
      }
    }
    cut = keep > 0 ? segments_[keep - 1].get() : nullptr;
    if (cut != nullptr && cut->last_index() > new_last) {
      cut_runs = RunsWithin(cut->base_index(), new_last);
    }
    for (size_t k = keep; k < segments_.size(); ++k) dead_ids.push_back(segments_[k]->id());
  }
  std::optional<format::FooterView> footer;
  uint64_t footer_offset = 0, file_bytes = 0;
  if (cut != nullptr && cut->last_index() > new_last) {
    format::SegmentRecord record = cut->record();
    record.last_index = new_last;
    record.term_runs = cut_runs;
    if (cut == active_) {
      // Seal the active segment at the cut: the footer lists only frames up
      // to new_last, and new entries go to a new segment (new id and
      // generation), so the dead frames after the cut can never be read.
      // Nor are they overwritten: the footer goes after them (write_offset_),
      // so payloads handed out by ReadShared before the truncation, which
      // view this mapping, keep their bytes; the replacing entries are
      // reachable only through new reads of the new segment.
      Status sealed_ok = WriteSeal(cut, write_offset_, new_last, cut_runs, durable_offset_,
                                   &footer_offset, &file_bytes);
      auto written = sealed_ok.ok() ? ParseFooter(*cut, footer_offset, file_bytes)
                                    : Result<format::FooterView>(sealed_ok);
      if (!written.ok()) {
        Fail(written.status());
        return written.status();
      }
      footer = *written;
      record.state = format::SegmentState::kSealed;
      record.footer_offset = footer_offset;
      record.file_bytes = file_bytes;
    }
    batch.Put(SegmentKey(record.segment_id), format::EncodeSegmentRecord(record));
  }
  for (uint64_t id : dead_ids) batch.Delete(SegmentKey(id));
  batch.Put(kGenerationKey, Counter(kGenerationKey, generation_ + 1));
  Status s = CommitMeta(&batch);
  if (!s.ok()) {
    Fail(s);
    return s;
  }
  generation_++;
  counters_->suffix_truncations++;

  std::vector<std::unique_ptr<Segment>> removed;
  {
    port::WriterLock lock(&mu_);
    if (cut != nullptr && cut->last_index() > new_last) {
      cut->CapLastIndex(new_last);
      if (footer) cut->Seal(*footer, footer_offset, file_bytes, std::move(cut_runs));
    }
    for (size_t k = keep; k < segments_.size(); ++k) removed.push_back(std::move(segments_[k]));
    segments_.resize(keep);
    while (!term_runs_.empty() && term_runs_.back().first_index > new_last) term_runs_.pop_back();
    last_index_.store(new_last, std::memory_order_release);
  }
  // Whatever was active is gone or sealed: the next append starts a segment.
  active_ = nullptr;
  {
    port::MutexLock lock(&sync_mu_);
    sync_file_ = nullptr;
  }
  RemoveSegmentFiles(std::move(removed));
  return Status::OK();
}

void LogEngine::RemoveSegmentFiles(std::vector<std::unique_ptr<Segment>> dead) {
  if (dead.empty()) return;
  for (const auto& seg : dead) cache_->EraseSegment(seg->id());
  if (preallocator_ != nullptr) {
    // Destroyed (unmapped, closed) and its file recycled or deleted on the
    // preallocator's thread: milliseconds per segment that a compaction's
    // caller does not spend (internal/preallocator.h, "Releasing").
    preallocator_->Release(std::move(dead));
    return;
  }
  for (auto& seg : dead) {
    const std::string path = io::JoinPath(segments_dir_, seg->file_name());
    seg.reset();
    (void)fs_->Remove(path);
  }
  (void)fs_->SyncDir(segments_dir_);
}

Status LogEngine::TruncatePrefix(uint64_t new_first, const StateUpdates& state) {
  port::MutexLock w(&write_mu_);
  RAFTLOG_RETURN_IF_ERROR(CheckWritable());
  const uint64_t first = FirstIndex(), last = LastIndex();
  if (new_first < first || new_first > last + 1) {
    return Status::InvalidArgument("truncate prefix to " + std::to_string(new_first) +
                                   " outside [" + std::to_string(first) + ", " +
                                   std::to_string(last + 1) + "]");
  }
  RAFTLOG_ASSIGN_OR_RETURN(uint64_t prev_term, Term(new_first - 1));
  // The segment a seal in flight works on may be among those dropped.
  RAFTLOG_RETURN_IF_ERROR(WaitForSeal(/*synced_only=*/false));
  MetaStore::Batch batch;
  batch.Put(kStartKey, EncodeStart(new_first, prev_term));
  for (const auto& [k, v] : state) batch.Put(std::string(kStatePrefix) + k, v);
  size_t drop = 0;  // segments [0, drop) go; never the active one
  {
    port::ReaderLock lock(&mu_);
    while (drop < segments_.size() && segments_[drop]->last_index() < new_first &&
           segments_[drop].get() != active_) {
      batch.Delete(SegmentKey(segments_[drop]->id()));
      ++drop;
    }
  }
  Status s = CommitMeta(&batch);
  if (!s.ok()) return s;  // nothing changed, on disk or here

  std::vector<std::unique_ptr<Segment>> removed;
  {
    port::WriterLock lock(&mu_);
    for (size_t k = 0; k < drop; ++k) removed.push_back(std::move(segments_[k]));
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(drop));
    // Term runs cover what the live segments hold (compacted entries of a
    // partly compacted segment included: a footer written later needs them).
    if (segments_.empty()) {
      term_runs_.clear();
    } else {
      const uint64_t base = segments_.front()->base_index();
      while (term_runs_.size() > 1 && term_runs_[1].first_index <= base) {
        term_runs_.erase(term_runs_.begin());
      }
      if (!term_runs_.empty()) term_runs_[0].first_index = base;
    }
    prev_term_ = prev_term;
    first_index_.store(new_first, std::memory_order_release);
  }
  RemoveSegmentFiles(std::move(removed));
  return Status::OK();
}

Status LogEngine::Reset(uint64_t index, uint64_t term, const StateUpdates& state) {
  port::MutexLock w(&write_mu_);
  RAFTLOG_RETURN_IF_ERROR(CheckWritable());
  RAFTLOG_RETURN_IF_ERROR(WaitForSeal(/*synced_only=*/false));
  MetaStore::Batch batch;
  batch.Put(kStartKey, EncodeStart(index + 1, term));
  batch.Put(kGenerationKey, Counter(kGenerationKey, generation_ + 1));
  for (const auto& [k, v] : state) batch.Put(std::string(kStatePrefix) + k, v);
  {
    port::MutexLock lock(&state_mu_);
    for (const auto& [k, v] : state) lazy_state_.erase(k);
  }
  {
    port::ReaderLock lock(&mu_);
    for (const auto& seg : segments_) batch.Delete(SegmentKey(seg->id()));
  }
  Status s = CommitMeta(&batch);
  if (!s.ok()) return s;
  generation_++;
  std::vector<std::unique_ptr<Segment>> removed;
  {
    port::WriterLock lock(&mu_);
    removed = std::move(segments_);
    segments_.clear();
    term_runs_.clear();
    prev_term_ = term;
    first_index_.store(index + 1, std::memory_order_release);
    last_index_.store(index, std::memory_order_release);
  }
  active_ = nullptr;
  {
    port::MutexLock lock(&sync_mu_);
    sync_file_ = nullptr;
  }
  RemoveSegmentFiles(std::move(removed));
  return Status::OK();
}

Status LogEngine::PutState(const StateUpdates& state) {
  port::MutexLock w(&write_mu_);
  RAFTLOG_RETURN_IF_ERROR(CheckWritable());
  MetaStore::Batch batch;
  for (const auto& [k, v] : state) batch.Put(std::string(kStatePrefix) + k, v);
  // A value written now supersedes a lazy one under the same key.
  {
    port::MutexLock lock(&state_mu_);
    for (const auto& [k, v] : state) lazy_state_.erase(k);
  }
  return CommitMeta(&batch);
}

void LogEngine::PutStateLazy(std::string key, std::string value) {
  port::MutexLock lock(&state_mu_);
  lazy_state_[std::move(key)] = std::move(value);
}

Status LogEngine::Sync() {
  port::MutexLock w(&write_mu_);
  RAFTLOG_RETURN_IF_ERROR(CheckWritable());
  // A segment still being sealed holds entries before the active one's.
  RAFTLOG_RETURN_IF_ERROR(WaitForSeal(/*synced_only=*/true));
  if (active_ == nullptr) return Status::OK();
  Status s = active_->file()->Sync();
  counters_->log_syncs++;
  if (!s.ok()) Fail(s);
  if (s.ok()) durable_offset_ = write_offset_;
  return s;
}

void LogEngine::SyncLoop() {
  port::MutexLock lock(&sync_mu_);
  while (!sync_stop_) {
    sync_cv_.WaitFor(options_.sync_interval);
    if (sync_stop_) break;
    std::shared_ptr<io::File> file = sync_file_;
    if (file == nullptr) continue;
    // Every byte written so far was written before this fdatasync starts.
    const uint64_t target = sync_written_;
    sync_mu_.Unlock();
    Status s = file->Sync();
    counters_->log_syncs++;
    if (!s.ok()) Fail(s);
    sync_mu_.Lock();
    if (s.ok() && sync_file_ == file) sync_durable_ = std::max(sync_durable_, target);
  }
}

}  // namespace raftlog::engine
