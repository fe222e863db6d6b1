// LogChecker: the full check behind `raftlog verify`. It reads every byte
// that matters, through format/ and read-only opens, keeps going after each
// problem, and reports each one with its file and offset:
//
//   metadata   meta.mdb's own header (a truncated LMDB file), every key of
//              docs/format.md §11 (format, log/start, ids, generation, the
//              manifest records, HardState, snapshot metadata)
//   manifest   ids below log/next_segment_id, one active segment and last,
//              consecutive index ranges, the log's start inside them
//   segments   each listed file exists; header matches its record; sealed:
//              trailer, footer, every frame's checksum and payload, the
//              footer's frame table and term runs against the frames;
//              active: the scan recovery does (torn tail, or damage
//              followed by valid frames, or an unfinished seal); indexes
//              consecutive and terms non-decreasing across the whole log
//   files      segment files the manifest does not list, other names in
//              segments/
//   snapshots  every snapshot file fully (SnapshotStore::Verify), damaged
//              and temp files, the file the metadata names and its
//              agreement with the metadata
//   together   HardState against the entries, the log against the snapshot
//   engine     first of all, the engine's own verdict (engine_verdict.h): a
//              log it refuses, or from which committed entries are gone, is
//              an error whatever else was found; a torn tail it would cut
//              a warning; the index range it serves must be what the
//              segment files hold
//
// Beside a live writer the check describes the log as of its start: the
// engine's verdict is taken first and the metadata read after it, the
// active segment is scanned only up to the last entry the engine saw, and a
// segment that was sealed, created or removed since (the manifest says so
// when read again) is the writer's progress, not damage.
//
// Thread-compatible.

#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "raftlog/format/compression.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/format/record.h"
#include "raftlog/io/file_system.h"
#include "tools/engine_verdict.h"
#include "tools/findings.h"
#include "tools/log_dir.h"
#include "tools/progress.h"

namespace raftlog::tools {

struct CheckSummary {
  bool metadata_read = false;  // meta.mdb could be read
  uint64_t segments = 0;       // listed in the manifest
  uint64_t sealed_segments = 0;
  // Of those, rewritten compressed: their bytes, and the raw files' they replaced.
  uint64_t compressed_segments = 0;
  uint64_t compressed_bytes = 0;
  uint64_t compressed_raw_bytes = 0;
  uint64_t spare_segments = 0;  // prepared, all-zero, unlisted
  uint64_t frames = 0;          // entries frames decoded
  uint64_t entries = 0;         // live entries (first_index .. last_index) seen
  uint64_t segment_bytes = 0;   // bytes of segment files read
  uint64_t snapshots = 0;       // snapshot files verified
  std::optional<uint64_t> first_index;
  std::optional<uint64_t> last_index;
  bool engine_checked = false;  // the final read-only engine open ran
};

class LogChecker {
 public:
  // `progress` may be null. Both must outlive the checker.
  LogChecker(io::FileSystem* fs, std::string dir, Progress* progress)
      : fs_(fs), dir_(std::move(dir)), progress_(progress) {}

  // Runs every check. REQUIRES: LogDir::CheckIsLogDir(dir) is OK. Without
  // `report_engine` the engine's verdict is taken (and bounds the scans) but
  // not added to the findings: for repair, which acts on it itself.
  void Run(bool report_engine = true);

  // The engine's verdict, once Run() took it.
  const EngineVerdict& verdict() const { return verdict_; }

  const Findings& findings() const { return findings_; }
  const CheckSummary& summary() const { return summary_; }

  // How long a finding that a live writer's progress would explain (a seal
  // in flight, a compacted file not yet unlinked) waits for the manifest to
  // show that progress (ChangesSoon). Two seconds by default; a log no
  // writer can touch (a fuzzer's input) needs none.
  void set_writer_patience(std::chrono::milliseconds patience) { writer_patience_ = patience; }

  // Bytes Run() will read, for a progress bar: the segment and snapshot
  // files. An estimate; 0 if the directories cannot be listed.
  static uint64_t EstimateBytes(io::FileSystem* fs, const std::string& dir);

 private:
  void CheckMetadata();  // meta.mdb's header; opens it
  void ReadManifest();
  void CheckManifest();
  void CheckSegments();
  void CheckSealed(const format::SegmentRecord& record);
  void CheckActive(const format::SegmentRecord& record);
  // The unlisted successor of the active segment, if a spare continues the
  // log (a roll whose background seal did not commit): checked as the
  // active segment after the listed one, and added to `records`.
  void CheckSuccessor(std::vector<format::SegmentRecord>* records);
  // Every file in segments/ that `checked` does not hold.
  void CheckUnlisted(const std::vector<std::string>& names,
                     const std::vector<format::SegmentRecord>& checked);
  // Records made from the segment files themselves, for a log whose
  // manifest cannot be read.
  std::vector<format::SegmentRecord> RecordsFromFiles(const std::vector<std::string>& names);
  std::string SegmentPath(uint64_t id) const;
  std::string SegmentPath(const format::SegmentRecord& record) const;
  void CheckSnapshots();
  void CheckTogether();
  void ReportEngineVerdict();
  // Rehints the losses in sealed segments when the newest snapshot covers
  // all of them (damage_advice.h).
  void AdviseCompaction();
  // The manifest as of now: whether the writer has changed `segment_id`
  // since the check read the metadata (sealed it, listed it, or removed it
  // from the manifest). False if the metadata cannot be read again.
  bool ChangedSince(uint64_t segment_id, bool was_listed, bool was_sealed) const;
  // As ChangedSince, but asks again for up to writer_patience_ while the
  // answer is no: a seal in flight beside a live writer (a background seal
  // is an fdatasync and an LMDB commit away from listing its segments)
  // settles within that, an interrupted one never does.
  // With `path`, the file's removal (a compacted segment the writer
  // deletes in the background) counts as a change too.
  bool ChangesSoon(uint64_t segment_id, bool was_listed, bool was_sealed,
                   const std::string* path = nullptr) const;
  // Whether a compression's file at `path`, which the manifest did not
  // account for, settles within writer_patience_ beside a live writer: the
  // file is removed (the raw file of a swapped segment, unlinked or recycled
  // by the writer's preallocator; a rewrite given up), or, for a rewrite
  // (`rewrite_generation` set), the manifest lists segment `segment_id`
  // compressed in that generation (its swap committed). An interrupted
  // compression's leftover never does.
  bool CompressionSettlesSoon(const std::string& path, uint64_t segment_id,
                              std::optional<uint64_t> rewrite_generation) const;

  // Decompresses and parses an entries frame's payload, counts its live
  // entries (up to `cap_index`) and checks their terms against the
  // HardState. Corruption describing the problem otherwise.
  Status CheckPayload(const format::FrameView& frame, uint64_t cap_index);
  void Progressed(uint64_t bytes);

  io::FileSystem* const fs_;
  const std::string dir_;
  Progress* const progress_;
  std::chrono::milliseconds writer_patience_{2000};
  Findings findings_;
  CheckSummary summary_;

  std::unique_ptr<LogDir> log_dir_;
  std::optional<LogMetadata> meta_;
  // Across segments: the last index and term seen so far.
  std::optional<uint64_t> prev_last_index_;
  uint64_t prev_term_ = 0;
  uint64_t max_entry_term_ = 0;
  uint64_t first_index_ = 1;  // log/start, once read
  EngineVerdict verdict_;
  // The active segment is scanned up to this index (see above).
  uint64_t scan_bound_ = UINT64_MAX;
  format::Decompressor decompressor_;
  std::string decompress_scratch_;
};

}  // namespace raftlog::tools
