// LogEngine, recovery: the active segment through the shared scanner
// (segment_scan.h) and the checks that follow it (start term, continuity,
// stray files).

#include "raftlog/engine/dir_scan.h"
#include "raftlog/engine/internal/log_engine_parts.h"

namespace raftlog::engine {

using internal::Segment;
using namespace internal::log_engine_detail;  // NOLINT: the parts' shared helpers

Status LogEngine::RecoverActive(const format::SegmentRecord& record,
                                const format::DurableRecord& durable) {
  const std::string name = internal::SegmentFileName(record.segment_id);
  const std::string path = io::JoinPath(segments_dir_, name);
  auto opened =
      fs_->Open(path, options_.read_only ? io::OpenMode::kReadOnly : io::OpenMode::kReadWrite);
  if (!opened.ok()) {
    return opened.status().WithContext("active segment listed in the manifest is unreadable");
  }
  std::shared_ptr<io::File> file(std::move(*opened));
  RAFTLOG_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  if (size < format::kSegmentHeaderBytes) {
    return Status::Corruption(name + ": active segment is only " + std::to_string(size) + " bytes");
  }
  RAFTLOG_ASSIGN_OR_RETURN(auto mapping, file->Map(0, size));
  const std::string_view bytes = mapping->bytes();

  format::SegmentRecord rec = record;
  rec.last_index = record.base_index - 1;
  std::unique_ptr<Segment> segment = Segment::NewActive(rec, file, std::move(mapping), name);

  // Scan the frames (segment_scan.h: the scan the tool makes too); this
  // function is the policy applied to what it finds.
  PendingFrames found;
  ScanOptions scan_options;
  scan_options.on_frame = [&](const format::FrameView& f, uint64_t offset) {
    counters_->open_frames_scanned++;
    counters_->open_bytes_scanned += f.frame_bytes;
    const uint64_t first = f.header.first_index;
    found.frames.push_back(format::FrameRef{static_cast<uint32_t>(offset),
                                            static_cast<uint32_t>(first - rec.base_index)});
    if (found.runs.empty() || found.runs.back().term != f.header.term) {
      found.runs.push_back(format::TermRun{first, f.header.term});
    }
    return Status::OK();
  };
  std::unique_ptr<SegmentReader> reader = SegmentReader::FromBytes(bytes, name);
  RAFTLOG_ASSIGN_OR_RETURN(const SegmentScan scan, ScanSegment(reader.get(), record, scan_options));
  if (scan.refused()) return scan.refusal;
  const bool header_ok = scan.header.has_value();
  const bool found_footer = scan.finding == SegmentFinding::kUnfinishedSeal;
  const bool bad = scan.damaged();
  if (found_footer) {
    // A crash during a seal, after the footer was written and before the
    // manifest said so: finish the seal below.
    counters_->open_frames_scanned++;
  }
  recovered_commit_hint_ = std::max(recovered_commit_hint_, scan.commit_hint);
  const uint64_t found_durable = scan.durable_seen;
  uint64_t end = scan.good_end;  // where the good data ends
  found.last_index = scan.last_index;

  // Acknowledged frames (up to the offset the last LMDB commit recorded)
  // must all be there, whatever the policy: damage before that offset is
  // not a torn write.
  {
    internal::ActiveScan durable_scan;
    durable_scan.file_name = &name;
    durable_scan.segment_id = record.segment_id;
    durable_scan.generation = record.generation;
    durable_scan.base_index = record.base_index;
    durable_scan.header_ok = header_ok;
    durable_scan.frames = &found.frames;
    durable_scan.last_index = found.last_index;
    durable_scan.good_end = end;
    durable_scan.bad_frame = bad;
    durable_scan.stop_reason = bad            ? std::string(scan.damage.message())
                               : found_footer ? std::string("a seal's footer follows")
                               : end < size   ? std::string("all-zero frame header")
                                              : std::string("end of the file");
    RAFTLOG_RETURN_IF_ERROR(internal::CheckDurablePrefix(durable, durable_scan));
    if (durable.segment_id == record.segment_id) {
      // Verified durable: later frames may record it (and more LMDB commits).
      durable_offset_ = std::max(durable_offset_, durable.durable_offset);
    }
  }

  if (bad) {
    RAFTLOG_RETURN_IF_ERROR(RecoveryVerdict(scan, name, options_.recovery));
    const std::string what = DescribeDamage(scan, name);
    const uint64_t torn_bytes = scan.damage_end - scan.damage_offset;
    const uint64_t dropped = scan.valid_frames_after;
    counters_->torn_tail_cuts++;
    counters_->torn_tail_bytes += torn_bytes;
    counters_->dropped_valid_frames += dropped;
    if (!options_.read_only)
      Log(dir_, "cut the log at " + what + ": dropped " + std::to_string(torn_bytes) + " bytes" +
                    (scan.valid_after.has_value()
                         ? " including " + std::to_string(dropped) +
                               " valid frame(s) (kTolerateCorruptedTail)"
                     : dropped ? " of a torn write, including " + std::to_string(dropped) +
                                     " valid frame(s) of it that were never synced"
                               : std::string(" of a torn write")));
    end = header_ok ? std::max<uint64_t>(end, format::kSegmentHeaderBytes) : 0;
  }

  if (!options_.read_only && options_.sync != SyncPolicy::kNever && header_ok &&
      end > format::kSegmentHeaderBytes) {
    // What this open trusts must be on disk. The frames past what their
    // writer knew durable may exist only in the page cache: written by a
    // process that died before its fdatasync, or whose fdatasync failed,
    // after which Linux may have marked them clean without writing them
    // ("fsyncgate"), so that no later fdatasync writes them either. (Not
    // with kNever: nothing is promised durable then, and a log written that
    // way records no fdatasync, so every open would read a whole segment.)
    RAFTLOG_RETURN_IF_ERROR(MakeDurable(file.get(), bytes, std::min(found_durable, end), end));
    durable_offset_ = end;
  }

  bool must_seal = found_footer || bad;
  if (must_seal && options_.read_only) {
    // Report, change nothing: serve the good frames as an active segment.
    if (found_footer) counters_->unfinished_seals++;
    must_seal = false;
  }
  if (found.empty() && must_seal) {
    // Nothing usable in this segment: drop it from the manifest. The next
    // append activates a fresh segment at the same base index.
    MetaStore::Batch batch;
    batch.Delete(SegmentKey(record.segment_id));
    RAFTLOG_RETURN_IF_ERROR(CommitMeta(&batch));
    (void)fs_->Remove(path);
    return Status::OK();
  }

  if (must_seal) {
    // Seal at the end of the good frames: after a footer left by an
    // interrupted seal, or in place of the torn tail. New entries go to a
    // new segment, so no stale frame beyond this point can ever be read.
    segment->PublishFrames(found.frames, found.last_index);
    uint64_t footer_at = 0, file_bytes = 0;
    RAFTLOG_RETURN_IF_ERROR(WriteSeal(segment.get(), found_footer ? scan.footer_offset : end,
                                      found.last_index, found.runs, durable_offset_, &footer_at,
                                      &file_bytes));
    const format::SegmentRecord sealed =
        SealedRecord(*segment, found.last_index, footer_at, file_bytes, found.runs);
    MetaStore::Batch batch;
    batch.Put(SegmentKey(sealed.segment_id), format::EncodeSegmentRecord(sealed));
    RAFTLOG_RETURN_IF_ERROR(CommitMeta(&batch));
    segment.reset();
    // Open it as any sealed segment: a fresh mapping of its final size.
    return OpenSealed(sealed);
  }

  // Publish what we found (single-threaded here).
  if (!found.empty()) {
    segment->PublishFrames(found.frames, found.last_index);
    for (const format::TermRun& run : found.runs) {
      if (!term_runs_.empty() && term_runs_.back().term == run.term) continue;
      if (!term_runs_.empty() && term_runs_.back().term > run.term) {
        return Status::Corruption(
            name + ": term decreases from " + std::to_string(term_runs_.back().term) + " to " +
            std::to_string(run.term) + " at index " + std::to_string(run.first_index));
      }
      term_runs_.push_back(run);
    }
  }
  segments_.push_back(std::move(segment));
  Segment* seg = segments_.back().get();

  active_ = seg;
  // The segment keeps the size it was made with (its header says it; a
  // segment whose header was never written has its file's size), whatever
  // Options::segment_bytes is now: new segments take the new size.
  active_bytes_ = header_ok ? std::min(scan.header->segment_bytes, size) : size;
  write_offset_ = header_ok ? end : format::kSegmentHeaderBytes;
  header_pending_ = !header_ok;
  // A segment whose header was never written may be in a recycled file.
  active_stale_tail_ = header_ok ? scan.header->stale_tail() : true;
  active_runs_ = static_cast<uint32_t>(found.runs.size());
  {
    port::MutexLock lock(&sync_mu_);
    sync_file_ = seg->file();
    sync_written_ = write_offset_;
    sync_durable_ = durable_offset_;
  }
  return Status::OK();
}

Status LogEngine::RecoverSuccessor(const format::SegmentRecord& active,
                                   const format::DurableRecord& durable) {
  // The log as recovered so far ends here: the active segment's good frames.
  const uint64_t next_index =
      (segments_.empty() ? first_index_.load() - 1 : segments_.back()->last_index()) + 1;
  RAFTLOG_ASSIGN_OR_RETURN(
      SpareHeaders spares,
      FindSuccessor(fs_, segments_dir_, next_segment_id_, active.generation, next_index));
  for (const auto& [id, why] : spares.dropped) {
    // Dropped below (RemoveStrayFiles), never adopted as a spare: its stale
    // frames carry this log's seed and would confuse the end-of-frames rule.
    headed_spares_.insert(id);
    counters_->successors_dropped++;
    if (!options_.read_only) {
      Log(dir_, "dropped spare segment " + internal::SegmentFileName(id) + ": " + why);
    }
  }
  if (!spares.successor.has_value()) {
    // Acknowledged entries in a successor the recovered log does not reach
    // are lost data, not a torn write: the last LMDB commit says so.
    if (durable.segment_id >= next_segment_id_ &&
        durable.durable_offset > format::kSegmentHeaderBytes) {
      const std::string name = internal::SegmentFileName(durable.segment_id);
      const auto it = spares.dropped.find(durable.segment_id);
      return Status::Corruption(
          io::JoinPath(segments_dir_, name) + ": acknowledged entries up to " +
          std::to_string(durable.last_index) + " (synced to offset " +
          std::to_string(durable.durable_offset) + ") were written to this segment, " +
          (it != spares.dropped.end() ? "but " + it->second : std::string("which is missing")));
    }
    return Status::OK();
  }
  const format::SegmentRecord successor = *spares.successor;
  const std::string name = internal::SegmentFileName(successor.segment_id);
  counters_->successors_adopted++;
  if (!options_.read_only) {
    // Finish what the background seal did not: seal the active segment at
    // its end (unless recovery already did) and list the successor.
    MetaStore::Batch batch;
    Segment* last = segments_.empty() ? nullptr : segments_.back().get();
    std::optional<format::FooterView> footer;
    uint64_t footer_at = 0, file_bytes = 0;
    std::vector<format::TermRun> runs;
    if (last != nullptr && last == active_ && last->id() == active.segment_id) {
      if (last->empty()) {
        batch.Delete(SegmentKey(last->id()));
      } else {
        runs = RunsWithin(last->base_index(), last->last_index());
        RAFTLOG_RETURN_IF_ERROR(WriteSeal(last, write_offset_, last->last_index(), runs,
                                          durable_offset_, &footer_at, &file_bytes));
        RAFTLOG_ASSIGN_OR_RETURN(footer, ParseFooter(*last, footer_at, file_bytes));
        const format::SegmentRecord sealed =
            SealedRecord(*last, last->last_index(), footer_at, file_bytes, runs);
        batch.Put(SegmentKey(sealed.segment_id), format::EncodeSegmentRecord(sealed));
      }
    }
    next_segment_id_ = successor.segment_id + 1;
    batch.Put(SegmentKey(successor.segment_id), format::EncodeSegmentRecord(successor));
    batch.Put(kNextSegmentIdKey, Counter(kNextSegmentIdKey, next_segment_id_));
    RAFTLOG_RETURN_IF_ERROR(CommitMeta(&batch));
    if (footer.has_value()) {
      last->Seal(*footer, footer_at, file_bytes, std::move(runs));
    } else if (last != nullptr && last == active_ && last->empty()) {
      const std::string path = io::JoinPath(segments_dir_, last->file_name());
      segments_.pop_back();
      (void)fs_->Remove(path);
    }
    Log(dir_, "finished an interrupted roll: " + name + " continues the log at index " +
                  std::to_string(successor.base_index));
  }
  // The successor is the active segment now, recovered like any (its
  // durable progress is its own: start from nothing).
  active_ = nullptr;
  durable_offset_ = 0;
  return RecoverActive(successor, durable);
}

Status LogEngine::CheckStartTerm() {
  // log/start's term (of the entry before the first) is not covered by any
  // checksum (LMDB has none): check it against the segments' term runs,
  // exactly where a live segment still holds that entry, and in any case that
  // it is not above the first entry's term (terms never decrease in a log).
  if (term_runs_.empty()) return Status::OK();
  const uint64_t first = first_index_.load();
  const uint64_t last = segments_.back()->last_index();
  const uint64_t before = first - 1;
  if (before >= segments_.front()->base_index() && before <= last &&
      TermFromRuns(before) != prev_term_) {
    return Status::Corruption("metadata of " + dir_ + ": log/start says entry " +
                              std::to_string(before) + " has term " + std::to_string(prev_term_) +
                              ", the segments say " + std::to_string(TermFromRuns(before)));
  }
  if (first <= last && TermFromRuns(first) < prev_term_) {
    return Status::Corruption("metadata of " + dir_ + ": log/start says entry " +
                              std::to_string(before) + " has term " + std::to_string(prev_term_) +
                              ", above the term " + std::to_string(TermFromRuns(first)) +
                              " of the first entry " + std::to_string(first));
  }
  return Status::OK();
}

uint64_t LogEngine::TermFromRuns(uint64_t index) const {
  auto it =
      std::upper_bound(term_runs_.begin(), term_runs_.end(), index,
                       [](uint64_t i, const format::TermRun& r) { return i < r.first_index; });
  RAFTLOG_CHECK_MSG(it != term_runs_.begin(),
                    "term runs do not cover index " + std::to_string(index));
  return std::prev(it)->term;
}

Status LogEngine::MakeDurable(io::File* file, std::string_view bytes, uint64_t from, uint64_t to) {
  // [from, to) holds the frames written after their writer's last known
  // successful fdatasync. If the device holds all of them, they are durable
  // (or acknowledged: the sync that would have made them so succeeded). If
  // any byte differs, that sync never completed, none of them was
  // acknowledged, and writing them all back risks nothing that was (a
  // rewrite of durable bytes could tear them in a power loss).
  constexpr uint64_t kChunk = 1 << 20;
  bool differs = false;
  for (uint64_t off = from; off < to && !differs; off += kChunk) {
    const uint64_t len = std::min(kChunk, to - off);
    auto device = file->ReadFromDevice(off, static_cast<size_t>(len));
    if (device.status().IsNotSupported()) {
      // No direct I/O here (tmpfs, some FUSE and network file systems): what
      // the device holds cannot be read, so assume the worst and write every
      // byte back. (The page cache may hold bytes a failed fdatasync never
      // wrote and marked clean; writing them dirties them again, and the
      // sync below writes them.) The cost is the span after the last known
      // durable offset, usually one append's frames.
      differs = true;
      break;
    }
    if (!device.ok()) return device.status().WithContext("checking recovered frames on the device");
    differs = std::string_view(*device) != bytes.substr(off, len);
  }
  std::string chunk;
  for (uint64_t off = from; differs && off < to; off += kChunk) {
    chunk.assign(bytes.substr(off, std::min(kChunk, to - off)));  // not a view of what we write
    const std::string_view piece(chunk);
    RAFTLOG_RETURN_IF_ERROR(file->PWrite(off, std::span<const std::string_view>(&piece, 1)));
    counters_->open_bytes_rewritten += piece.size();
  }
  // Also when nothing differed: the bytes reached the device, but maybe only
  // its volatile cache.
  RAFTLOG_RETURN_IF_ERROR(file->Sync());
  counters_->log_syncs++;
  return Status::OK();
}

Status LogEngine::CheckContinuity() {
  const uint64_t first = first_index_.load();
  // Sealed segments wholly below the first index are leftovers of a
  // compaction whose manifest update they predate; they cannot be listed
  // after it, so this is only a consistency check.
  for (size_t k = 0; k + 1 < segments_.size(); ++k) {
    if (segments_[k + 1]->base_index() != segments_[k]->last_index() + 1) {
      return Status::Corruption(
          "manifest of " + dir_ + ": segment " + segments_[k + 1]->file_name() + " starts at " +
          std::to_string(segments_[k + 1]->base_index()) + " but " + segments_[k]->file_name() +
          " ends at " + std::to_string(segments_[k]->last_index()));
    }
  }
  if (!segments_.empty() && segments_.front()->base_index() > first) {
    return Status::Corruption("log " + dir_ + " starts at index " + std::to_string(first) +
                              " but its first segment begins at " +
                              std::to_string(segments_.front()->base_index()));
  }
  if (!segments_.empty() && segments_.back()->last_index() + 1 < first) {
    return Status::Corruption("log " + dir_ + " starts at index " + std::to_string(first) +
                              " beyond its last segment's end " +
                              std::to_string(segments_.back()->last_index()));
  }
  return Status::OK();
}

Status LogEngine::RemoveStrayFiles(const std::vector<format::SegmentRecord>& records) {
  // What each file is, decided once for the engine and `raftlog verify`
  // (dir_scan.h); this is the engine's policy on it.
  DirScanInput input;
  for (const format::SegmentRecord& record : records) {
    input.listed.insert(record.segment_id);
    if (record.compressed()) input.compressed[record.segment_id] = record.generation;
  }
  // A successor adopted on this open (RecoverSuccessor) is part of the log.
  for (const auto& seg : segments_) input.listed.insert(seg->id());
  input.next_segment_id = next_segment_id_;
  RAFTLOG_ASSIGN_OR_RETURN(std::vector<DirEntry> entries,
                           ClassifyLogDirectory(fs_, dir_, input));
  // Sealed segments open lazily, on first read; a missing one is caught here,
  // at open, from the listing we need anyway (and before removing anything).
  for (const DirEntry& e : entries) {
    if (e.kind != DirEntryKind::kMissingSegment) continue;
    for (const format::SegmentRecord& record : records) {
      if (record.segment_id != *e.segment_id || record.state != format::SegmentState::kSealed) {
        continue;
      }
      return Status::Corruption(io::JoinPath(segments_dir_, format::SegmentRecordFileName(record)) +
                                ": sealed segment listed in the manifest is missing (entries " +
                                std::to_string(record.base_index) + " to " +
                                std::to_string(record.last_index) + ")");
    }
  }
  uint64_t first_spare_id = next_segment_id_;
  std::vector<internal::Preallocator::Prepared> spares;
  for (const DirEntry& e : entries) {
    // Only segments/ is the engine's to clean (creating.tmp is removed
    // earlier in the open; repair's side files and foreign files at the
    // top are the operator's).
    if (!e.in_segments || e.kind == DirEntryKind::kMissingSegment) continue;
    const std::string path = io::JoinPath(dir_, e.name);
    // By name, not id: a compressed segment's raw <id>.seg is not its file.
    if (e.kind == DirEntryKind::kListedSegment &&
        std::any_of(segments_.begin(), segments_.end(), [&](const auto& s) {
          return e.name == std::string(kSegmentsDir) + "/" + s->file_name();
        })) {
      continue;
    }
    if (e.kind == DirEntryKind::kSpareSegment && !options_.read_only &&
        e.size == options_.segment_bytes && headed_spares_.count(*e.segment_id) == 0) {
      // A prepared spare: complete (it was renamed into place only after it
      // was fully written and synced) if it has the full size.
      auto file = fs_->Open(path, io::OpenMode::kReadWrite);
      if (file.ok()) {
        // Whether it was written with zeros or recycled is not recorded:
        // its segment is written as one in a recycled file.
        spares.push_back({*e.segment_id, std::shared_ptr<io::File>(std::move(*file)), path,
                          /*stale_tail=*/true});
        continue;
      }
    }
    // A stray (a compacted or truncated-away segment whose removal was
    // interrupted), an unfinished or incomplete spare, a segment dropped on
    // open, or a name that is not a segment's.
    if (options_.read_only) {
      counters_->stray_files_found++;
      continue;
    }
    Status s = fs_->Remove(path);
    if (!s.ok() && !s.IsNotFound()) return s;
    counters_->stray_files_removed++;
  }
  std::sort(spares.begin(), spares.end(),
            [](const auto& a, const auto& b) { return a.segment_id < b.segment_id; });
  for (const auto& spare : spares) first_spare_id = std::max(first_spare_id, spare.segment_id + 1);
  // Ids are never reused, not even those of dropped spares.
  for (uint64_t id : headed_spares_) first_spare_id = std::max(first_spare_id, id + 1);
  // Also when keeping spares: a spare's name was synced by the process that
  // prepared it only if that process got that far; the next roll may put
  // acknowledged entries into it, so its name must be durable first.
  if (counters_->stray_files_removed > 0 || !spares.empty()) {
    RAFTLOG_RETURN_IF_ERROR(fs_->SyncDir(segments_dir_));
  }
  counters_->stray_files_found += counters_->stray_files_removed;
  preallocator_ = std::make_unique<internal::Preallocator>(
      fs_, segments_dir_, options_.segment_bytes, first_spare_id, options_.prepared_segments,
      /*write_zeros=*/options_.sync != SyncPolicy::kNever, options_.recycled_segments);
  counters_->spare_segments_kept = spares.size();
  for (auto& spare : spares) preallocator_->AddExisting(std::move(spare));
  return Status::OK();
}

}  // namespace raftlog::engine
