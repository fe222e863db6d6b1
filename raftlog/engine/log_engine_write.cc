// LogEngine, appending: frames into the active segment, metadata commits.

#include "raftlog/engine/internal/log_engine_parts.h"

namespace raftlog::engine {

using internal::Segment;
using namespace internal::log_engine_detail;  // NOLINT: the parts' shared helpers

// --- writing -----------------------------------------------------------------------

void LogEngine::Fail(const Status& s) {
  port::MutexLock lock(&fail_mu_);
  if (failed_.ok()) {
    failed_ = s.WithContext("the log refuses writes until it is reopened after");
    has_failed_.store(true);
  }
}

Status LogEngine::CheckWritable() const {
  if (closed_) return Status::FailedPrecondition("log " + dir_ + " is closed");
  if (options_.read_only) return Status::FailedPrecondition("log " + dir_ + " is open read-only");
  if (has_failed_.load()) {
    port::MutexLock lock(&fail_mu_);
    return Status::FailedPrecondition(failed_.message());
  }
  return Status::OK();
}

format::DurableRecord LogEngine::DurableProgress() {
  if (active_ == nullptr || header_pending_) return format::DurableRecord{};
  uint64_t durable = durable_offset_;
  if (options_.sync == SyncPolicy::kInterval) {
    port::MutexLock lock(&sync_mu_);
    if (sync_file_ == active_->file()) durable = std::max(durable, sync_durable_);
  }
  return internal::DurableProgressOf(*active_, std::min(durable, write_offset_));
}

LogEngine::LazyState LogEngine::AddLazyState(MetaStore::Batch* batch) {
  port::MutexLock lock(&state_mu_);
  for (const auto& [k, v] : lazy_state_) batch->Put(std::string(kStatePrefix) + k, v);
  return lazy_state_;
}

void LogEngine::ForgetCommittedLazyState(const LazyState& committed) {
  // Only values unchanged since they were added: another thread (the
  // writer beside the sealer) may have put a newer one meanwhile.
  port::MutexLock lock(&state_mu_);
  for (const auto& [k, v] : committed) {
    const auto it = lazy_state_.find(k);
    if (it != lazy_state_.end() && it->second == v) lazy_state_.erase(it);
  }
}

Status LogEngine::CommitMeta(MetaStore::Batch* batch) {
  // Lazy state rides along with every transaction.
  const LazyState lazy = AddLazyState(batch);
  // So does the durable progress: it costs no fdatasync of its own, and
  // makes recovery refuse damage to acknowledged frames (RecoverActive).
  format::DurableRecord progress;
  if (track_durable_) {
    progress = DurableProgress();
    batch->Put(format::kDurableKey, format::EncodeDurableRecord(progress));
  }
  Status s = meta_->Write(*batch);
  counters_->meta_commits++;
  if (s.ok()) {
    if (track_durable_) durable_written_ = progress;
    ForgetCommittedLazyState(lazy);
  }
  return s;
}

Status LogEngine::Append(std::span<const format::EntryView> entries, const AppendOptions& options) {
  port::MutexLock w(&write_mu_);
  RAFTLOG_RETURN_IF_ERROR(CheckWritable());
  if (entries.empty()) return Status::OK();
  const uint64_t first = entries.front().index;
  const uint64_t last = LastIndex();
  if (first < FirstIndex() || first > last + 1) {
    return Status::InvalidArgument("append at index " + std::to_string(first) + " outside [" +
                                   std::to_string(FirstIndex()) + ", " + std::to_string(last + 1) +
                                   "] (the log holds [" + std::to_string(FirstIndex()) + ", " +
                                   std::to_string(last) + "])");
  }
  const uint64_t capacity =
      options_.segment_bytes - format::kSegmentHeaderBytes - SealReserve(1, 1);
  for (size_t k = 0; k < entries.size(); ++k) {
    if (entries[k].index != first + k) {
      return Status::InvalidArgument("append batch is not consecutive at position " +
                                     std::to_string(k) + " (index " +
                                     std::to_string(entries[k].index) + ")");
    }
    if (k > 0 && entries[k].term < entries[k - 1].term) {
      return Status::InvalidArgument("append batch: term decreases at index " +
                                     std::to_string(entries[k].index));
    }
    if (format::FrameBytes(RawPayloadBytes(1, entries[k].data.size())) + format::kFrameAlignment >
        capacity) {
      return Status::InvalidArgument(
          "entry " + std::to_string(entries[k].index) + " of " +
          std::to_string(entries[k].data.size()) + " bytes does not fit in a segment of " +
          std::to_string(options_.segment_bytes) + " bytes (raise Options::segment_bytes)");
    }
  }
  if (first > FirstIndex() || first <= last) {
    // The entry before the batch must not have a higher term.
    auto prev = Term(first - 1);
    if (prev.ok() && *prev > entries.front().term) {
      return Status::InvalidArgument("append at index " + std::to_string(first) + " with term " +
                                     std::to_string(entries.front().term) +
                                     " after an entry of term " + std::to_string(*prev));
    }
  }
  if (first <= last) RAFTLOG_RETURN_IF_ERROR(TruncateSuffix(first - 1));
  Status s = WriteFrames(entries, options.commit_hint,
                         options.sync && options_.sync == SyncPolicy::kAlways);
  if (s.ok()) {
    counters_->appends++;
    counters_->entries_appended += entries.size();
  }
  return s;
}

Status LogEngine::WriteFrames(std::span<const format::EntryView> entries, uint64_t commit_hint,
                              bool sync) {
  // If the batch may need a new segment, get its file before writing any
  // byte: when the disk is full this append then fails cleanly, with nothing
  // written and the engine still usable. (A batch larger than a whole
  // segment may need a second file; failing to get that one fails the engine.)
  if (spare_ == nullptr) {
    // An upper bound of the bytes the batch takes: payloads, entry tables,
    // and a frame header + padding per frame (one per term change and per
    // max_frame_bytes).
    uint64_t bytes = 0, frames = 1;
    for (size_t k = 0; k < entries.size(); ++k) {
      bytes += entries[k].data.size() + 5;
      if (k > 0 && entries[k].term != entries[k - 1].term) ++frames;
    }
    frames += bytes / options_.max_frame_bytes;
    const uint64_t estimate =
        bytes + frames * (format::kFrameHeaderBytes + format::kFrameAlignment);
    if (active_ == nullptr ||
        write_offset_ + estimate +
                SealReserve(active_->frame_count() + frames, active_runs_ + frames) >
            active_bytes_) {
      RAFTLOG_ASSIGN_OR_RETURN(internal::PreparedSegment spare, preallocator_->Take());
      spare_ = std::make_unique<internal::PreparedSegment>(std::move(spare));
    }
  }
  PendingFrames pending;
  const uint64_t bytes_before = counters_->bytes_written.load();
  size_t pos = 0;
  while (pos < entries.size()) {
    // Room left in the active segment for one more frame, keeping space for
    // the seal (footer + trailer) that must follow it.
    const uint64_t term = entries[pos].term;
    // Does this frame start a new term run, globally (term_runs_) and within
    // the active segment (its footer lists the runs it intersects)?
    // (term_runs_ only until this append starts a run: under mu_ shared,
    // uncontended but for a publish; this thread holds write_mu_, so no
    // other writer changes it meanwhile.)
    bool no_runs = pending.runs.empty();
    uint64_t prev_run_term = no_runs ? 0 : pending.runs.back().term;
    if (no_runs) {
      port::ReaderLock lock(&mu_);
      no_runs = term_runs_.empty();
      if (!no_runs) prev_run_term = term_runs_.back().term;
    }
    const bool new_run = no_runs || prev_run_term != term;
    const bool new_segment_run = new_run || active_runs_ + pending.segment_runs == 0;
    uint64_t room = 0;
    if (active_ != nullptr) {
      const uint64_t frames_after = active_->frame_count() + pending.frames.size() + 1;
      const uint64_t runs_after = active_runs_ + pending.segment_runs + (new_segment_run ? 1 : 0);
      const uint64_t used = write_offset_ + SealReserve(frames_after, runs_after);
      room = used < active_bytes_ ? active_bytes_ - used : 0;
    }
    // The next frame: entries of one term, at most max_frame_bytes of
    // payload, fitting the room.
    const uint64_t limit = std::min<uint64_t>(
        options_.max_frame_bytes, room > format::kFrameHeaderBytes + format::kFrameAlignment
                                      ? room - format::kFrameHeaderBytes - format::kFrameAlignment
                                      : 0);
    size_t n = 0;
    uint64_t data_bytes = 0;
    while (pos + n < entries.size() && entries[pos + n].term == term) {
      const uint64_t more = data_bytes + entries[pos + n].data.size();
      const bool fits = RawPayloadBytes(n + 1, more) <= limit;
      // A single entry larger than max_frame_bytes still gets a frame of its
      // own, if the segment has room for it.
      const bool alone_ok =
          n == 0 && format::FrameBytes(RawPayloadBytes(1, more)) + format::kFrameAlignment <= room;
      if (!fits && !alone_ok) break;
      data_bytes = more;
      ++n;
      if (!fits) break;
    }
    if (n == 0) {
      // Not even one entry fits: seal this segment and start the next. Each
      // entry was checked to fit in an empty segment, so this terminates.
      RAFTLOG_RETURN_IF_ERROR(Roll(&pending));
      continue;
    }

    chunk_.assign(entries.begin() + static_cast<std::ptrdiff_t>(pos),
                  entries.begin() + static_cast<std::ptrdiff_t>(pos + n));
    if (options_.sync == SyncPolicy::kInterval) {
      // What the interval syncer has made durable of this segment since.
      port::MutexLock lock(&sync_mu_);
      durable_offset_ = std::max(durable_offset_, sync_durable_);
    }
    builder_.set_durable_offset(durable_offset_);
    builder_.BuildEntries(active_->seed(), commit_hint, chunk_);
    std::vector<std::string_view>& pieces = pieces_;
    pieces.clear();
    std::string header_bytes;
    uint64_t offset = write_offset_;
    if (header_pending_) {
      format::SegmentHeader header;
      header.segment_id = active_->id();
      header.base_index = active_->base_index();
      header.generation = active_->generation();
      header.segment_bytes = active_bytes_;
      header.flags = active_stale_tail_ ? uint32_t{format::kSegmentFlagStaleTail} : 0u;
      header.created_unix_ns =
          static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
      header_bytes = format::EncodeSegmentHeader(header);
      pieces.push_back(header_bytes);
      offset = 0;
    }
    pieces.insert(pieces.end(), builder_.pieces().begin(), builder_.pieces().end());
    if (active_stale_tail_ &&
        write_offset_ + builder_.frame_bytes() + format::kFrameHeaderBytes <= active_bytes_) {
      // The end of the frames, in the same write: past it lie stale bytes.
      // The next frame's write overwrites it. (The seal's reserve always
      // leaves room for it: a footer frame is larger.)
      static const std::string kEndMarker(format::kFrameHeaderBytes, '\0');
      pieces.push_back(kEndMarker);
    }
    const auto write_start = std::chrono::steady_clock::now();
    Status s = active_->file()->PWrite(offset, pieces);
    RaiseMax(&counters_->write_max_ns, ElapsedNs(write_start));
    if (!s.ok()) {
      Fail(s);
      return s;
    }
    header_pending_ = false;
    pending.frames.push_back(
        format::FrameRef{static_cast<uint32_t>(write_offset_),
                         static_cast<uint32_t>(entries[pos].index - active_->base_index())});
    if (new_run) pending.runs.push_back(format::TermRun{entries[pos].index, term});
    if (new_segment_run) pending.segment_runs++;
    pending.last_index = entries[pos + n - 1].index;
    write_offset_ += builder_.frame_bytes();
    if (options_.sync == SyncPolicy::kInterval) {
      port::MutexLock lock(&sync_mu_);
      sync_written_ = write_offset_;
    }
    counters_->frames_written++;
    counters_->bytes_written += builder_.frame_bytes();
    counters_->raw_bytes_written += RawPayloadBytes(n, data_bytes);
    if (builder_.header().compressed()) counters_->compressed_frames++;
    pos += n;
  }
  if (sync) {
    preallocator_->NoteSyncedWrite(counters_->bytes_written.load() - bytes_before);
    const auto sync_start = std::chrono::steady_clock::now();
    Status s = active_->file()->Sync();
    RaiseMax(&counters_->log_sync_max_ns, ElapsedNs(sync_start));
    counters_->log_syncs++;
    if (!s.ok()) {
      // We cannot know which of the written bytes are durable: stop here and
      // let recovery decide on reopen. Nothing is published.
      Fail(s);
      return s;
    }
    durable_offset_ = write_offset_;
    // Entries of this append (or earlier unsynced ones) may lie in a
    // segment the sealer is still sealing: it must be durable too before
    // this returns, so that the successor's entries never outlive a crash
    // without everything before them.
    RAFTLOG_RETURN_IF_ERROR(WaitForSeal(/*synced_only=*/true));
  }
  // Publish to readers.
  port::WriterLock lock(&mu_);
  active_->PublishFrames(pending.frames, pending.last_index);
  for (const format::TermRun& run : pending.runs) term_runs_.push_back(run);
  active_runs_ += pending.segment_runs;
  last_index_.store(pending.last_index, std::memory_order_release);
  return Status::OK();
}

}  // namespace raftlog::engine
