// SealedSegmentWriter: writes a sealed segment file from its entries, given
// one at a time in index order: entries frames of consecutive entries of one
// term (up to about frame_input_bytes of raw payload each), then the footer,
// the trailer, and the segment header last, so that a file cut short by a
// crash never passes for a segment (its header is all zeros). The file is
// any sealed segment as docs/format.md §3 describes it, read by the same
// ScanSealedSegment as every other. What writes one: the compressed rewrite
// of a cold segment (LogEngine::CompressSegment), and the repair that copies
// the entries a damaged active segment holds after a compaction point into
// a segment of their own (compact_repair.h).
//
// The writer does not sync the file: its caller does, before any manifest
// record names it. Thread-compatible.
//
// Private to the engine: not installed.

#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/format/compression.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/format/record.h"
#include "raftlog/format/status.h"
#include "raftlog/io/file_system.h"

namespace raftlog::engine::internal {

class SealedSegmentWriter {
 public:
  // Writes `target`'s segment (its id, base index, generation and last
  // index; the frames' seed is FrameSeed(id, generation)) into `file`
  // (borrowed; must outlive the writer), which must be empty. Frames are
  // compressed as `compression` says (disabled: stored raw).
  SealedSegmentWriter(io::File* file, const format::SegmentRecord& target,
                      const format::CompressionOptions& compression, uint64_t frame_input_bytes);

  // Adds the entry `index`, which must be the next one (the target's base
  // index first), of a term not below the last one's; `commit` is the commit
  // hint of the frame it came from (a frame keeps the largest of its
  // entries'). Corruption if out of order, InvalidArgument if the file would
  // pass 4 GiB, the file's errors otherwise.
  Status Add(uint64_t index, uint64_t term, uint64_t commit, uint8_t type, std::string_view data);

  // Writes the last frame, the footer, the trailer and the header.
  // Corruption unless the entries added end at the target's last index.
  // Sets record->footer_offset, file_bytes and term_runs for the file.
  Status Finish(format::SegmentRecord* record);

  // Bytes of the entries frames written so far (the group being built is
  // not among them until it is flushed).
  uint64_t frame_bytes_written() const { return offset_ - format::kSegmentHeaderBytes; }

 private:
  Status Flush();

  io::File* const file_;
  const format::SegmentRecord target_;
  const uint64_t frame_input_bytes_;
  const uint64_t seed_;
  format::FrameBuilder builder_;
  uint64_t offset_;
  uint64_t next_index_;
  std::vector<format::FrameRef> frames_;
  std::vector<format::TermRun> runs_;
  // The group being built: entries [first_, first_ + types_.size()) of term_.
  uint64_t first_ = 0, term_ = 0, commit_ = 0, group_bytes_ = 0;
  std::vector<uint8_t> types_;
  std::vector<std::string> data_;
};

// Calls fn(index, term, type, data) for each entry of the good entries frame
// `frame` up to max_index, decompressing it (into *scratch) if it is
// compressed; `where` names the frame in errors. Corruption if its payload
// does not decompress or parse; fn's error otherwise.
Status ForEachFrameEntry(
    const format::FrameView& frame, uint64_t max_index, std::string_view where,
    format::Decompressor* decompressor, std::string* scratch,
    const std::function<Status(uint64_t, uint64_t, uint8_t, std::string_view)>& fn);

}  // namespace raftlog::engine::internal
