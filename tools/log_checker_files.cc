// LogChecker's checks of the files the manifest does not list and of the
// snapshot files (see log_checker.h).

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "raftlog/engine/dir_scan.h"
#include "raftlog/engine/segment_reader.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/snapshot/snapshot_store.h"
#include "tools/log_checker.h"
#include "tools/log_checker_hints.h"
#include "tools/snapshots.h"

namespace raftlog::tools {

using namespace checker_internal;  // NOLINT: the shared hints

namespace {

// A file modified in the last 10 seconds: a live writer's preallocator is
// preparing it (it renames it into place when done), or its cold worker is
// writing a rewrite, so it is progress, not the leftover of an interrupted
// preparation or compression (which is older than the process that left
// it: a writer's open removes such leftovers).
bool BeingWritten(const std::string& path) {
  std::error_code ec;
  const auto written = std::filesystem::last_write_time(path, ec);
  if (ec) return false;
  return written > std::filesystem::file_time_type::clock::now() - std::chrono::seconds(10);
}

}  // namespace

void LogChecker::CheckUnlisted(const std::vector<std::string>& names,
                               const std::vector<format::SegmentRecord>& checked) {
  // What each file is, decided once for verify and the engine's open
  // (engine/dir_scan.h); what follows is verify's report of it.
  engine::DirScanInput input;
  for (const format::SegmentRecord& r : checked) {
    input.listed.insert(r.segment_id);
    if (r.compressed()) input.compressed[r.segment_id] = r.generation;
  }
  if (meta_.has_value()) input.next_segment_id = meta_->next_segment_id;
  // Whether a writer is appending now: the active segment was written in
  // the last 10 seconds. Its open removed every leftover of an interrupted
  // compression, so a compression's file beside it is its cold worker's
  // progress, however long the worker takes while the log is busy (it
  // paces itself then, reading back a rewrite for seconds without writing
  // it). Not for a log no process writes (a patience of 0 says so).
  bool writer_appending = false;
  if (writer_patience_.count() > 0) {
    for (const format::SegmentRecord& r : checked) {
      if (r.state == format::SegmentState::kActive && BeingWritten(SegmentPath(r.segment_id))) {
        writer_appending = true;
      }
    }
  }
  // The log directory itself: the leftover of an interrupted creation.
  // (Repair's side files and files of the operator's are not the log's.)
  if (auto top = fs_->ListDir(dir_); top.ok()) {
    for (const std::string& name : *top) {
      const engine::DirEntry entry = engine::ClassifyTopEntry(name);
      if (entry.kind != engine::DirEntryKind::kInterruptedCreation) continue;
      findings_.Add(Severity::kWarning, entry.name, std::nullopt, entry.reason,
                    "not part of the log; the engine removes it on its next read-write open");
    }
  }
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  for (const std::string& name : sorted) {
    const engine::DirEntry entry = engine::ClassifySegmentsEntry(name, input);
    if (entry.kind == engine::DirEntryKind::kListedSegment) continue;
    const std::string& rel = entry.name;
    // A writer's progress since the manifest was read: a segment it listed
    // since, or a file it was preparing and has renamed or removed since.
    if (!fs_->Exists(io::JoinPath(dir_, rel))) continue;
    // A compression's leftover: a rewrite the manifest does not list, or
    // the raw file of a segment it lists compressed. Beside a live writer
    // either may be a compression in progress, which settles in moments.
    const auto rewrite = format::layout::ParseCompressedSegmentFileName(name);
    if (rewrite.has_value() ||
        (entry.segment_id.has_value() && input.compressed.count(*entry.segment_id) != 0)) {
      const uint64_t id = rewrite.has_value() ? rewrite->id : *entry.segment_id;
      const std::optional<uint64_t> generation =
          rewrite.has_value() ? std::optional<uint64_t>(rewrite->generation) : std::nullopt;
      const std::string path = io::JoinPath(dir_, rel);
      if (writer_appending || (rewrite.has_value() && BeingWritten(path)) ||
          CompressionSettlesSoon(path, id, generation)) {
        continue;
      }
      findings_.Add(Severity::kWarning, rel, std::nullopt, entry.reason, std::string(kStrayHint));
      continue;
    }
    if (!entry.segment_id.has_value()) {
      const bool tmp = entry.kind == engine::DirEntryKind::kInterruptedSpare;
      if (tmp && BeingWritten(io::JoinPath(dir_, rel))) continue;
      findings_.Add(Severity::kWarning, rel, std::nullopt, entry.reason, std::string(kStrayHint));
      continue;
    }
    const uint64_t* id = &*entry.segment_id;
    auto opened = engine::SegmentReader::Open(fs_, SegmentPath(*id), rel);
    if (!opened.ok()) {
      findings_.AddStatus(Severity::kWarning, rel, std::nullopt, opened.status(), "");
      continue;
    }
    engine::SegmentReader& reader = **opened;
    summary_.segment_bytes += reader.size();
    Progressed(reader.size());
    const bool may_be_spare = entry.kind == engine::DirEntryKind::kSpareSegment;
    auto end = reader.EndOfNonZero(0, reader.size());
    if (!end.ok()) {
      findings_.AddStatus(Severity::kWarning, rel, std::nullopt, end.status(), "");
      continue;
    }
    // A prepared spare has an all-zero segment header: it holds nothing of
    // the log yet. Past the header it is all zeros, or (a recycled file)
    // stale frames of a freed segment, which cannot pass for this log's.
    auto header_zero = reader.HeaderIsZero();
    if (!header_zero.ok()) {
      findings_.AddStatus(Severity::kWarning, rel, std::nullopt, header_zero.status(), "");
      continue;
    }
    if (may_be_spare && *header_zero) {
      summary_.spare_segments++;  // a prepared spare, not yet used
      continue;
    }
    // Asked after reading the file: a spare the writer started using while
    // it was read is listed by now, or once the seal of the segment before
    // it commits; a compacted segment the writer deletes in the background
    // is gone soon.
    const std::string path = SegmentPath(*id);
    if (ChangesSoon(*id, /*was_listed=*/false, /*was_sealed=*/false, &path)) continue;
    if (!meta_.has_value()) {
      findings_.Add(Severity::kError, rel, std::nullopt,
                    "not a readable segment (its header does not decode or does not match its "
                    "name), and without the manifest nothing says whether the log needs it",
                    std::string(kRestoreHint));
    } else if (may_be_spare) {
      findings_.Add(Severity::kWarning, rel, *end == 0 ? std::nullopt : std::optional<uint64_t>(0),
                    "named like a prepared spare segment but its segment header is not all zeros "
                    "(non-zero bytes up to offset " +
                        std::to_string(*end) + ") and not in the manifest",
                    "not part of the log (nothing in it was acknowledged: it does not continue "
                    "the log); the engine deletes it on its next read-write open");
    } else {
      findings_.Add(Severity::kWarning, rel, std::nullopt,
                    "a segment file the manifest does not list (left by an interrupted "
                    "compaction or truncation)",
                    std::string(kStrayHint));
    }
  }
}

// --- snapshots --------------------------------------------------------------------

void LogChecker::CheckSnapshots() {
  const std::string snaps(kSnapshotsDir);
  const bool referenced =
      meta_.has_value() && meta_->snapshot.has_value() && !meta_->snapshot->file_name.empty();
  std::unique_ptr<snapshot::SnapshotStore> store;
  if (log_dir_ != nullptr) {
    auto opened = OpenSnapshotsReadOnly(*log_dir_);
    if (!opened.ok()) {
      findings_.AddStatus(Severity::kError, snaps, std::nullopt, opened.status(), "");
      return;
    }
    store = std::move(*opened);
  } else if (fs_->Exists(io::JoinPath(dir_, kSnapshotsDir))) {
    snapshot::SnapshotStore::Options options;
    options.read_only = true;
    auto opened = snapshot::SnapshotStore::Open(fs_, io::JoinPath(dir_, kSnapshotsDir), options);
    if (!opened.ok()) {
      findings_.AddStatus(Severity::kError, snaps, std::nullopt, opened.status(), "");
      return;
    }
    store = std::move(*opened);
  }
  if (store == nullptr) {
    if (referenced) {
      findings_.Add(Severity::kError, snaps, std::nullopt,
                    "missing, but the metadata names snapshot " + meta_->snapshot->file_name,
                    std::string(kRestoreHint));
    }
    return;
  }
  auto listing = store->Scan();
  if (!listing.ok()) {
    findings_.AddStatus(Severity::kError, snaps, std::nullopt, listing.status(), "");
    return;
  }
  if (store->stats().temp_files_found > 0) {
    findings_.Add(Severity::kWarning, snaps, std::nullopt,
                  std::to_string(store->stats().temp_files_found) +
                      " temp file(s) of interrupted snapshot writes",
                  "harmless; removed when the log is next opened for writing");
  }
  for (const snapshot::DamagedSnapshot& d : listing->damaged) {
    const bool is_referenced = referenced && d.name == meta_->snapshot->file_name;
    findings_.Add(Severity::kError, Rel(snaps, d.name), std::nullopt,
                  std::string(d.status.message()),
                  is_referenced ? std::string(kRestoreHint)
                                : "not the snapshot the metadata names; remove it once it is "
                                  "no longer needed as evidence");
  }
  bool referenced_ok = false;
  for (const snapshot::SnapshotInfo& info : listing->snapshots) {
    Status s = store->Verify(info.name);
    Progressed(info.file_bytes);
    summary_.snapshots++;
    const bool is_referenced = referenced && info.name == meta_->snapshot->file_name;
    if (!s.ok()) {
      findings_.Add(Severity::kError, Rel(snaps, info.name), std::nullopt, std::string(s.message()),
                    is_referenced ? std::string(kRestoreHint) : std::string());
      continue;
    }
    if (!is_referenced) {
      if (meta_.has_value() && meta_->snapshot.has_value() &&
          info.meta.index >= meta_->snapshot->index) {
        findings_.Add(Severity::kWarning, Rel(snaps, info.name), std::nullopt,
                      "newer than the snapshot the metadata names (left by a snapshot whose "
                      "metadata commit was interrupted)",
                      "harmless; DiskStorage removes it on its next read-write open");
      }
      continue;
    }
    referenced_ok = true;
    const format::SnapshotMetaRecord& m = *meta_->snapshot;
    std::string mismatch;
    if (info.meta.index != m.index || info.meta.term != m.term) {
      mismatch = "holds index " + std::to_string(info.meta.index) + " term " +
                 std::to_string(info.meta.term) + ", the metadata says index " +
                 std::to_string(m.index) + " term " + std::to_string(m.term);
    } else if (info.data_bytes != m.data_bytes) {
      mismatch = "holds " + std::to_string(info.data_bytes) + " data bytes, the metadata says " +
                 std::to_string(m.data_bytes);
    } else {
      auto cs = format::DecodeConfState(info.meta.conf_state);
      if (!cs.ok() || !(*cs == m.conf_state)) {
        mismatch = "its ConfState differs from the metadata's";
      }
    }
    if (!mismatch.empty()) {
      findings_.Add(Severity::kError, Rel(snaps, info.name), std::nullopt, mismatch,
                    std::string(kRestoreHint));
    }
  }
  if (referenced && !referenced_ok &&
      std::none_of(listing->damaged.begin(), listing->damaged.end(),
                   [&](const auto& d) { return d.name == meta_->snapshot->file_name; }) &&
      std::none_of(listing->snapshots.begin(), listing->snapshots.end(),
                   [&](const auto& s) { return s.name == meta_->snapshot->file_name; })) {
    findings_.Add(Severity::kError, Rel(snaps, meta_->snapshot->file_name), std::nullopt,
                  "missing: the metadata names this snapshot (index " +
                      std::to_string(meta_->snapshot->index) + ")",
                  std::string(kRestoreHint));
  }
}

}  // namespace raftlog::tools
