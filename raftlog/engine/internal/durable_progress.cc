#include "raftlog/engine/internal/durable_progress.h"

#include "raftlog/engine/internal/segment.h"
#include "raftlog/format/segment_header.h"

namespace raftlog::engine::internal {

format::DurableRecord DurableProgressOf(const Segment& segment, uint64_t durable_offset) {
  format::DurableRecord record;
  if (durable_offset <= format::kSegmentHeaderBytes || segment.frame_count() == 0) return record;
  record.segment_id = segment.id();
  record.generation = segment.generation();
  record.durable_offset = durable_offset;
  // The last entry before durable_offset: the one before the first frame
  // that starts at or after it (frames are in offset order).
  uint32_t lo = 0, hi = segment.frame_count();
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (segment.frame(mid).offset < durable_offset) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  record.last_index = lo < segment.frame_count()
                          ? segment.base_index() + segment.frame(lo).index_delta - 1
                          : segment.last_index();
  return record;
}

Status CheckDurablePrefix(const format::DurableRecord& record, const ActiveScan& scan) {
  if (record.segment_id != scan.segment_id || record.durable_offset == 0) return Status::OK();
  const std::string& name = *scan.file_name;
  const std::string claim = "log/durable records entries up to " +
                            std::to_string(record.last_index) + " synced up to offset " +
                            std::to_string(record.durable_offset);
  if (record.generation != scan.generation) {
    return Status::Corruption(name + ": " + claim + " in generation " +
                              std::to_string(record.generation) + ", but the segment is of generation " +
                              std::to_string(scan.generation));
  }
  const uint64_t good_end = scan.header_ok ? scan.good_end : 0;
  if (good_end < record.durable_offset) {
    const uint64_t first_lost = scan.header_ok ? scan.last_index + 1 : scan.base_index;
    // The engine's usual form ("<file>: bad frame at offset N (why)"), so
    // that tools and people see the same message for the same damage.
    const std::string stop = scan.bad_frame ? "bad frame at offset " : "the data ends at offset ";
    return Status::Corruption(
        name + ": " + stop + std::to_string(good_end) + " (" + scan.stop_reason +
        ") inside acknowledged data (" + claim + "): entries " + std::to_string(first_lost) +
        " to " + std::to_string(record.last_index) +
        " are damaged or missing. This is not a torn write; refusing to open under every "
        "recovery policy (restore the log from a replica or a backup)");
  }
  // Valid frames reach the offset: it must fall between two of them, and the
  // entries before it must be the ones the record names.
  bool boundary = record.durable_offset == good_end;
  uint64_t last_before = scan.last_index;
  for (const format::FrameRef& ref : *scan.frames) {
    if (ref.offset >= record.durable_offset) {
      boundary = boundary || ref.offset == record.durable_offset;
      last_before = scan.base_index + ref.index_delta - 1;
      break;
    }
  }
  if (!boundary || last_before != record.last_index) {
    return Status::Corruption(name + ": " + claim + ", but the segment's frames " +
                              (boundary ? "hold entries up to " + std::to_string(last_before) +
                                              " there"
                                        : "do not end at that offset") +
                              " (a damaged segment, or a segment not of this log)");
  }
  return Status::OK();
}

}  // namespace raftlog::engine::internal
