#include "tools/active_scan.h"

#include "raftlog/format/record_format.h"
#include "tools/findings.h"

namespace raftlog::tools {

Result<ActiveScan> ScanActiveSegment(SegmentReader* reader, const format::SegmentRecord& record,
                                     uint64_t min_term, const FrameCheck& check,
                                     uint64_t max_index) {
  ActiveScan scan;
  scan.good_end = format::kSegmentHeaderBytes;
  scan.last_index = record.base_index - 1;
  scan.last_term = min_term;
  const uint64_t seed = format::FrameSeed(record.segment_id, record.generation);
  const uint64_t size = reader->size();

  auto header = reader->ReadHeader();
  if (header.ok()) {
    if (header->segment_id != record.segment_id || header->base_index != record.base_index ||
        header->generation != record.generation) {
      scan.bad_offset = 0;
      scan.bad_what = "the segment header (id " + std::to_string(header->segment_id) +
                      ", base index " + std::to_string(header->base_index) + ", generation " +
                      std::to_string(header->generation) + ") does not match the manifest";
    } else {
      scan.header_ok = true;
    }
  } else if (header.status().IsIOError()) {
    return header.status();
  } else {
    RAFTLOG_ASSIGN_OR_RETURN(scan.header_zero, reader->HeaderIsZero());
    if (!scan.header_zero) {
      scan.bad_offset = 0;
      scan.bad_what = StripWhere(header.status(), reader->name());
    }
  }

  if (scan.header_ok) {
    uint64_t offset = format::kSegmentHeaderBytes;
    uint64_t expected = record.base_index;
    while (scan.last_index < max_index) {
      format::FrameError error = format::FrameError::kNone;
      auto frame = reader->ReadFrame(offset, size, seed, &error);
      if (!frame.ok()) {
        if (error == format::FrameError::kNone) return frame.status();  // I/O
        if (error != format::FrameError::kEndOfData) {
          scan.bad_offset = offset;
          scan.bad_what = StripWhere(frame.status(), reader->Where(offset));
        } else {
          // The end of the data only if nothing but zeros follows (as
          // recovery decides): otherwise a torn write or damage.
          RAFTLOG_ASSIGN_OR_RETURN(uint64_t nonzero_end, reader->EndOfNonZero(offset, size));
          if (nonzero_end > offset) {
            scan.bad_offset = offset;
            scan.damage_end = nonzero_end;
            scan.bad_what = "all-zero frame header followed by non-zero bytes up to offset " +
                            std::to_string(nonzero_end);
          }
        }
        break;
      }
      if (frame->header.type == format::FrameType::kFooter) {
        scan.unfinished_seal = true;
        break;
      }
      Status bad;
      if (frame->header.first_index != expected || frame->header.term < scan.last_term) {
        bad = Status::Corruption("frame holds index " + std::to_string(frame->header.first_index) +
                                 " term " + std::to_string(frame->header.term) +
                                 ", expected index " + std::to_string(expected) +
                                 " and a term >= " + std::to_string(scan.last_term));
      } else if (check) {
        bad = check(*frame, offset);
      }
      if (!bad.ok()) {
        scan.bad_offset = offset;
        scan.bad_what = std::string(bad.message());
        break;
      }
      scan.good_frames++;
      expected = frame->header.end_index();
      scan.last_index = expected - 1;
      scan.last_term = frame->header.term;
      offset += frame->frame_bytes;
      scan.good_end = offset;
    }
  }

  if (scan.bad_offset.has_value() || scan.header_zero) {
    // A valid frame further on means the damage is not a torn write at the
    // tail (or, with an all-zero header, that the header was lost).
    const uint64_t from = scan.bad_offset.has_value() ? *scan.bad_offset + format::kFrameAlignment
                                                      : format::kSegmentHeaderBytes;
    // Since format version 2, only a frame whose durable offset passes the
    // damage proves it (see SegmentReader::FindValidFrame).
    std::optional<uint64_t> damage_at;
    if (scan.header_ok && header->version >= 2) damage_at = *scan.bad_offset;
    RAFTLOG_ASSIGN_OR_RETURN(
        scan.valid_after,
        reader->FindValidFrame(from, size, seed, &scan.valid_frames_after, damage_at));
    if (scan.header_zero && scan.valid_after.has_value()) {
      scan.bad_offset = 0;
      scan.bad_what = "the segment header is all zeros, but valid frames follow";
    }
    if (scan.bad_offset.has_value() && scan.damage_end == 0) {  // not known yet
      RAFTLOG_ASSIGN_OR_RETURN(scan.damage_end, reader->EndOfNonZero(*scan.bad_offset, size));
    }
  }
  return scan;
}

}  // namespace raftlog::tools
