#include "tools/log_checker.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <thread>
#include <utility>

#include "raftlog/engine/dir_scan.h"
#include "raftlog/engine/lmdb_check.h"
#include "raftlog/engine/log_engine.h"
#include "raftlog/engine/sealed_scan.h"
#include "raftlog/engine/segment_reader.h"
#include "raftlog/engine/segment_scan.h"
#include "raftlog/format/compression.h"
#include "raftlog/format/record_format.h"
#include "raftlog/snapshot/snapshot_format.h"
#include "tools/damage_advice.h"
#include "tools/log_checker_hints.h"
#include "tools/snapshots.h"

namespace raftlog::tools {

using namespace checker_internal;  // NOLINT: the shared hints

uint64_t LogChecker::EstimateBytes(io::FileSystem* fs, const std::string& dir) {
  uint64_t total = 0;
  for (const std::string_view sub : {kSegmentsDir, kSnapshotsDir}) {
    const std::string path = io::JoinPath(dir, sub);
    auto names = fs->ListDir(path);
    if (!names.ok()) continue;
    for (const std::string& name : *names) {
      auto file = fs->Open(io::JoinPath(path, name), io::OpenMode::kReadOnly);
      if (file.ok()) total += (*file)->Size().value_or(0);
    }
  }
  return total;
}

void LogChecker::Progressed(uint64_t bytes) {
  if (progress_ != nullptr) progress_->Add(bytes);
}

void LogChecker::Run(bool report_engine) {
  CheckMetadata();
  // The engine's verdict before the manifest is read (see log_checker.h),
  // and only once meta.mdb's header passed CheckMetadata: LMDB must not map
  // a file that check refused.
  if (log_dir_ != nullptr) verdict_ = JudgeWithEngine(dir_);
  if (log_dir_ != nullptr) ReadManifest();
  if (meta_.has_value()) CheckManifest();
  CheckSegments();
  CheckSnapshots();
  if (meta_.has_value()) CheckTogether();
  if (log_dir_ != nullptr && report_engine) ReportEngineVerdict();
  AdviseCompaction();
}

void LogChecker::AdviseCompaction() {
  // Damage in segments that only the newest snapshot's entries hold is
  // repaired by moving the log's start past it, also when the engine
  // refuses the log for it: say so instead of "rebuild" or "truncate".
  // (The repair's dry run reads every segment again: damaged logs only.)
  if (log_dir_ == nullptr || !meta_.has_value() || !meta_->snapshot.has_value()) return;
  auto segment_loss = [this](const Finding& f) {
    if (f.severity != Severity::kError ||
        (f.hint != kRestoreHint && f.hint != kRepairCorruptHint)) {
      return false;
    }
    // The engine's refusal has no file.
    return f.file.empty() ||
           std::any_of(meta_->segments.begin(), meta_->segments.end(),
                       [&](const auto& r) { return f.file == format::SegmentRecordRelPath(r); });
  };
  const auto& all = findings_.all();
  if (std::none_of(all.begin(), all.end(), segment_loss)) return;
  const std::optional<CompactAdvice> advice = AdviseCompactTo(fs_, dir_, meta_->snapshot->index);
  if (!advice.has_value()) return;
  findings_.Rehint(
      [&](const Finding& f) {
        if (!segment_loss(f)) return false;
        if (f.file.empty()) return advice->engine_refuses;
        return std::find(advice->files.begin(), advice->files.end(), f.file) != advice->files.end();
      },
      advice->text);
}

bool LogChecker::ChangedSince(uint64_t segment_id, bool was_listed, bool was_sealed) const {
  if (log_dir_ == nullptr) return false;
  auto now = log_dir_->ReadMetadata(nullptr);
  if (!now.ok()) return false;
  for (const format::SegmentRecord& r : now->segments) {
    if (r.segment_id != segment_id) continue;
    return !was_listed || (!was_sealed && r.state == format::SegmentState::kSealed);
  }
  return was_listed;
}

bool LogChecker::ChangesSoon(uint64_t segment_id, bool was_listed, bool was_sealed,
                             const std::string* path) const {
  const auto deadline = std::chrono::steady_clock::now() + writer_patience_;
  while (!ChangedSince(segment_id, was_listed, was_sealed)) {
    if (path != nullptr && !fs_->Exists(*path)) return true;
    if (log_dir_ == nullptr || std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

bool LogChecker::CompressionSettlesSoon(const std::string& path, uint64_t segment_id,
                                        std::optional<uint64_t> rewrite_generation) const {
  const auto deadline = std::chrono::steady_clock::now() + writer_patience_;
  for (;;) {
    if (!fs_->Exists(path)) return true;
    if (log_dir_ == nullptr) return false;
    if (rewrite_generation.has_value()) {
      auto now = log_dir_->ReadMetadata(nullptr);
      if (now.ok()) {
        for (const format::SegmentRecord& r : now->segments) {
          if (r.segment_id == segment_id && r.compressed() &&
              r.generation == *rewrite_generation) {
            return true;
          }
        }
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// --- metadata ---------------------------------------------------------------------

void LogChecker::CheckMetadata() {
  const std::string meta_file(kMetaFile);
  auto lmdb = engine::CheckLmdbFile(fs_, io::JoinPath(dir_, kMetaFile));
  if (!lmdb.ok()) {
    findings_.AddStatus(Severity::kError, meta_file, std::nullopt, lmdb.status(),
                        io::JoinPath(dir_, kMetaFile),
                        "the metadata (manifest, HardState) is unreadable: restore meta.mdb from a "
                        "backup or rebuild this member from its peers; the segment files are "
                        "checked on their own below");
    return;
  }
  auto opened = LogDir::Open(fs_, dir_);
  if (!opened.ok()) {
    findings_.AddStatus(Severity::kError, meta_file, std::nullopt, opened.status(), "");
    return;
  }
  log_dir_ = std::move(*opened);
}

void LogChecker::ReadManifest() {
  const std::string meta_file(kMetaFile);
  auto meta = log_dir_->ReadMetadata(&findings_);
  if (!meta.ok()) {
    findings_.AddStatus(Severity::kError, meta_file, std::nullopt, meta.status(), "");
    return;
  }
  summary_.metadata_read = true;
  meta_ = std::move(*meta);
  if (!meta_->problem.ok()) return;
  summary_.first_index = meta_->first_index;
  first_index_ = *meta_->first_index;
  if (verdict_.clean()) {
    // Frames past what the engine saw, and past the sealed segments listed
    // now, are a writer's progress after the check started.
    scan_bound_ = verdict_.last_index;
    for (const format::SegmentRecord& r : meta_->segments) {
      if (r.state == format::SegmentState::kSealed)
        scan_bound_ = std::max(scan_bound_, r.last_index);
    }
  }
}

void LogChecker::CheckManifest() {
  const LogMetadata& m = *meta_;
  const std::string meta_file(kMetaFile);
  const auto& segs = m.segments;
  for (size_t k = 0; k < segs.size(); ++k) {
    const format::SegmentRecord& r = segs[k];
    const std::string key = "key seg/" + SegmentFileName(r.segment_id).substr(0, 16);
    if (m.next_segment_id.has_value() && r.segment_id >= *m.next_segment_id) {
      findings_.Add(Severity::kError, meta_file, std::nullopt,
                    key + ": segment id " + std::to_string(r.segment_id) +
                        " is not below log/next_segment_id " + std::to_string(*m.next_segment_id));
    }
    if (r.state == format::SegmentState::kActive && k + 1 != segs.size()) {
      findings_.Add(Severity::kError, meta_file, std::nullopt,
                    key + ": the segment is active but is not the last one");
    }
    if (r.state == format::SegmentState::kSealed) {
      if (r.last_index < r.base_index) {
        findings_.Add(Severity::kError, meta_file, std::nullopt,
                      key + ": a sealed segment without entries (last index " +
                          std::to_string(r.last_index) + ", base index " +
                          std::to_string(r.base_index) + ")");
      }
      if (r.file_bytes < format::kSegmentHeaderBytes + format::kTrailerBytes ||
          r.footer_offset < format::kSegmentHeaderBytes ||
          r.footer_offset + format::kFrameHeaderBytes + format::kTrailerBytes > r.file_bytes) {
        findings_.Add(Severity::kError, meta_file, std::nullopt,
                      key + ": impossible footer offset " + std::to_string(r.footer_offset) +
                          " for a file of " + std::to_string(r.file_bytes) + " bytes");
      }
    }
    if (k > 0 && segs[k - 1].state == format::SegmentState::kSealed &&
        r.base_index != segs[k - 1].last_index + 1) {
      findings_.Add(Severity::kError, meta_file, std::nullopt,
                    key + ": starts at index " + std::to_string(r.base_index) +
                        " but the previous segment ends at " +
                        std::to_string(segs[k - 1].last_index) +
                        " (the manifest's ranges must be consecutive)");
    }
  }
  if (m.first_index.has_value() && !segs.empty()) {
    if (segs.front().base_index > *m.first_index) {
      findings_.Add(Severity::kError, meta_file, std::nullopt,
                    "the log starts at index " + std::to_string(*m.first_index) +
                        " (log/start) but its first segment begins at " +
                        std::to_string(segs.front().base_index) + ": entries are missing");
    }
    const format::SegmentRecord& back = segs.back();
    if (back.state == format::SegmentState::kSealed && back.last_index + 1 < *m.first_index) {
      findings_.Add(Severity::kError, meta_file, std::nullopt,
                    "the log starts at index " + std::to_string(*m.first_index) +
                        " beyond its last segment's end " + std::to_string(back.last_index));
    }
  }
}

// --- segments ---------------------------------------------------------------------

void LogChecker::CheckSegments() {
  const std::string segments_path = io::JoinPath(dir_, kSegmentsDir);
  auto names = fs_->ListDir(segments_path);
  if (!names.ok()) {
    const bool listed = meta_.has_value() && !meta_->segments.empty();
    findings_.AddStatus(listed ? Severity::kError : Severity::kWarning, std::string(kSegmentsDir),
                        std::nullopt, names.status(), "",
                        listed ? std::string(kRestoreHint) : std::string());
    return;
  }
  std::vector<format::SegmentRecord> records;
  if (meta_.has_value()) {
    records = meta_->segments;
    prev_term_ = meta_->prev_term;
  } else {
    records = RecordsFromFiles(*names);
  }
  {
    for (const format::SegmentRecord& record : records) {
      summary_.segments++;
      if (record.state == format::SegmentState::kSealed) {
        summary_.sealed_segments++;
        if (record.compressed()) {
          summary_.compressed_segments++;
          summary_.compressed_bytes += record.file_bytes;
          summary_.compressed_raw_bytes += record.raw_file_bytes;
        }
        CheckSealed(record);
      } else {
        CheckActive(record);
      }
    }
    CheckSuccessor(&records);
    if (meta_.has_value() && meta_->first_index.has_value()) {
      summary_.last_index = prev_last_index_.value_or(*meta_->first_index - 1);
      if (*summary_.last_index < *meta_->first_index - 1) {
        summary_.last_index = *meta_->first_index - 1;
      }
    }
  }
  CheckUnlisted(*names, records);
}

void LogChecker::CheckSuccessor(std::vector<format::SegmentRecord>* records) {
  // A roll whose background seal has not committed: the spare continuing
  // the active segment holds entries (the rule recovery applies,
  // engine::FindSuccessor).
  if (!meta_.has_value() || !meta_->next_segment_id.has_value() || records->empty() ||
      records->back().state != format::SegmentState::kActive) {
    return;
  }
  const format::SegmentRecord& active = records->back();
  auto spares = engine::FindSuccessor(fs_, io::JoinPath(dir_, kSegmentsDir),
                                      *meta_->next_segment_id, active.generation,
                                      prev_last_index_.value_or(active.base_index - 1) + 1);
  if (!spares.ok()) {
    findings_.AddStatus(Severity::kWarning, std::string(kSegmentsDir), std::nullopt,
                        spares.status(), "");
    return;
  }
  if (!spares->successor.has_value()) return;
  const format::SegmentRecord successor = *spares->successor;
  summary_.segments++;
  CheckActive(successor);
  // Beside a live writer this is a roll whose seal is still running.
  if (!ChangesSoon(successor.segment_id, /*was_listed=*/false, /*was_sealed=*/false)) {
    findings_.Add(Severity::kWarning, SegmentRelPath(successor.segment_id), std::nullopt,
                  "continues the log from index " + std::to_string(successor.base_index) +
                      " but the manifest does not list it yet: a segment roll whose background "
                      "seal was interrupted",
                  "the engine seals the previous segment and lists this one on its next "
                  "read-write open; nothing is lost");
  }
  records->push_back(successor);
}

std::string LogChecker::SegmentPath(uint64_t id) const {
  return io::JoinPath(io::JoinPath(dir_, kSegmentsDir), SegmentFileName(id));
}

std::string LogChecker::SegmentPath(const format::SegmentRecord& record) const {
  return io::JoinPath(io::JoinPath(dir_, kSegmentsDir), format::SegmentRecordFileName(record));
}

std::vector<format::SegmentRecord> LogChecker::RecordsFromFiles(
    const std::vector<std::string>& names) {
  // Without the manifest, each segment file describes itself: its header
  // gives the id, base index and generation (so the seed), and a valid
  // trailer and footer make it sealed. Files that say nothing (all zeros,
  // an unreadable header) are left to CheckUnlisted.
  std::vector<format::SegmentRecord> records;
  for (const std::string& name : names) {
    auto r = engine::DescribeSegmentFileNamed(
        fs_, io::JoinPath(io::JoinPath(dir_, kSegmentsDir), name), name);
    if (r.ok() && r->has_value()) records.push_back(**r);
  }
  engine::OneRecordPerSegment(&records);
  // Only the last may be active: an earlier one without a footer is damaged,
  // which CheckActive reports all the same.
  return records;
}

Status LogChecker::CheckPayload(const format::FrameView& frame, uint64_t cap_index) {
  RAFTLOG_RETURN_IF_ERROR(engine::CheckFramePayload(frame, &decompressor_, &decompress_scratch_));
  summary_.frames++;
  const uint64_t first = std::max(frame.header.first_index, first_index_);
  const uint64_t last = std::min(frame.header.end_index() - 1, cap_index);
  if (first <= last) summary_.entries += last - first + 1;
  max_entry_term_ = std::max(max_entry_term_, frame.header.term);
  return Status::OK();
}

void LogChecker::CheckSealed(const format::SegmentRecord& record) {
  const std::string rel = format::SegmentRecordRelPath(record);
  const std::string range =
      "entries " + std::to_string(record.base_index) + " .. " + std::to_string(record.last_index);
  auto opened = engine::SegmentReader::Open(fs_, SegmentPath(record), rel);
  if (!opened.ok() && opened.status().IsNotFound() &&
      ChangedSince(record.segment_id, /*was_listed=*/true, /*was_sealed=*/true)) {
    prev_last_index_ = record.last_index;
    return;  // compacted away since the manifest was read
  }
  if (!opened.ok() && opened.status().IsNotFound() && log_dir_ != nullptr) {
    // Beside a live writer's cold worker: rewritten compressed since the
    // manifest was read (same id and entries), and the raw file removed by
    // the swap. The rewrite holds the entries: check it instead.
    if (auto swapped = log_dir_->CompressedRewriteNow(record); swapped.has_value()) {
      summary_.compressed_segments++;
      summary_.compressed_bytes += swapped->file_bytes;
      summary_.compressed_raw_bytes += swapped->raw_file_bytes;
      CheckSealed(*swapped);
      return;
    }
  }
  if (!opened.ok()) {
    findings_.Add(
        Severity::kError, rel, std::nullopt,
        (opened.status().IsNotFound() ? std::string("missing") : StripWhere(opened.status(), "")) +
            ": the manifest lists this sealed segment (" + range + ")",
        std::string(kRestoreHint));
    prev_last_index_ = record.last_index;
    return;
  }
  engine::SegmentReader& reader = **opened;
  summary_.segment_bytes += reader.size();
  Progressed(reader.size());
  // Whatever is found below, the next segment continues the manifest's range.
  prev_last_index_ = record.last_index;

  // The walk of every frame (sealed_scan.h), keeping going after damage,
  // with every payload checked too.
  engine::SealedScanOptions options;
  options.first_index = first_index_;
  options.min_term = prev_term_;
  options.stop_at_loss = false;
  options.on_frame = [&](const format::FrameView& frame, uint64_t) {
    return CheckPayload(frame, record.last_index);
  };
  auto scan = engine::ScanSealedSegment(&reader, record, options);
  if (!scan.ok()) {
    findings_.AddStatus(Severity::kError, rel, std::nullopt, scan.status(), "");
    return;
  }
  for (const engine::SealedProblem& p : scan->problems) {
    std::string what = p.what;
    if (p.first_index != 0) {
      what += "; the frame holds entries " + std::to_string(p.first_index) + " .. " +
              std::to_string(p.last_index);
    }
    if (p.compacted) {
      findings_.Add(Severity::kWarning, rel, p.offset,
                    what + ", all below the log's first index " + std::to_string(first_index_) +
                        " (compacted away: the engine never reads them again)",
                    "nothing acknowledged is lost; the engine deletes this segment once the "
                    "log is compacted past its last index " +
                        std::to_string(record.last_index) +
                        " (raft compacts after its next snapshot)");
    } else {
      findings_.Add(Severity::kError, rel, p.offset, what, std::string(kRestoreHint));
    }
  }
  prev_term_ = std::max(prev_term_, scan->last_term);
}

void LogChecker::CheckActive(const format::SegmentRecord& record) {
  const std::string rel = SegmentRelPath(record.segment_id);
  const std::string name = SegmentFileName(record.segment_id);
  auto opened = engine::SegmentReader::Open(fs_, SegmentPath(record.segment_id), name);
  if (!opened.ok() && opened.status().IsNotFound() &&
      ChangedSince(record.segment_id, /*was_listed=*/true, /*was_sealed=*/false)) {
    return;  // replaced or compacted away since the manifest was read
  }
  if (!opened.ok()) {
    findings_.Add(
        Severity::kError, rel, std::nullopt,
        (opened.status().IsNotFound() ? std::string("missing") : StripWhere(opened.status(), "")) +
            ": the manifest lists this active segment (entries from " +
            std::to_string(record.base_index) + ")",
        std::string(kRestoreHint));
    return;
  }
  engine::SegmentReader& reader = **opened;
  summary_.segment_bytes += reader.size();
  if (prev_last_index_.has_value() && record.base_index != *prev_last_index_ + 1) {
    findings_.Add(Severity::kError, std::string(kMetaFile), std::nullopt,
                  "the active segment " + rel + " starts at index " +
                      std::to_string(record.base_index) + " but the previous segment ends at " +
                      std::to_string(*prev_last_index_));
  }
  // The scan recovery makes (segment_scan.h), with every payload checked too.
  engine::ScanOptions options;
  options.min_term = prev_term_;
  options.max_index = scan_bound_;
  options.on_frame = [this](const format::FrameView& frame, uint64_t) {
    return CheckPayload(frame, UINT64_MAX);
  };
  auto scan = engine::ScanSegment(&reader, record, options);
  Progressed(reader.size());
  if (!scan.ok()) {
    findings_.AddStatus(Severity::kError, rel, std::nullopt, scan.status(), "");
    return;
  }
  prev_last_index_ = scan->last_index;
  prev_term_ = std::max(prev_term_, scan->last_term);
  const std::string what = DamageWhat(*scan, name);
  switch (scan->finding) {
    case engine::SegmentFinding::kClean:
    case engine::SegmentFinding::kUnwritten:
    case engine::SegmentFinding::kStopped:
      return;
    case engine::SegmentFinding::kUnfinishedSeal:
      if (!ChangesSoon(record.segment_id, /*was_listed=*/true, /*was_sealed=*/false)) {
        findings_.Add(Severity::kWarning, rel, scan->good_end,
                      "a footer follows the last frame: a seal was interrupted before the "
                      "manifest recorded it",
                      "the engine finishes the seal on its next read-write open; nothing is lost");
      }
      return;
    case engine::SegmentFinding::kTornWrite:
      findings_.Add(Severity::kWarning, rel, scan->damage_offset,
                    "torn write at the end of the log (" + what + "); " +
                        std::to_string(scan->damage_end - scan->damage_offset) +
                        " bytes after the last good frame (index " +
                        std::to_string(scan->last_index) + ") are not a frame",
                    std::string(kRepairTailHint));
      return;
    case engine::SegmentFinding::kLostAcknowledged:
      findings_.Add(Severity::kError, rel, scan->damage_offset,
                    what + "; followed by " + std::to_string(scan->valid_frames_after) +
                        " valid frame(s) from offset " + std::to_string(*scan->valid_after) +
                        ": acknowledged entries after index " + std::to_string(scan->last_index) +
                        " are behind the damage",
                    std::string(kRepairCorruptHint));
      return;
    case engine::SegmentFinding::kOutOfSequence:
    case engine::SegmentFinding::kHeaderMismatch:
    case engine::SegmentFinding::kNewerFormat:
    case engine::SegmentFinding::kShortFile:
    case engine::SegmentFinding::kCutFile:
      findings_.Add(Severity::kError, rel,
                    scan->finding == engine::SegmentFinding::kOutOfSequence ||
                            scan->finding == engine::SegmentFinding::kHeaderMismatch
                        ? std::optional<uint64_t>(scan->damage_offset)
                        : std::nullopt,
                    what, std::string(kRestoreHint));
      return;
  }
}

}  // namespace raftlog::tools
