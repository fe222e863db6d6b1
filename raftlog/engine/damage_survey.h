// SurveyDamage: every problem in a log's segments, each with the entries it
// costs, read through the one scanner of each kind (ScanSealedSegment for
// sealed segments, ScanSegment for the active one) without opening the
// engine. What decides whether damage lies wholly below an index (a
// snapshot's), so that moving the log's start past it loses nothing the
// snapshot does not hold: DiskStorage::RepairCompactTo acts on it, and the
// raftlog tool's verify and info report it.
//
// Read-only: opens meta.mdb read-only (no lock) and every segment file
// O_RDONLY. Thread-compatible.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "raftlog/format/meta_records.h"
#include "raftlog/format/result.h"
#include "raftlog/io/file_system.h"

namespace raftlog::engine {

// One problem in a segment.
struct LogDamage {
  uint64_t segment_id = 0;
  std::string file;                // "segments/<id>.seg"
  std::optional<uint64_t> offset;  // nullopt: the file as a whole (missing, short)
  std::string what;
  // The entries it makes unreadable, when known ([first_index, last_index]);
  // else both 0 and the whole segment counts (a damaged header, trailer or
  // footer makes the engine refuse every read of the segment).
  uint64_t first_index = 0;
  uint64_t last_index = 0;
  // The segment's range: [segment_first, segment_last]; an active segment's
  // last is UINT64_MAX (nothing records it). Both 0 for damage that costs
  // no entry (bytes that are not the log's between two frames holding
  // consecutive entries: compact_repair.h).
  uint64_t segment_first = 0;
  uint64_t segment_last = 0;
  // A torn write at the end of the active segment: nothing acknowledged is
  // in it, and the engine cuts it on its next open.
  bool torn_write = false;

  // The highest index this damage may cost: last_index when known, else
  // the segment's last.
  uint64_t reach() const { return first_index != 0 ? last_index : segment_last; }
  // The lowest index it may cost.
  uint64_t from() const { return first_index != 0 ? first_index : segment_first; }
};

struct DamageSurvey {
  // log/start: the first index and the term before it.
  uint64_t first_index = 1;
  uint64_t prev_term = 0;
  // The manifest, in segment id order.
  std::vector<format::SegmentRecord> segments;
  // log/next_segment_id, log/generation, and log/durable when it decodes.
  uint64_t next_segment_id = 0;
  uint64_t generation = 0;
  std::optional<format::DurableRecord> durable;
  // In segment order, then file order. Torn writes included.
  std::vector<LogDamage> damage;

  // Damage (not a torn write) that costs an entry at or above `index`, or
  // nullptr if all of it lies below `index` (or there is none).
  const LogDamage* FirstReaching(uint64_t index) const;
  // Damage (not a torn write) costing any live entry (at or above
  // first_index).
  bool live_damage() const { return FirstReaching(first_index) != nullptr; }
};

// Surveys the log in `dir`. Errors: the metadata cannot be read or the
// manifest does not decode (the survey needs it: Corruption naming the key),
// IOError reading a file. Everything about the segments' bytes is in the
// result.
Result<DamageSurvey> SurveyDamage(io::FileSystem* fs, const std::string& dir);

// "<file> at offset <n>: <what> (entries a .. b)": for messages.
std::string DescribeLogDamage(const LogDamage& damage);

}  // namespace raftlog::engine
