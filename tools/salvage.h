// Salvage: every entry of a damaged log that can still be decoded and
// verified, for `raftlog dump --salvage`. Each segment is walked by the
// library's engine::SalvageSegment (raftlog/engine/salvage_scan.h), which
// skips damaged stretches and goes on at the next valid frame; this file
// joins the segments in order, hands the entries to a WalkVisitor, and
// names each stretch it skipped: the file, the byte range and the entries
// it cost when they are known.
//
// The segments are the manifest's; when meta.mdb cannot be read, each
// segment file describes itself (engine::DescribeSegmentFile), as verify
// does, and every entry found is delivered (the compaction point is not
// known then).
//
// Thread-compatible.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "raftlog/format/status.h"
#include "raftlog/io/file_system.h"
#include "tools/entry_walker.h"

namespace raftlog::tools {

// A stretch the salvage skipped.
struct SkippedRange {
  std::string file;                // "segments/<id>.seg", or "meta.mdb"
  std::optional<uint64_t> offset;  // where the bad bytes start; nullopt: the whole file
  uint64_t end = 0;                // where good data resumes
  // The entries it cost, when known; both 0 when none or unknown.
  uint64_t first_index = 0;
  uint64_t last_index = 0;
  std::string what;
  // The end of the log, a torn write: no acknowledged entry was in it.
  bool torn_write = false;
  // Every entry it cost is below the log's first index: compacted, never
  // read again.
  bool compacted = false;

  // A skip that may have cost acknowledged, live entries.
  bool lost() const { return !torn_write && !compacted; }
};

struct SalvageResult {
  std::vector<SkippedRange> skipped;
  uint64_t entries = 0;  // delivered to the visitor
  // meta.mdb could be read (else the segment files described themselves).
  bool metadata_read = false;
};

// Delivers the entries with index in [from, to] that decode and verify, in
// index order, to `visitor` (until it returns false), and fills *result.
// Returns an error only if the directory is not a log or reading fails
// (IOError); damage is in *result.
Status SalvageEntries(io::FileSystem* fs, const std::string& dir, uint64_t from, uint64_t to,
                      WalkVisitor* visitor, SalvageResult* result);

// "segments/…seg bytes [a, b): entries x .. y (what)", for messages.
std::string DescribeSkipped(const SkippedRange& range);

}  // namespace raftlog::tools
