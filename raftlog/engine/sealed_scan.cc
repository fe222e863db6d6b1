#include "raftlog/engine/sealed_scan.h"

#include <algorithm>
#include <utility>

#include "raftlog/format/record_format.h"
#include "raftlog/format/segment_header.h"

namespace raftlog::engine {

namespace {

// `s`'s message without the "<where>: " it starts with.
constexpr auto Strip = &SegmentReader::MessageAfter;

// The trailer and footer, checked against the record (as the engine checks
// them on a sealed segment's first read); a problem otherwise.
std::optional<SealedProblem> ReadEnds(SegmentReader* reader, const format::SegmentRecord& record,
                                      uint64_t seed, std::optional<format::FooterContents>* out) {
  const uint64_t trailer_offset = record.file_bytes - format::kTrailerBytes;
  auto trailer = reader->ReadTrailer(seed, record.file_bytes);
  if (!trailer.ok()) {
    return SealedProblem{trailer_offset, Strip(trailer.status(), reader->name())};
  }
  if (trailer->footer_offset != record.footer_offset) {
    return SealedProblem{trailer_offset, "the trailer points to offset " +
                                             std::to_string(trailer->footer_offset) +
                                             ", the manifest to " +
                                             std::to_string(record.footer_offset)};
  }
  auto footer = reader->ReadFooter(seed, record.footer_offset, trailer_offset);
  if (!footer.ok()) {
    return SealedProblem{record.footer_offset,
                         Strip(footer.status(), reader->Where(record.footer_offset))};
  }
  if (footer->last_index < record.last_index || footer->frames.empty() ||
      footer->frames.front().index_delta != 0 || record.last_index < record.base_index) {
    return SealedProblem{record.footer_offset,
                         "the footer (last index " + std::to_string(footer->last_index) + ", " +
                             std::to_string(footer->frames.size()) +
                             " frames) does not cover the manifest's entries " +
                             std::to_string(record.base_index) + " .. " +
                             std::to_string(record.last_index)};
  }
  *out = std::move(*footer);
  return std::nullopt;
}

// The offset of the frame holding `index`, from the footer's table.
uint64_t SeekFrame(const format::FooterContents& footer, const format::SegmentRecord& record,
                   uint64_t index) {
  if (index <= record.base_index) return format::kSegmentHeaderBytes;
  const uint64_t delta = index - record.base_index;
  auto it = std::upper_bound(footer.frames.begin(), footer.frames.end(), delta,
                             [](uint64_t d, const format::FrameRef& f) { return d < f.index_delta; });
  if (it == footer.frames.begin()) return format::kSegmentHeaderBytes;
  return std::prev(it)->offset;
}

}  // namespace

bool SealedScan::lost() const {
  return std::any_of(problems.begin(), problems.end(),
                     [](const SealedProblem& p) { return !p.compacted; });
}

Result<std::optional<SealedStructureProblem>> CheckSealedStructure(
    SegmentReader* reader, const format::SegmentRecord& record,
    std::optional<format::FooterContents>* footer) {
  using Out = std::optional<SealedStructureProblem>;
  if (reader->size() < record.file_bytes ||
      record.file_bytes < format::kSegmentHeaderBytes + format::kTrailerBytes) {
    return Out(SealedStructureProblem{
        {std::nullopt, "truncated: " + std::to_string(reader->size()) +
                           " bytes, the manifest says " + std::to_string(record.file_bytes)}});
  }
  auto header = reader->ReadHeader();
  if (!header.ok()) {
    if (header.status().IsIOError()) return header.status();
    return Out(SealedStructureProblem{{0, Strip(header.status(), reader->name())}});
  }
  if (header->segment_id != record.segment_id || header->base_index != record.base_index ||
      header->generation != record.generation) {
    return Out(SealedStructureProblem{
        {0, "the header (id " + std::to_string(header->segment_id) + ", base index " +
                std::to_string(header->base_index) + ", generation " +
                std::to_string(header->generation) + ") does not match the manifest (id " +
                std::to_string(record.segment_id) + ", base index " +
                std::to_string(record.base_index) + ", generation " +
                std::to_string(record.generation) + ")"}});
  }
  std::optional<format::FooterContents> contents;
  if (std::optional<SealedProblem> p = ReadEnds(reader, record, header->seed(), &contents)) {
    return Out(SealedStructureProblem{std::move(*p), /*ends_only=*/true});
  }
  if (footer != nullptr) *footer = std::move(contents);
  return Out();
}

Result<SealedScan> ScanSealedSegment(SegmentReader* reader, const format::SegmentRecord& record,
                                     const SealedScanOptions& options) {
  SealedScan scan;
  scan.last_term = options.min_term;
  RAFTLOG_ASSIGN_OR_RETURN(std::optional<SealedStructureProblem> structure,
                           CheckSealedStructure(reader, record, &scan.footer));
  if (structure.has_value()) {
    scan.problems.push_back(std::move(structure->problem));
    if (!structure->ends_only || options.stop_at_loss) return scan;
  }
  const uint64_t seed = format::FrameSeed(record.segment_id, record.generation);
  const std::optional<format::FooterContents>& footer = scan.footer;

  // Every frame up to the footer. After a bad frame the footer's table says
  // where the next one starts and which entries the bad one holds.
  std::vector<format::FrameRef> frames;  // the frames walked, to compare with the footer's
  std::vector<format::TermRun> runs;
  const uint64_t footer_last = footer.has_value() ? footer->last_index : record.last_index;
  const bool seeking = options.from_index > record.base_index && footer.has_value();
  uint64_t offset =
      seeking ? SeekFrame(*footer, record, options.from_index) : format::kSegmentHeaderBytes;
  // The next frame's first index; 0 after a seek, until the first frame.
  uint64_t expected = seeking ? 0 : record.base_index;
  bool resynced = seeking;  // frames were skipped: no whole-segment comparisons
  while (offset < record.footer_offset) {
    format::FrameError error = format::FrameError::kNone;
    auto frame = reader->ReadFrame(offset, record.footer_offset, seed, &error);
    Status bad;
    if (!frame.ok()) {
      if (error == format::FrameError::kNone) return frame.status();  // I/O
      bad = Status::Corruption(Strip(frame.status(), reader->Where(offset)));
    } else if (frame->header.type == format::FrameType::kFooter) {
      bad = Status::Corruption("a footer frame before the manifest's footer offset " +
                               std::to_string(record.footer_offset));
    } else if (frame->header.first_index > footer_last) {
      // Dead frames after a suffix truncation: not part of the log, never
      // read; they only need to be frames.
      offset += frame->frame_bytes;
      continue;
    } else if ((expected != 0 && frame->header.first_index != expected) ||
               frame->header.term < scan.last_term) {
      bad = Status::Corruption("frame holds index " + std::to_string(frame->header.first_index) +
                               " term " + std::to_string(frame->header.term) + ", expected index " +
                               std::to_string(expected) + " and a term >= " +
                               std::to_string(scan.last_term));
    } else if (options.on_frame) {
      bad = options.on_frame(*frame, offset);
    }
    if (!bad.ok()) {
      SealedProblem problem{offset, std::string(bad.message())};
      auto next = footer.has_value()
                      ? std::upper_bound(footer->frames.begin(), footer->frames.end(), offset,
                                         [](uint64_t o, const format::FrameRef& f) {
                                           return o < f.offset;
                                         })
                      : std::vector<format::FrameRef>::const_iterator();
      const bool listed = footer.has_value() && next != footer->frames.begin() &&
                          std::prev(next)->offset == offset;
      if (listed) {
        problem.first_index = record.base_index + std::prev(next)->index_delta;
        problem.last_index = next != footer->frames.end()
                                 ? record.base_index + next->index_delta - 1
                                 : footer->last_index;
        problem.compacted = problem.last_index < options.first_index;
      }
      const bool loss = !problem.compacted;
      scan.problems.push_back(std::move(problem));
      if (!listed || (loss && options.stop_at_loss)) return scan;
      if (next == footer->frames.end()) break;
      offset = next->offset;
      expected = record.base_index + next->index_delta;
      resynced = true;
      continue;
    }
    const format::FrameView& f = *frame;
    frames.push_back(format::FrameRef{static_cast<uint32_t>(offset),
                                      static_cast<uint32_t>(f.header.first_index -
                                                            record.base_index)});
    if (runs.empty() || runs.back().term != f.header.term) {
      runs.push_back(format::TermRun{f.header.first_index, f.header.term});
    }
    scan.good_frames++;
    scan.last_term = std::max(scan.last_term, f.header.term);
    expected = f.header.end_index();
    offset += f.frame_bytes;
    if (f.header.end_index() - 1 >= options.max_index) {
      scan.stopped = true;
      return scan;
    }
  }
  if (!resynced && expected <= record.last_index) {
    scan.problems.push_back(
        {record.footer_offset, "the frames end at index " + std::to_string(expected - 1) +
                                   " but the manifest says the segment ends at " +
                                   std::to_string(record.last_index)});
  }
  if (footer.has_value() && !resynced) {
    if (frames != footer->frames) {
      scan.problems.push_back({record.footer_offset,
                               "the footer's frame table (" + std::to_string(footer->frames.size()) +
                                   " frames) does not match the segment's frames (" +
                                   std::to_string(frames.size()) + ")"});
    } else if (runs != footer->term_runs) {
      scan.problems.push_back(
          {record.footer_offset, "the footer's term runs do not match the frames' terms"});
    }
  }
  return scan;
}

Result<std::optional<format::SegmentRecord>> DescribeSegmentFile(SegmentReader* reader,
                                                                 uint64_t id) {
  auto header = reader->ReadHeader();
  if (!header.ok()) {
    if (header.status().IsIOError()) return header.status();
    return std::optional<format::SegmentRecord>();
  }
  if (header->segment_id != id) return std::optional<format::SegmentRecord>();
  format::SegmentRecord r;
  r.segment_id = id;
  r.base_index = header->base_index;
  r.generation = header->generation;
  r.state = format::SegmentState::kActive;
  const uint64_t size = reader->size();
  auto trailer = reader->ReadTrailer(header->seed(), size);
  if (trailer.ok()) {
    auto footer =
        reader->ReadFooter(header->seed(), trailer->footer_offset, size - format::kTrailerBytes);
    if (footer.ok()) {
      r.state = format::SegmentState::kSealed;
      r.last_index = footer->last_index;
      r.footer_offset = trailer->footer_offset;
      r.file_bytes = size;
    }
  }
  return std::optional<format::SegmentRecord>(r);
}

Result<std::optional<format::SegmentRecord>> DescribeSegmentFileNamed(io::FileSystem* fs,
                                                                      const std::string& path,
                                                                      const std::string& name) {
  using None = std::optional<format::SegmentRecord>;
  std::optional<uint64_t> id = format::layout::ParseSegmentFileName(name);
  const auto compressed = format::layout::ParseCompressedSegmentFileName(name);
  if (compressed.has_value()) id = compressed->id;
  if (!id.has_value()) return None();
  auto reader = SegmentReader::Open(fs, path, name);
  if (!reader.ok()) return None();
  RAFTLOG_ASSIGN_OR_RETURN(None described, DescribeSegmentFile(reader->get(), *id));
  if (!described.has_value() || !compressed.has_value()) return described;
  // A rewrite is complete only once sealed; its header names its generation.
  if (described->state != format::SegmentState::kSealed ||
      described->generation != compressed->generation) {
    return None();
  }
  described->form = format::SegmentForm::kCompressed;
  return described;
}

void OneRecordPerSegment(std::vector<format::SegmentRecord>* records) {
  std::stable_sort(records->begin(), records->end(), [](const auto& a, const auto& b) {
    return a.segment_id != b.segment_id ? a.segment_id < b.segment_id
                                        : !a.compressed() && b.compressed();
  });
  records->erase(std::unique(records->begin(), records->end(),
                             [](const auto& a, const auto& b) { return a.segment_id == b.segment_id; }),
                 records->end());
}

}  // namespace raftlog::engine
