#include "raftlog/engine/internal/sealed_segment_writer.h"

#include <algorithm>
#include <chrono>

#include "raftlog/format/record_format.h"
#include "raftlog/format/segment_footer.h"
#include "raftlog/format/segment_header.h"

namespace raftlog::engine::internal {

SealedSegmentWriter::SealedSegmentWriter(io::File* file, const format::SegmentRecord& target,
                                         const format::CompressionOptions& compression,
                                         uint64_t frame_input_bytes)
    : file_(file),
      target_(target),
      frame_input_bytes_(frame_input_bytes),
      seed_(format::FrameSeed(target.segment_id, target.generation)),
      offset_(format::kSegmentHeaderBytes),
      next_index_(target.base_index) {
  builder_.set_options(compression);
}

Status SealedSegmentWriter::Add(uint64_t index, uint64_t term, uint64_t commit, uint8_t type,
                                std::string_view data) {
  if (index != next_index_) {
    return Status::Corruption("entry " + std::to_string(index) + " where " +
                              std::to_string(next_index_) + " was expected");
  }
  if (!types_.empty() && (term != term_ || group_bytes_ + 5 + data.size() > frame_input_bytes_)) {
    RAFTLOG_RETURN_IF_ERROR(Flush());
  }
  if (runs_.empty() || runs_.back().term != term) {
    if (!runs_.empty() && runs_.back().term > term) {
      return Status::Corruption("term decreases from " + std::to_string(runs_.back().term) +
                                " to " + std::to_string(term) + " at index " +
                                std::to_string(index));
    }
    runs_.push_back(format::TermRun{index, term});
  }
  if (types_.empty()) first_ = index;
  term_ = term;
  commit_ = std::max(commit_, commit);
  types_.push_back(type);
  data_.emplace_back(data);
  group_bytes_ += 5 + data.size();
  ++next_index_;
  return Status::OK();
}

Status SealedSegmentWriter::Finish(format::SegmentRecord* record) {
  if (!types_.empty()) RAFTLOG_RETURN_IF_ERROR(Flush());
  if (next_index_ != target_.last_index + 1) {
    return Status::Corruption("the segment's frames end at index " +
                              std::to_string(next_index_ - 1) + ", its manifest entry at " +
                              std::to_string(target_.last_index));
  }
  format::FooterContents footer;
  footer.last_index = target_.last_index;
  footer.frames = frames_;
  footer.term_runs = runs_;
  const std::string payload = format::EncodeFooterPayload(footer);
  format::FrameBuilder footer_builder;
  footer_builder.BuildFooter(seed_, payload);
  const uint64_t footer_offset = offset_;
  const uint64_t file_bytes = offset_ + footer_builder.frame_bytes() + format::kTrailerBytes;
  const std::string trailer = format::EncodeTrailer(footer_offset, file_bytes, seed_);
  std::vector<std::string_view> pieces(footer_builder.pieces().begin(),
                                       footer_builder.pieces().end());
  pieces.push_back(trailer);
  RAFTLOG_RETURN_IF_ERROR(file_->PWrite(footer_offset, pieces));
  format::SegmentHeader header;
  header.segment_id = target_.segment_id;
  header.base_index = target_.base_index;
  header.generation = target_.generation;
  header.segment_bytes = file_bytes;
  header.created_unix_ns =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  const std::string header_bytes = format::EncodeSegmentHeader(header);
  const std::string_view header_piece[] = {header_bytes};
  RAFTLOG_RETURN_IF_ERROR(file_->PWrite(0, header_piece));
  record->footer_offset = footer_offset;
  record->file_bytes = file_bytes;
  record->term_runs = runs_;
  return Status::OK();
}

Status SealedSegmentWriter::Flush() {
  std::vector<format::EntryView> views(types_.size());
  for (size_t k = 0; k < views.size(); ++k) {
    views[k] = format::EntryView{first_ + k, term_, types_[k], data_[k]};
  }
  builder_.BuildEntries(seed_, commit_, views);
  if (offset_ + builder_.frame_bytes() > UINT32_MAX) {
    return Status::InvalidArgument("the segment would exceed 4 GiB");
  }
  RAFTLOG_RETURN_IF_ERROR(file_->PWrite(offset_, builder_.pieces()));
  frames_.push_back(format::FrameRef{static_cast<uint32_t>(offset_),
                                     static_cast<uint32_t>(first_ - target_.base_index)});
  offset_ += builder_.frame_bytes();
  types_.clear();
  data_.clear();
  group_bytes_ = 0;
  commit_ = 0;
  return Status::OK();
}

Status ForEachFrameEntry(
    const format::FrameView& frame, uint64_t max_index, std::string_view where,
    format::Decompressor* decompressor, std::string* scratch,
    const std::function<Status(uint64_t, uint64_t, uint8_t, std::string_view)>& fn) {
  RAFTLOG_ASSIGN_OR_RETURN(const std::string_view raw,
                           format::RawPayload(frame, decompressor, scratch, where));
  RAFTLOG_ASSIGN_OR_RETURN(format::EntriesPayload payload,
                           format::EntriesPayload::Parse(raw, frame.header.entry_count, where));
  for (uint32_t j = 0; j < payload.size(); ++j) {
    const uint64_t index = frame.header.first_index + j;
    if (index > max_index) break;
    RAFTLOG_RETURN_IF_ERROR(fn(index, frame.header.term, payload.type(j), payload.data(j)));
  }
  return Status::OK();
}

}  // namespace raftlog::engine::internal
