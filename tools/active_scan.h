// The scan of an active segment that recovery does (docs/architecture.md
// §4.7), done by the tool without changing anything: where the good frames
// end, and whether what follows is a clean end (zeros), an unfinished seal,
// a torn write (a bad frame with no valid frame after it), or damage
// followed by valid frames. verify reports it; repair acts on it.
//
// Thread-compatible.

#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "raftlog/format/meta_records.h"
#include "raftlog/format/record.h"
#include "raftlog/format/result.h"
#include "tools/segment_reader.h"

namespace raftlog::tools {

struct ActiveScan {
  // The header decoded and matched the manifest record. False with
  // header_zero (never written) or with a bad header (then bad_offset is 0).
  bool header_ok = false;
  bool header_zero = false;
  // The good frames: [64, good_end) holds good_frames frames, the entries
  // base_index .. last_index (last_index = base_index - 1 if none).
  uint64_t good_end = 0;
  uint64_t good_frames = 0;
  uint64_t last_index = 0;
  uint64_t last_term = 0;
  // A valid footer frame follows the good frames: a seal interrupted before
  // the manifest recorded it (the engine finishes it on open).
  bool unfinished_seal = false;

  // Set when the scan stopped at a bad frame (or a bad header, offset 0).
  std::optional<uint64_t> bad_offset;
  std::string bad_what;  // what is wrong, without the file and offset
  // The first valid frame after the bad one that proves the bad spot was
  // durable (version 2 segments: its durable offset passes it; version 1:
  // any valid frame), and how many valid frames follow in all: no proof
  // means a torn write (valid frames of it included); proof means the
  // damage hit acknowledged data.
  std::optional<uint64_t> valid_after;
  uint64_t valid_frames_after = 0;
  // One past the last non-zero byte from bad_offset on: the bytes a cut at
  // bad_offset removes are [bad_offset, damage_end).
  uint64_t damage_end = 0;

  bool torn_tail() const { return bad_offset.has_value() && !valid_after.has_value(); }
  bool corrupt() const { return bad_offset.has_value() && valid_after.has_value(); }
};

// Checks one good frame beyond what DecodeFrame checks (e.g. its payload);
// a non-OK Status (its message saying what is wrong) makes the scan treat
// the frame as bad, as recovery would.
using FrameCheck = std::function<Status(const format::FrameView& frame, uint64_t offset)>;

// Scans the active segment `record` through `reader`. Frames must hold
// consecutive indexes from the record's base index with terms not below
// `min_term` and not decreasing; `check` (may be empty) is called for every
// entries frame that passes those rules. The scan ends, as at a clean end,
// after the frame holding `max_index`: beside a live writer, frames past
// what the engine saw when the command started are its progress, not
// something to judge. Returns IOError if reading fails; everything about the
// bytes is in the result.
Result<ActiveScan> ScanActiveSegment(SegmentReader* reader, const format::SegmentRecord& record,
                                     uint64_t min_term, const FrameCheck& check,
                                     uint64_t max_index = UINT64_MAX);

}  // namespace raftlog::tools
