#include "raftlog/engine/segment_scan.h"

#include <algorithm>
#include <utility>

#include "raftlog/format/record_format.h"

namespace raftlog::engine {

std::string_view SegmentFindingName(SegmentFinding finding) {
  switch (finding) {
    case SegmentFinding::kClean:
      return "clean";
    case SegmentFinding::kUnwritten:
      return "unwritten";
    case SegmentFinding::kUnfinishedSeal:
      return "unfinished seal";
    case SegmentFinding::kTornWrite:
      return "torn write";
    case SegmentFinding::kLostAcknowledged:
      return "lost acknowledged data";
    case SegmentFinding::kOutOfSequence:
      return "frame out of sequence";
    case SegmentFinding::kHeaderMismatch:
      return "header does not match the manifest";
    case SegmentFinding::kNewerFormat:
      return "newer format";
    case SegmentFinding::kShortFile:
      return "short file";
    case SegmentFinding::kCutFile:
      return "cut file";
    case SegmentFinding::kStopped:
      return "stopped";
  }
  return "unknown";
}

Result<SegmentScan> ScanSegment(SegmentReader* reader, const format::SegmentRecord& record,
                                const ScanOptions& options) {
  const std::string& name = reader->name();
  const uint64_t size = reader->size();
  const uint64_t seed = format::FrameSeed(record.segment_id, record.generation);
  SegmentScan scan;
  scan.good_end = format::kSegmentHeaderBytes;
  scan.last_index = record.base_index - 1;
  scan.last_term = options.min_term;

  if (size < format::kSegmentHeaderBytes) {
    scan.finding = SegmentFinding::kShortFile;
    scan.refusal =
        Status::Corruption(name + ": active segment is only " + std::to_string(size) + " bytes");
    return scan;
  }

  // Set when the good data ends at something that is not a clean end.
  bool bad = false;
  auto header = reader->ReadHeader();
  if (header.ok()) {
    if (header->segment_id != record.segment_id || header->base_index != record.base_index ||
        header->generation != record.generation) {
      scan.finding = SegmentFinding::kHeaderMismatch;
      scan.damage_offset = 0;
      scan.damage = Status::Corruption(name + ": header (id " + std::to_string(header->segment_id) +
                                       ", base " + std::to_string(header->base_index) +
                                       ") does not match the manifest");
      scan.refusal = scan.damage;
      return scan;
    }
    scan.header = *header;
  } else if (header.status().IsIOError()) {
    return header.status();
  } else if (header.status().IsNotSupported()) {
    scan.finding = SegmentFinding::kNewerFormat;
    scan.refusal = header.status();
    return scan;
  } else {
    RAFTLOG_ASSIGN_OR_RETURN(scan.header_zero, reader->HeaderIsZero());
    if (!scan.header_zero) {
      bad = true;
      scan.damage = header.status();
    } else {
      // No header yet: the first write never reached the disk. Valid frames
      // further on would mean it did, and the header was lost since.
      uint64_t count = 0;
      RAFTLOG_ASSIGN_OR_RETURN(auto any_frame, reader->FindValidFrame(format::kSegmentHeaderBytes,
                                                                       size, seed, &count));
      if (any_frame.has_value()) {
        bad = true;
        scan.damage = Status::Corruption(name + ": the segment header is all zeros");
      }
    }
    scan.damage_offset = 0;
  }

  bool footer = false;
  bool stopped = false;
  if (scan.header.has_value()) {
    uint64_t offset = format::kSegmentHeaderBytes;
    uint64_t expected = record.base_index;
    for (;;) {
      if (scan.last_index >= options.max_index) {
        stopped = true;
        break;
      }
      format::FrameError error = format::FrameError::kNone;
      auto frame = reader->ReadFrame(offset, size, seed, &error);
      if (!frame.ok()) {
        if (error == format::FrameError::kNone) return frame.status();  // I/O
        if (error != format::FrameError::kEndOfData) {
          bad = true;
          scan.damage = frame.status();
          scan.damage_offset = offset;
        } else if (scan.header->stale_tail()) {
          // A recycled file: stale bytes of an earlier segment follow the
          // frames, and the writer put this all-zero header after the last
          // frame it wrote. It ends the frames unless a later frame of this
          // segment proves that it was durable (so the zeros stand where
          // acknowledged frames were: a lost sector). Stale frames cannot
          // pass for this segment's: their checksums have another seed.
          uint64_t count = 0;
          RAFTLOG_ASSIGN_OR_RETURN(
              auto proof, reader->FindValidFrame(offset + format::kFrameAlignment, size, seed,
                                                 &count, offset));
          if (proof.has_value()) {
            bad = true;
            scan.damage = Status::Corruption("all-zero frame header followed by a valid frame at "
                                             "offset " +
                                             std::to_string(*proof));
            scan.damage_offset = offset;
            scan.damage_end = std::min<uint64_t>(size, offset + format::kFrameHeaderBytes);
          }
        } else {
          // An all-zero frame header is the end of the data only if nothing
          // but zeros follows it. Bytes after it are a torn write (its first
          // block lost) or a lost sector in front of acknowledged frames:
          // damage, never silently dropped.
          RAFTLOG_ASSIGN_OR_RETURN(uint64_t data_end, reader->EndOfNonZero(offset, size));
          if (data_end > offset) {
            bad = true;
            scan.damage = Status::Corruption(
                "all-zero frame header followed by non-zero bytes up to offset " +
                std::to_string(data_end));
            scan.damage_offset = offset;
            scan.damage_end = data_end;
          }
        }
        break;
      }
      const format::FrameView& f = *frame;
      if (f.header.type == format::FrameType::kFooter) {
        footer = true;
        scan.footer_offset = offset;
        break;
      }
      if (f.header.first_index != expected || f.header.entry_count == 0 ||
          f.header.term < scan.last_term) {
        scan.finding = SegmentFinding::kOutOfSequence;
        scan.damage_offset = offset;
        scan.damage = Status::Corruption(
            name + " at offset " + std::to_string(offset) + ": frame holds index " +
            std::to_string(f.header.first_index) + " term " + std::to_string(f.header.term) +
            ", expected index " + std::to_string(expected) + " and a term >= " +
            std::to_string(scan.last_term));
        scan.refusal = scan.damage;
        return scan;
      }
      if (options.on_frame) {
        Status check = options.on_frame(f, offset);
        if (!check.ok()) {
          bad = true;
          scan.damage = std::move(check);
          scan.damage_offset = offset;
          break;
        }
      }
      scan.good_frames++;
      expected = f.header.end_index();
      scan.last_index = expected - 1;
      scan.last_term = f.header.term;
      scan.commit_hint = std::max(scan.commit_hint, f.header.commit);
      scan.durable_seen = std::max(scan.durable_seen, std::min(f.header.durable_offset, offset));
      offset += f.frame_bytes;
      scan.good_end = offset;
    }
  }

  // Only a seal shortens an active segment's file, after its footer is
  // durable: a shorter file without a footer was cut (a bad copy, a
  // truncation), and the entries cut off may have been acknowledged. (Not
  // judged when the scan stopped at max_index: beside a live writer the
  // footer of a seal since may be past it.)
  if (scan.header.has_value() && !footer && !stopped && size < scan.header->segment_bytes) {
    scan.finding = SegmentFinding::kCutFile;
    scan.refusal = Status::Corruption(
        name + ": active segment file is " + std::to_string(size) + " bytes, but its header says " +
        std::to_string(scan.header->segment_bytes) +
        " and no seal footer is present: the file was cut (its valid frames end at offset " +
        std::to_string(scan.good_end) + ", entry " + std::to_string(scan.last_index) +
        "); refusing to open under every recovery policy");
    return scan;
  }

  if (!bad) {
    scan.finding = footer    ? SegmentFinding::kUnfinishedSeal
                   : stopped ? SegmentFinding::kStopped
                   : scan.header_zero ? SegmentFinding::kUnwritten
                                      : SegmentFinding::kClean;
    return scan;
  }

  // Is there a valid frame of this segment after the bad spot that proves it
  // was durable when it was written? Then this is not a torn write at the
  // tail: acknowledged data was lost or follows the damage. Since format
  // version 2 each frame says how much of the segment its writer knew
  // durable (FrameHeader::durable_offset): valid frames that do not reach
  // past the bad spot were written in the same unsynced stretch as it, so
  // they are part of the torn write. (Version 1 segments: any valid frame
  // counts. Without a readable header, the version 2 rule applies.)
  const bool durable_offsets = !scan.header.has_value() || scan.header->version >= 2;
  const uint64_t from = scan.damage_offset == 0 ? format::kSegmentHeaderBytes
                                                : scan.damage_offset + format::kFrameAlignment;
  RAFTLOG_ASSIGN_OR_RETURN(
      scan.valid_after,
      reader->FindValidFrame(from, size, seed, &scan.valid_frames_after,
                             durable_offsets ? std::optional<uint64_t>(scan.damage_offset)
                                             : std::nullopt));
  if (scan.damage_end == 0 && scan.header.has_value() && scan.header->stale_tail()) {
    // What follows the damage in a recycled file may be stale bytes, not a
    // torn write's: its extent is unknown. An all-zero frame header at the
    // damage is all a cut needs (the end of the frames, above).
    scan.damage_end = std::min<uint64_t>(size, scan.damage_offset + format::kFrameHeaderBytes);
  } else if (scan.damage_end == 0) {
    RAFTLOG_ASSIGN_OR_RETURN(scan.damage_end, reader->EndOfNonZero(scan.damage_offset, size));
  }
  scan.finding =
      scan.valid_after.has_value() ? SegmentFinding::kLostAcknowledged : SegmentFinding::kTornWrite;
  return scan;
}

Status CheckFramePayload(const format::FrameView& frame, format::Decompressor* decompressor,
                         std::string* scratch) {
  constexpr std::string_view kWhere = "payload";
  auto problem = [&](const Status& s) {
    std::string_view msg = s.message();
    if (msg.starts_with(kWhere) && msg.substr(kWhere.size()).starts_with(": ")) {
      msg.remove_prefix(kWhere.size() + 2);
    }
    return Status::Corruption(std::string(msg));
  };
  auto raw = format::RawPayload(frame, decompressor, scratch, kWhere);
  if (!raw.ok()) return problem(raw.status());
  auto payload = format::EntriesPayload::Parse(*raw, frame.header.entry_count, kWhere);
  if (!payload.ok()) return problem(payload.status());
  return Status::OK();
}

std::string DescribeDamage(const SegmentScan& scan, std::string_view name) {
  return std::string(name) + ": bad frame at offset " + std::to_string(scan.damage_offset) + " (" +
         std::string(scan.damage.message()) + ")";
}

Status RecoveryVerdict(const SegmentScan& scan, std::string_view name, RecoveryPolicy policy) {
  if (scan.refused()) return scan.refusal;
  if (!scan.damaged()) return Status::OK();
  const std::string what = DescribeDamage(scan, name);
  if (scan.finding == SegmentFinding::kLostAcknowledged &&
      policy != RecoveryPolicy::kTolerateCorruptedTail) {
    return Status::Corruption(what + ", followed by a valid frame at offset " +
                              std::to_string(*scan.valid_after) +
                              ": this is not a torn write, and cutting here would lose "
                              "acknowledged entries. Refusing to open (see "
                              "Options::recovery and `raftlog verify`/`raftlog repair`)");
  }
  if (policy == RecoveryPolicy::kAbsoluteConsistency) {
    return Status::Corruption(what +
                              " at the end of the log (a torn write); "
                              "RecoveryPolicy::kAbsoluteConsistency forbids cutting it");
  }
  return Status::OK();
}

}  // namespace raftlog::engine
