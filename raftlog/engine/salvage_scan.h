// SalvageSegment: every frame of a damaged segment that still decodes and
// verifies, and each stretch it had to skip. What `raftlog dump --salvage`
// reads a damaged log with: where ScanSegment (segment_scan.h) and
// ScanSealedSegment (sealed_scan.h) stop at the first loss, or depend on a
// sound footer to go on, this walk looks for the next valid frame of the
// segment itself (SegmentReader::FindValidFrame, the search recovery uses to
// tell a torn write from lost data) and carries on from there.
//
// A frame is delivered only if it decodes with the segment's seed (so its
// checksum holds and it belongs to this segment and generation), holds
// entries after the last one delivered, and its term does not decrease: a
// stale frame of an earlier suffix truncation or a frame out of order is
// skipped like a bad one. The entries a skipped stretch costs are the
// indexes between the good frames around it (for a sealed segment, up to
// its last index when no good frame follows).
//
// The end of an active segment follows recovery's rule (segment_scan.h):
// bad bytes that no later valid frame proves durable are a torn write, which
// held no acknowledged entry; the walk ends there and reports it as such.
//
// Thread-compatible (a plain function over a SegmentReader the caller owns).

#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "raftlog/engine/segment_reader.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/format/record.h"
#include "raftlog/format/result.h"

namespace raftlog::engine {

// A stretch of a segment the walk skipped.
struct SalvageGap {
  // Where the first bad byte is (0 for the segment header), and where good
  // data resumes (the next delivered frame, or one past the last non-zero
  // byte when none follows).
  uint64_t offset = 0;
  uint64_t end = 0;
  // What is wrong, as the decoder says it (without file name and offset).
  std::string what;
  // The entries it costs, [first_index, last_index], when known; both 0
  // when it costs none (a stale frame) or the count is unknown (the end of
  // an active segment, whose last index nothing records).
  uint64_t first_index = 0;
  uint64_t last_index = 0;
  // The end of an active segment that no later valid frame proves durable:
  // a torn write, which held no acknowledged entry (recovery cuts it).
  bool torn_write = false;
};

struct SalvageOptions {
  // Frames must not have a term below this (the term of the segment before).
  uint64_t min_term = 0;
  // An active segment: the offset up to which the metadata records its
  // frames synced (log/durable, when it names this segment); damage below
  // it is never a torn write.
  uint64_t durable_offset = 0;
  // Called for every frame delivered, in order, with its file offset. A
  // non-OK Status (saying what is wrong, e.g. a payload that does not
  // parse) makes the frame a gap instead. May be empty.
  std::function<Status(const format::FrameView& frame, uint64_t offset)> on_frame;
};

struct SalvageScan {
  // In file order.
  std::vector<SalvageGap> gaps;
  uint64_t good_frames = 0;
  // The last entry delivered (base_index - 1 if none), and its term
  // (min_term if none).
  uint64_t last_index = 0;
  uint64_t last_term = 0;

  // A gap that is not a torn write.
  bool damaged() const;
};

// Walks `record`'s segment through `reader` (whose name() names it in
// messages), delivering every good frame up to the end of its data (a
// sealed segment: its footer offset, and entries up to record.last_index;
// frames past that were cut by a suffix truncation and are not delivered).
// IOError if reading fails; everything about the bytes is in the result.
Result<SalvageScan> SalvageSegment(SegmentReader* reader, const format::SegmentRecord& record,
                                   const SalvageOptions& options);

}  // namespace raftlog::engine
