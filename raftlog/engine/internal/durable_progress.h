// The durable-progress record (format::DurableRecord, LMDB key log/durable):
// what the engine writes about the active segment with every LMDB commit,
// and the check recovery makes against it.
//
// Why: after a clean close, or any LMDB commit, the frames of the active
// segment up to the last fdatasync hold acknowledged entries. Without a
// record of that point, a segment cut at a frame boundary, or zeroed or
// damaged in its last frames, looks exactly like a torn write, and recovery
// would drop acknowledged entries silently. With it, recovery tells the two
// apart up to the recorded offset (docs/crash-safety.md §3a). Past it (the
// appends since the last LMDB commit) the torn-tail rules still decide.
//
// Thread-compatible (plain functions).

#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "raftlog/format/meta_records.h"
#include "raftlog/format/record.h"
#include "raftlog/format/status.h"

namespace raftlog::engine::internal {

class Segment;

// The record for `segment` (the active one) with `durable_offset` bytes of
// it known synced. REQUIRES: durable_offset is the end of a published frame
// of the segment or at most its header's size (then the record claims
// nothing).
format::DurableRecord DurableProgressOf(const Segment& segment, uint64_t durable_offset);

// What recovery's scan of the active segment found.
struct ActiveScan {
  const std::string* file_name = nullptr;
  uint64_t segment_id = 0;
  uint64_t generation = 0;
  uint64_t base_index = 0;
  bool header_ok = false;
  // The valid entries frames, in order (offsets into the file).
  const std::vector<format::FrameRef>* frames = nullptr;
  uint64_t last_index = 0;  // of those frames
  // Where the valid data stops: the end of the last valid frame (also the
  // offset of a seal's footer if one follows).
  uint64_t good_end = 0;
  // Whether a bad frame stops it (else a clean end, a footer or the end of
  // the file), and why, for the message.
  bool bad_frame = false;
  std::string stop_reason;
};

// OK if `record` does not describe this segment or claims nothing, or if the
// scan found valid frames up to its offset, ending exactly there, with the
// last index it names. Else Corruption naming the file, the offset where the
// valid data stops, and the acknowledged entries that are damaged or missing.
Status CheckDurablePrefix(const format::DurableRecord& record, const ActiveScan& scan);

}  // namespace raftlog::engine::internal
