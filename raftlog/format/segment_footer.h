// The index of a sealed segment: a kFooter frame after the last entries frame,
// followed by a 32-byte trailer at the very end of the file that points to it.
//
// Opening a log reads footers instead of scanning sealed segments, so open
// time does not grow with the log. The frame table has 8 bytes per frame and
// is used in place (mmapped): a sealed segment costs no heap per entry.
//
// Thread-compatible.

#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/format/result.h"

namespace raftlog::format {

// Where a frame starts and which index it begins with, relative to the segment.
struct FrameRef {
  uint32_t offset = 0;       // byte offset of the frame in the segment file
  uint32_t index_delta = 0;  // frame's first index - segment base index
  friend bool operator==(const FrameRef&, const FrameRef&) = default;
};

// A maximal run of consecutive indexes with one term, starting at first_index.
struct TermRun {
  uint64_t first_index = 0;
  uint64_t term = 0;
  friend bool operator==(const TermRun&, const TermRun&) = default;
};

// What a footer says.
struct FooterContents {
  uint64_t last_index = 0;  // the segment's last entry (base index - 1 if empty)
  std::vector<FrameRef> frames;
  std::vector<TermRun> term_runs;
};

// The footer frame's payload (layout in record_format.h and docs/format.md).
// REQUIRES: the contents satisfy FooterView::Parse's ordering checks (frames
// and term runs in increasing order); a violation aborts.
std::string EncodeFooterPayload(const FooterContents& footer);

// A validated view of a footer payload; refers to the payload's bytes, which
// must outlive it (e.g. an mmapped segment).
class FooterView {
 public:
  // Checks that the payload is exactly 16 + 8F + 16R bytes for its counts,
  // that F and R are both zero or both non-zero, that frame offsets are
  // 8-aligned, at least kSegmentHeaderBytes and strictly increasing, that
  // index deltas strictly increase (every entries frame holds >= 1 entry),
  // and that term runs strictly increase in first index and start at or
  // before last_index. Returns Corruption naming `where` otherwise.
  // Cost: one pass over the tables (no allocation); the payload's checksum is
  // the footer frame's, verified by DecodeFrame.
  static Result<FooterView> Parse(std::string_view payload, std::string_view where);

  uint64_t last_index() const { return last_index_; }
  uint32_t frame_count() const { return frame_count_; }
  // REQUIRES: k < frame_count().
  FrameRef frame(uint32_t k) const;
  uint32_t term_run_count() const { return run_count_; }
  // REQUIRES: k < term_run_count().
  TermRun term_run(uint32_t k) const;
  // Index k of the last frame whose index delta is <= index_delta (so the
  // frame that holds base + index_delta, if the segment holds it at all),
  // found by binary search over the in-place table: O(log F), no allocation;
  // frame_count() if none (index_delta precedes the first frame). The caller
  // checks the index against last_index().
  uint32_t FindFrame(uint32_t index_delta) const;
  // A copy of everything, for tools and tests.
  FooterContents ToContents() const;

 private:
  FooterView() = default;
  std::string_view frames_;
  std::string_view runs_;
  uint64_t last_index_ = 0;
  uint32_t frame_count_ = 0;
  uint32_t run_count_ = 0;
};

// The 32 trailer bytes for a footer frame at footer_offset in a file that
// ends at file_bytes (the trailer's own end). `seed` is the segment's
// FrameSeed, so a trailer left over from another segment or generation does
// not validate.
std::string EncodeTrailer(uint64_t footer_offset, uint64_t file_bytes, uint64_t seed);

struct Trailer {
  uint64_t footer_offset = 0;
  uint64_t file_bytes = 0;
};

// Decodes the last 32 bytes of a sealed segment. Returns Corruption naming
// `file` if last_32_bytes is not 32 bytes long, for a wrong magic (the segment
// is not sealed), a bad checksum, a recorded file size other than
// actual_file_bytes, or a footer offset that is not an 8-aligned position
// with room for a frame header between the segment header and the trailer.
// The caller then decodes the footer frame at footer_offset and checks that
// it ends exactly where the trailer begins.
Result<Trailer> DecodeTrailer(std::string_view last_32_bytes, uint64_t seed,
                              uint64_t actual_file_bytes, std::string_view file);

}  // namespace raftlog::format
