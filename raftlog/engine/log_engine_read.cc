// LogEngine, reading: entries and terms, state records, Stats.

#include "raftlog/engine/internal/log_engine_parts.h"

namespace raftlog::engine {

using internal::Segment;
using namespace internal::log_engine_detail;  // NOLINT: the parts' shared helpers

// --- reading -----------------------------------------------------------------------

size_t LogEngine::FindSegment(uint64_t index) const {
  // The last segment whose base index is <= index.
  auto it = std::upper_bound(segments_.begin(), segments_.end(), index,
                             [](uint64_t i, const auto& s) { return i < s->base_index(); });
  return static_cast<size_t>(it - segments_.begin()) - 1;
}

Result<uint64_t> LogEngine::Term(uint64_t index) const {
  port::ReaderLock lock(&mu_);
  const uint64_t first = first_index_.load(std::memory_order_relaxed);
  if (index + 1 < first) return Status::Compacted();
  if (index > last_index_.load(std::memory_order_relaxed)) return Status::Unavailable();
  if (index + 1 == first) return prev_term_;
  return TermFromRuns(index);
}

Status LogEngine::Read(uint64_t lo, uint64_t hi,
                       const std::function<bool(const format::EntryView&)>& fn) const {
  return ReadImpl(lo, hi, [&fn](const format::EntryView& e, const Bytes&) { return fn(e); });
}

Status LogEngine::ReadShared(
    uint64_t lo, uint64_t hi,
    const std::function<bool(const format::EntryView&, Bytes data)>& fn) const {
  return ReadImpl(lo, hi, [&fn](const format::EntryView& e, const Bytes& buffer) {
    // A slice shares the buffer's owner: a reference count, no allocation.
    return fn(e, buffer.Slice(static_cast<size_t>(e.data.data() - buffer.data()), e.data.size()));
  });
}

Status LogEngine::ReadImpl(
    uint64_t lo, uint64_t hi,
    const std::function<bool(const format::EntryView&, const Bytes&)>& fn) const {
  if (lo > hi) {
    return Status::InvalidArgument("invalid range [" + std::to_string(lo) + ", " +
                                   std::to_string(hi) + ")");
  }
  port::ReaderLock lock(&mu_);
  if (lo < first_index_.load(std::memory_order_relaxed)) return Status::Compacted();
  if (hi > last_index_.load(std::memory_order_relaxed) + 1) return Status::Unavailable();
  if (lo == hi) return Status::OK();

  thread_local format::Decompressor decompressor;
  uint64_t index = lo;
  size_t s = FindSegment(index);
  while (index < hi) {
    RAFTLOG_CHECK_MSG(s < segments_.size(), "no segment holds index " + std::to_string(index));
    const Segment& seg = *segments_[s];
    if (index > seg.last_index()) {
      ++s;
      continue;
    }
    RAFTLOG_RETURN_IF_ERROR(seg.EnsureOpen());
    for (uint32_t k = seg.FindFrame(index); k < seg.frame_count() && index < hi; ++k) {
      RAFTLOG_ASSIGN_OR_RETURN(format::FrameView frame, seg.ReadFrame(k));
      const uint64_t frame_first = seg.base_index() + seg.frame(k).index_delta;
      // Built only when something is wrong: this is the hot read path.
      auto where = [&] {
        return seg.file_name() + " at offset " + std::to_string(seg.frame(k).offset);
      };
      if (frame.header.type != format::FrameType::kEntries ||
          frame.header.first_index != frame_first) {
        return Status::Corruption(where() + ": frame does not hold index " +
                                  std::to_string(frame_first) + " as the index says");
      }
      // Term() answers from the term runs: Entries() must agree with it. (A
      // frame's entries share one term; `index` is inside this frame.)
      if (frame.header.term != TermFromRuns(index)) {
        return Status::Corruption(where() + ": frame holds term " +
                                  std::to_string(frame.header.term) + " but the index says term " +
                                  std::to_string(TermFromRuns(index)) + " for entry " +
                                  std::to_string(index));
      }
      // The buffer the entries' payloads are read from: the mapping, or the
      // frame's decompressed bytes (shared with the cache, never copied).
      std::string_view raw = frame.payload;
      const Bytes* buffer = &seg.mapped();
      std::optional<internal::FrameCache::Payload> cached;
      if (frame.header.compressed()) {
        cached = cache_->Lookup(seg.id(), seg.frame(k).offset);
        if (!cached) {
          std::string out;
          RAFTLOG_RETURN_IF_ERROR(decompressor.Decompress(
              frame.payload, frame.header.raw_bytes, &out, where(), format::kMaxFramePayloadBytes));
          cached = cache_->Insert(seg.id(), seg.frame(k).offset, std::move(out));
        }
        raw = cached->view();
        buffer = &*cached;
      }
      auto payload = format::EntriesPayload::Parse(raw, frame.header.entry_count, {});
      if (!payload.ok()) {
        return Status::Corruption(where() + std::string(payload.status().message()));
      }
      for (uint32_t j = static_cast<uint32_t>(index - frame_first);
           j < payload->size() && index < hi && index <= seg.last_index(); ++j, ++index) {
        if (!fn(format::EntryView{index, frame.header.term, payload->type(j), payload->data(j)},
                *buffer)) {
          return Status::OK();
        }
      }
      if (index > seg.last_index()) break;
    }
    ++s;
  }
  return Status::OK();
}

Status LogEngine::FreezeState() {
  // A reader beside a live writer sees the log as of its scan, which comes
  // after this: a writer stores a HardState before the entries of the same
  // write and its commit index never names entries written after it, so the
  // state taken here names no entry the scan cannot see. Read at GetState
  // time instead, a busy writer's newer commit index would name entries
  // appended after the scan and look like lost committed entries.
  RAFTLOG_ASSIGN_OR_RETURN(auto rows, meta_->Scan(kStatePrefix));
  port::MutexLock lock(&state_mu_);
  for (auto& [key, value] : rows) {
    lazy_state_[key.substr(kStatePrefix.size())] = std::move(value);
  }
  state_frozen_ = true;
  return Status::OK();
}

Result<std::optional<std::string>> LogEngine::GetState(std::string_view key) const {
  {
    port::MutexLock lock(&state_mu_);
    auto it = lazy_state_.find(key);
    if (it != lazy_state_.end()) return std::optional<std::string>(it->second);
    if (state_frozen_) return std::optional<std::string>();
  }
  return meta_->Get(std::string(kStatePrefix) + std::string(key));
}

Stats LogEngine::GetStats() const {
  Stats st;
  {
    port::ReaderLock lock(&mu_);
    st.first_index = first_index_.load();
    st.last_index = last_index_.load();
    st.segments = segments_.size();
    for (const auto& seg : segments_) {
      if (seg->sealed()) {
        st.sealed_segments++;
        st.segment_file_bytes += seg->record().file_bytes;
        if (seg->record().compressed()) st.compressed_segments++;
      } else {
        st.segment_file_bytes += seg->bytes().size();  // its size when it was made
      }
      st.index_heap_bytes += seg->IndexHeapBytes();
    }
    st.term_runs = term_runs_.size();
    st.index_heap_bytes += term_runs_.capacity() * sizeof(format::TermRun);
  }
  const Counters& c = *counters_;
  st.appends = c.appends;
  st.entries_appended = c.entries_appended;
  st.frames_written = c.frames_written;
  st.compressed_frames = c.compressed_frames;
  st.bytes_written = c.bytes_written;
  st.raw_bytes_written = c.raw_bytes_written;
  st.log_syncs = c.log_syncs;
  st.meta_commits = c.meta_commits;
  st.segment_rolls = c.segment_rolls;
  st.suffix_truncations = c.suffix_truncations;
  st.segments_compressed = c.segments_compressed;
  st.background_seals = c.background_seals;
  st.seal_waits = c.seal_waits;
  st.seal_wait_us = c.seal_wait_ns / 1000;
  st.seal_wait_max_us = c.seal_wait_max_ns / 1000;
  st.write_max_us = c.write_max_ns / 1000;
  st.log_sync_max_us = c.log_sync_max_ns / 1000;
  if (cold_ != nullptr) cold_->AddStats(&st);
  st.frame_cache_hits = cache_->hits();
  st.frame_cache_misses = cache_->misses();
  st.open_segments_from_footer = c.open_segments_from_footer;
  st.open_bytes_scanned = c.open_bytes_scanned;
  st.open_frames_scanned = c.open_frames_scanned;
  st.torn_tail_cuts = c.torn_tail_cuts;
  st.torn_tail_bytes = c.torn_tail_bytes;
  st.dropped_valid_frames = c.dropped_valid_frames;
  st.stray_files_found = c.stray_files_found;
  st.stray_files_removed = c.stray_files_removed;
  st.unfinished_seals = c.unfinished_seals;
  st.open_bytes_rewritten = c.open_bytes_rewritten;
  st.spare_segments_kept = c.spare_segments_kept;
  st.successors_adopted = c.successors_adopted;
  st.successors_dropped = c.successors_dropped;
  if (preallocator_ != nullptr) {
    st.segments_recycled = preallocator_->recycled();
    st.segments_prepared = preallocator_->prepared_fresh();
    st.segments_zero_filled = preallocator_->zero_filled();
    const internal::Preallocator::Waits waits = preallocator_->waits();
    st.spare_waits = waits.count;
    st.spare_wait_us = waits.total_ns / 1000;
    st.spare_wait_max_us = waits.max_ns / 1000;
  }
  return st;
}

}  // namespace raftlog::engine
