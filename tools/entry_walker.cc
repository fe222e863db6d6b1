#include "tools/entry_walker.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "raftlog/engine/segment_reader.h"
#include "raftlog/engine/segment_scan.h"
#include "raftlog/format/compression.h"
#include "raftlog/format/record_format.h"
#include "tools/findings.h"

namespace raftlog::tools {

using engine::SegmentReader;

void WalkVisitor::OnSegment(const format::SegmentRecord& /*record*/, uint64_t /*file_bytes*/) {}
void WalkVisitor::OnFrame(const format::SegmentRecord& /*record*/,
                          const format::FrameView& /*frame*/, uint64_t /*offset*/) {}
bool WalkVisitor::OnEntry(const format::EntryView& /*entry*/) { return true; }

namespace {

// The offset of the frame of a sealed segment that holds `index`, from its
// footer; kSegmentHeaderBytes if the footer cannot be read (the walk then
// reads from the start, and finds any damage on its way).
uint64_t SeekSealed(SegmentReader* reader, const format::SegmentRecord& record, uint64_t seed,
                    uint64_t index) {
  if (index <= record.base_index) return format::kSegmentHeaderBytes;
  auto trailer = reader->ReadTrailer(seed, record.file_bytes);
  if (!trailer.ok() || trailer->footer_offset != record.footer_offset) {
    return format::kSegmentHeaderBytes;
  }
  auto footer =
      reader->ReadFooter(seed, record.footer_offset, record.file_bytes - format::kTrailerBytes);
  if (!footer.ok() || footer->frames.empty()) return format::kSegmentHeaderBytes;
  const uint64_t delta = index - record.base_index;
  // The last frame whose first index is at or below `index`.
  auto it =
      std::upper_bound(footer->frames.begin(), footer->frames.end(), delta,
                       [](uint64_t d, const format::FrameRef& f) { return d < f.index_delta; });
  if (it == footer->frames.begin()) return format::kSegmentHeaderBytes;
  return std::prev(it)->offset;
}

// The trailer and footer of a sealed segment: readable, and agreeing with
// the manifest.
Result<format::FooterContents> CheckSealedEnds(SegmentReader* reader,
                                               const format::SegmentRecord& record, uint64_t seed,
                                               WalkResult* result) {
  if (reader->size() < record.file_bytes) {
    return Status::Corruption(reader->name() + ": truncated: " + std::to_string(reader->size()) +
                              " bytes, the manifest says " + std::to_string(record.file_bytes));
  }
  result->at_offset = record.file_bytes - format::kTrailerBytes;
  RAFTLOG_ASSIGN_OR_RETURN(format::Trailer trailer, reader->ReadTrailer(seed, record.file_bytes));
  if (trailer.footer_offset != record.footer_offset) {
    return Status::Corruption(reader->Where(*result->at_offset) + ": the trailer points to offset " +
                              std::to_string(trailer.footer_offset) + ", the manifest to " +
                              std::to_string(record.footer_offset));
  }
  result->at_offset = record.footer_offset;
  RAFTLOG_ASSIGN_OR_RETURN(
      auto footer,
      reader->ReadFooter(seed, record.footer_offset, record.file_bytes - format::kTrailerBytes));
  if (footer.last_index < record.last_index) {
    return Status::Corruption(reader->Where(record.footer_offset) + ": the footer's last index " +
                              std::to_string(footer.last_index) + " is below the manifest's " +
                              std::to_string(record.last_index));
  }
  return footer;
}

}  // namespace

namespace {

// The active segment, through the scan recovery makes (segment_scan.h):
// entries of its good frames are delivered; a torn write is reported, any
// other end the engine refuses is returned as its error.
Status WalkActive(engine::SegmentReader* reader, const format::SegmentRecord& record,
                  const std::string& rel, uint64_t from, uint64_t to, uint64_t* last_term,
                  WalkVisitor* visitor, WalkResult* result, bool* stopped) {
  format::Decompressor decompressor;
  std::string scratch;
  Status payload_error;
  engine::ScanOptions options;
  options.min_term = *last_term;
  options.max_index = to;
  options.on_frame = [&](const format::FrameView& f, uint64_t offset) -> Status {
    if (*stopped) return Status::OK();  // the visitor has what it wanted
    result->at_offset = offset;
    visitor->OnFrame(record, f, offset);
    const uint64_t frame_last = f.header.end_index() - 1;
    const uint64_t lo = std::max(from, f.header.first_index);
    const uint64_t hi = std::min(to, frame_last);
    if (lo <= hi) {
      const std::string where = reader->Where(offset);
      auto raw = format::RawPayload(f, &decompressor, &scratch, where);
      if (!raw.ok()) return payload_error = raw.status();
      auto payload = format::EntriesPayload::Parse(*raw, f.header.entry_count, where);
      if (!payload.ok()) return payload_error = payload.status();
      for (uint64_t index = lo; index <= hi; ++index) {
        const auto i = static_cast<uint32_t>(index - f.header.first_index);
        if (!visitor->OnEntry(format::EntryView{index, f.header.term, payload->type(i),
                                                payload->data(i)})) {
          result->last_index = index;
          *stopped = true;
          return Status::OK();
        }
      }
    }
    if (frame_last >= to) {
      result->end_offset = offset + f.frame_bytes;
      result->last_index = std::max(result->last_index, std::min(frame_last, to));
    }
    return Status::OK();
  };
  RAFTLOG_ASSIGN_OR_RETURN(const engine::SegmentScan scan,
                           engine::ScanSegment(reader, record, options));
  if (*stopped) return Status::OK();
  result->at_offset = scan.damage_offset;
  if (!payload_error.ok()) return payload_error;
  if (scan.refused()) return scan.refusal;
  if (scan.finding == engine::SegmentFinding::kLostAcknowledged) {
    return engine::RecoveryVerdict(scan, reader->name(), engine::RecoveryPolicy::kTolerateTornTail);
  }
  if (scan.finding == engine::SegmentFinding::kTornWrite) {
    result->torn_tail = TornTail{rel, scan.damage_offset, DamageWhat(scan, reader->name())};
  }
  if (scan.finding == engine::SegmentFinding::kStopped) *stopped = true;
  *last_term = scan.last_term;
  result->last_index = std::max(result->last_index, scan.last_index);
  return Status::OK();
}

}  // namespace

Status EntryWalker::Walk(uint64_t from, uint64_t to, bool seek, WalkVisitor* visitor,
                         WalkResult* result) {
  const uint64_t first_index = *meta_->first_index;
  from = std::max(from, first_index);
  *result = WalkResult{};
  result->last_index = first_index - 1;
  format::Decompressor decompressor;
  std::string scratch;
  uint64_t prev_last = 0;  // last index of the previous segment
  uint64_t last_term = 0;
  bool have_prev = false;

  for (size_t k = 0; k < meta_->segments.size(); ++k) {
    const format::SegmentRecord& record = meta_->segments[k];
    const bool sealed = record.state == format::SegmentState::kSealed;
    const std::string rel = SegmentRelPath(record.segment_id);
    result->at_file = rel;
    result->at_offset.reset();
    if (!sealed && k + 1 != meta_->segments.size()) {
      return Status::Corruption(dir_->Path(rel) +
                                ": the manifest lists it as active but it is not the last segment");
    }
    if (have_prev && record.base_index != prev_last + 1) {
      return Status::Corruption(dir_->Path(rel) + ": starts at index " +
                                std::to_string(record.base_index) +
                                " but the previous segment ends at " + std::to_string(prev_last));
    }
    if (record.base_index > to) return Status::OK();
    have_prev = true;
    if (sealed) {
      prev_last = record.last_index;
      result->last_index = std::max(result->last_index, record.last_index);
    }
    // A sealed segment wholly before the range: nothing to read.
    if (seek && sealed && record.last_index < from) continue;

    const std::string path = dir_->SegmentPath(record.segment_id);
    if (!sealed) {
      auto active = SegmentReader::Open(dir_->fs(), path, SegmentFileName(record.segment_id));
      if (!active.ok()) {
        if (!active.status().IsNotFound()) return active.status();
        return Status::Corruption(path + ": missing, but the manifest lists it (entries from index " +
                                  std::to_string(record.base_index) + ")");
      }
      visitor->OnSegment(record, (*active)->size());
      bool stopped = false;
      RAFTLOG_RETURN_IF_ERROR(WalkActive(active->get(), record, rel, from, to, &last_term,
                                         visitor, result, &stopped));
      if (stopped) return Status::OK();
      prev_last = result->last_index;
      continue;
    }
    auto opened = SegmentReader::Open(dir_->fs(), path, path);
    if (!opened.ok()) {
      if (!opened.status().IsNotFound()) return opened.status();
      return Status::Corruption(path + ": missing, but the manifest lists it (entries from index " +
                                std::to_string(record.base_index) + ")");
    }
    std::unique_ptr<SegmentReader> reader = std::move(*opened);
    visitor->OnSegment(record, reader->size());

    result->at_offset = 0;
    auto header = reader->ReadHeader();
    if (!header.ok()) return header.status();
    if (header->segment_id != record.segment_id || header->base_index != record.base_index ||
        header->generation != record.generation) {
      return Status::Corruption(
          path + ": header (id " + std::to_string(header->segment_id) + ", base index " +
          std::to_string(header->base_index) + ", generation " +
          std::to_string(header->generation) + ") does not match the manifest (id " +
          std::to_string(record.segment_id) + ", base index " + std::to_string(record.base_index) +
          ", generation " + std::to_string(record.generation) + ")");
    }
    const uint64_t seed = header->seed();
    // As the engine does on a sealed segment's first read: its trailer and
    // footer must be sound, or none of its entries is served.
    RAFTLOG_ASSIGN_OR_RETURN(const std::optional<format::FooterContents> footer,
                             CheckSealedEnds(reader.get(), record, seed, result));
    const uint64_t limit = record.footer_offset;
    uint64_t offset = seek ? SeekSealed(reader.get(), record, seed, from) : format::kSegmentHeaderBytes;
    uint64_t expected = 0;  // the next frame's first index; 0 until the first frame
    uint64_t seg_last = record.base_index - 1;
    for (;;) {
      result->at_offset = offset;
      format::FrameError error = format::FrameError::kNone;
      auto frame = reader->ReadFrame(offset, limit, seed, &error);
      if (!frame.ok()) {
        if (error == format::FrameError::kNone) return frame.status();  // I/O
        if (error == format::FrameError::kEndOfData && expected > record.last_index) break;
        {
          // A damaged frame whose entries are all compacted away is never
          // read by the engine: note it and go on at the next frame.
          auto next = std::upper_bound(
              footer->frames.begin(), footer->frames.end(), offset,
              [](uint64_t o, const format::FrameRef& fr) { return o < fr.offset; });
          const bool listed = next != footer->frames.begin() && std::prev(next)->offset == offset;
          if (!listed || next == footer->frames.end() ||
              record.base_index + next->index_delta > first_index) {
            if (error != format::FrameError::kEndOfData) return frame.status();
            return Status::Corruption(reader->Where(offset) +
                                      ": no frame where the sealed segment's entries continue "
                                      "(index " +
                                      std::to_string(expected != 0 ? expected : record.base_index) +
                                      ")");
          }
          result->compacted_damage.push_back(CompactedDamage{
              rel, offset, record.base_index + std::prev(next)->index_delta,
              record.base_index + next->index_delta - 1,
              error == format::FrameError::kEndOfData
                  ? std::string("an all-zero frame header")
                  : StripWhere(frame.status(), reader->Where(offset))});
          offset = next->offset;
          expected = record.base_index + next->index_delta;
          continue;
        }
      }
      const format::FrameView& f = *frame;
      if (f.header.type == format::FrameType::kFooter) {
        if (sealed) {
          return Status::Corruption(reader->Where(offset) +
                                    ": footer frame before the manifest's footer offset " +
                                    std::to_string(record.footer_offset));
        }
        break;  // an unfinished seal: the frames before it are the segment
      }
      if (sealed && f.header.first_index > record.last_index) break;  // cut by a truncation
      if ((expected != 0 && f.header.first_index != expected) ||
          (expected == 0 && offset == format::kSegmentHeaderBytes &&
           f.header.first_index != record.base_index) ||
          f.header.term < last_term) {
        return Status::Corruption(reader->Where(offset) + ": frame holds index " +
                                  std::to_string(f.header.first_index) + " term " +
                                  std::to_string(f.header.term) + ", expected index " +
                                  std::to_string(expected != 0 ? expected : record.base_index) +
                                  " and a term >= " + std::to_string(last_term));
      }
      visitor->OnFrame(record, f, offset);
      last_term = f.header.term;
      expected = f.header.end_index();
      const uint64_t frame_last =
          sealed ? std::min(f.header.end_index() - 1, record.last_index) : f.header.end_index() - 1;
      seg_last = frame_last;
      const uint64_t lo = std::max(from, f.header.first_index);
      const uint64_t hi = std::min(to, frame_last);
      if (lo <= hi) {
        const std::string where = reader->Where(offset);
        RAFTLOG_ASSIGN_OR_RETURN(std::string_view raw,
                                 format::RawPayload(f, &decompressor, &scratch, where));
        RAFTLOG_ASSIGN_OR_RETURN(format::EntriesPayload payload,
                                 format::EntriesPayload::Parse(raw, f.header.entry_count, where));
        for (uint64_t index = lo; index <= hi; ++index) {
          const auto i = static_cast<uint32_t>(index - f.header.first_index);
          const format::EntryView entry{index, f.header.term, payload.type(i), payload.data(i)};
          if (!visitor->OnEntry(entry)) {
            result->last_index = index;
            return Status::OK();
          }
        }
      }
      if (frame_last >= to) {
        result->end_offset = offset + f.frame_bytes;
        result->last_index = std::max(result->last_index, std::min(frame_last, to));
        return Status::OK();
      }
      if (sealed && frame_last >= record.last_index) break;
      offset += f.frame_bytes;
    }
    if (!sealed) {
      prev_last = seg_last;
      result->last_index = std::max(result->last_index, seg_last);
    }
  }
  result->reached_end = true;
  return Status::OK();
}

}  // namespace raftlog::tools
