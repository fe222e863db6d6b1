// Moving the start of a log that the engine refuses to open past damage that
// lies wholly in entries up to a compaction point: what a compaction
// (LogEngine::TruncatePrefix) does to an open log, applied to the manifest
// directly, because the engine cannot open this one. DiskStorage's
// RepairCompactTo uses it when the engine refuses the log, and only when the
// damage it drops is what the engine refuses the log for; the raftlog tool's
// `repair --compact-to` drives that.
//
// Damage that makes the engine refuse a log, and that this can drop:
//   - a sealed segment wholly at or below the compaction point that open
//     reads (a record without term runs, whose footer is damaged) or finds
//     missing: its record and its file go;
//   - damage inside the active segment (lost acknowledged data, a frame out
//     of sequence, a damaged header) that a salvage walk (salvage_scan.h)
//     bounds: every entry it may cost is at or below the compaction point.
//     The entries the segment still holds after the point are copied into a
//     new sealed segment (a new id, the log's generation; written, synced,
//     read back and its name synced before any record names it), which
//     replaces the damaged one; if it holds none after the point, its record
//     and file simply go.
// The change is one LMDB transaction: log/start (the point + 1, the point's
// term), the dropped records deleted, the new segment's record and the next
// segment id; the files it drops are removed after it commits (a crash in
// between leaves unlisted files, which the next open removes).
//
// Thread-compatible; the caller holds the log's lock (LockLogDirectory) for
// ApplyCompactPast and for the plan it applies.

#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "raftlog/engine/damage_survey.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/format/result.h"
#include "raftlog/io/file_system.h"

namespace raftlog::engine {

// What moving a refused log's start past `index` would drop and write.
struct CompactPastPlan {
  uint64_t index = 0;
  // The log as its files hold it: log/start's first index; the last entry
  // a reader reaches, through the active segment's damage; the largest
  // commit hint in the frames of the active segment.
  uint64_t first_index = 1;
  uint64_t last_index = 0;
  uint64_t commit_hint = 0;
  // The term of entry `index`, when the log says it (a sealed segment's
  // term runs, a frame of the active segment or the frames around its gap,
  // log/start for the entry before the first).
  std::optional<uint64_t> index_term;
  // All damage found (SurveyDamage's, with the active segment's bounded by
  // a salvage walk where the walk can bound it), torn writes included.
  std::vector<LogDamage> damage;
  // Records whose files go: sealed segments wholly at or below `index`,
  // and the damaged active segment when it holds nothing after `index`.
  std::vector<format::SegmentRecord> dropped;
  // The damaged active segment whose entries after `index` are copied into
  // `rescue` (entries index + 1 .. last_index, sealed), which replaces it.
  std::optional<format::SegmentRecord> rescued_from;
  std::optional<format::SegmentRecord> rescue;
  // How the active segment was walked: the rescue walks it again the same
  // way, so that it copies the frames the plan counted.
  uint64_t active_min_term = 0;
  std::optional<format::DurableRecord> durable;
  // Why the plan cannot be applied, if it cannot: damage that may cost an
  // entry after `index`, or an unlisted successor segment that continues the
  // damaged active segment. Empty when it can.
  std::string refusal;

  // Damage (not a torn write) that may cost an entry at or above `index`.
  const LogDamage* FirstReaching(uint64_t index) const;
  // Whether the engine's refusal `error` names a file the plan drops or
  // replaces (its messages name the segment file they are about).
  bool Explains(const Status& error) const;
};

// Reads the log in `dir` (metadata read-only, segment files read-only) and
// works out the plan. Errors: the metadata cannot be read or the manifest
// does not decode (Corruption naming the key); IOError reading a file.
Result<CompactPastPlan> PlanCompactPast(io::FileSystem* fs, const std::string& dir, uint64_t index);

// Applies `plan` (made under the same lock; REQUIRES: plan.refusal empty),
// with `index_term` as the term log/start records for the entry before the
// new first one. On an error before the transaction commits, nothing the
// log lists has changed (a rescue file written is removed, or left unlisted
// for the next open to remove).
Status ApplyCompactPast(io::FileSystem* fs, const std::string& dir, const CompactPastPlan& plan,
                        uint64_t index_term);

// The writer's lock on the log in `dir`, as LogEngine::Open takes it: the
// directory itself, then its LOCK file. Busy if another process holds it.
struct LogDirectoryLock {
  std::unique_ptr<io::FileLock> dir;
  std::unique_ptr<io::FileLock> lock_file;
};
Result<LogDirectoryLock> LockLogDirectory(io::FileSystem* fs, const std::string& dir);

}  // namespace raftlog::engine
