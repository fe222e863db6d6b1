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
//   engine     finally, if nothing else was wrong, LogEngine::Open with
//              read_only, whose verdict must agree
//
// Thread-compatible.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "raftlog/format/compression.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/format/record.h"
#include "raftlog/io/file_system.h"
#include "tools/findings.h"
#include "tools/log_dir.h"
#include "tools/progress.h"

namespace raftlog::tools {

struct CheckSummary {
  bool metadata_read = false;  // meta.mdb could be read
  uint64_t segments = 0;       // listed in the manifest
  uint64_t sealed_segments = 0;
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

  // Runs every check. REQUIRES: LogDir::CheckIsLogDir(dir) is OK.
  void Run();

  const Findings& findings() const { return findings_; }
  const CheckSummary& summary() const { return summary_; }

  // Bytes Run() will read, for a progress bar: the segment and snapshot
  // files. An estimate; 0 if the directories cannot be listed.
  static uint64_t EstimateBytes(io::FileSystem* fs, const std::string& dir);

 private:
  void CheckMetadata();
  void CheckManifest();
  void CheckSegments();
  void CheckSealed(const format::SegmentRecord& record);
  void CheckActive(const format::SegmentRecord& record);
  // Every file in segments/ that `checked` does not hold.
  void CheckUnlisted(const std::vector<std::string>& names,
                     const std::vector<format::SegmentRecord>& checked);
  // Records made from the segment files themselves, for a log whose
  // manifest cannot be read.
  std::vector<format::SegmentRecord> RecordsFromFiles(const std::vector<std::string>& names);
  std::string SegmentPath(uint64_t id) const;
  void CheckSnapshots();
  void CheckTogether();
  void CheckWithEngine();

  // Decompresses and parses an entries frame's payload, counts its live
  // entries (up to `cap_index`) and checks their terms against the
  // HardState. Corruption describing the problem otherwise.
  Status CheckPayload(const format::FrameView& frame, uint64_t cap_index);
  void Progressed(uint64_t bytes);

  io::FileSystem* const fs_;
  const std::string dir_;
  Progress* const progress_;
  Findings findings_;
  CheckSummary summary_;

  std::unique_ptr<LogDir> log_dir_;
  std::optional<LogMetadata> meta_;
  // Across segments: the last index and term seen so far.
  std::optional<uint64_t> prev_last_index_;
  uint64_t prev_term_ = 0;
  uint64_t max_entry_term_ = 0;
  uint64_t first_index_ = 1;  // log/start, once read
  format::Decompressor decompressor_;
  std::string decompress_scratch_;
};

}  // namespace raftlog::tools
