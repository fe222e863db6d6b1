#include "raftlog/format/segment_footer.h"

#include <cstring>
#include <string>

#include "raftlog/format/checksum.h"
#include "raftlog/format/coding.h"
#include "raftlog/format/record_format.h"

namespace raftlog::format {

namespace {

constexpr size_t kFooterFixedBytes = 16;  // frame count, term-run count, last index
constexpr size_t kFrameRefBytes = 8;
constexpr size_t kTermRunBytes = 16;

constexpr size_t kTrailerFooterOffsetOffset = 8;
constexpr size_t kTrailerFileBytesOffset = 16;
constexpr size_t kTrailerChecksumOffset = 24;
static_assert(kTrailerChecksumOffset + 8 == kTrailerBytes);

Status FooterError(std::string_view where, std::string_view problem) {
  std::string msg(where);
  msg += ": footer: ";
  msg += problem;
  return Status::Corruption(msg);
}

Status TrailerError(std::string_view file, std::string_view problem) {
  std::string msg(file);
  msg += ": segment trailer: ";
  msg += problem;
  return Status::Corruption(msg);
}

}  // namespace

std::string EncodeFooterPayload(const FooterContents& footer) {
  RAFTLOG_CHECK_MSG(footer.frames.size() <= UINT32_MAX && footer.term_runs.size() <= UINT32_MAX,
                    "EncodeFooterPayload: too many frames or term runs");
  // The writer's invariants are the reader's checks (FooterView::Parse): a
  // footer that would not parse is a bug in the writer, caught here.
  for (size_t k = 1; k < footer.frames.size(); ++k) {
    RAFTLOG_CHECK_MSG(footer.frames[k - 1].offset < footer.frames[k].offset &&
                          footer.frames[k - 1].index_delta < footer.frames[k].index_delta,
                      "EncodeFooterPayload: frames out of order");
  }
  for (size_t k = 1; k < footer.term_runs.size(); ++k) {
    RAFTLOG_CHECK_MSG(footer.term_runs[k - 1].first_index < footer.term_runs[k].first_index,
                      "EncodeFooterPayload: term runs out of order");
  }
  std::string out;
  out.reserve(kFooterFixedBytes + kFrameRefBytes * footer.frames.size() +
              kTermRunBytes * footer.term_runs.size());
  PutFixed32(&out, static_cast<uint32_t>(footer.frames.size()));
  PutFixed32(&out, static_cast<uint32_t>(footer.term_runs.size()));
  PutFixed64(&out, footer.last_index);
  for (const FrameRef& f : footer.frames) {
    PutFixed32(&out, f.offset);
    PutFixed32(&out, f.index_delta);
  }
  for (const TermRun& r : footer.term_runs) {
    PutFixed64(&out, r.first_index);
    PutFixed64(&out, r.term);
  }
  return out;
}

Result<FooterView> FooterView::Parse(std::string_view payload, std::string_view where) {
  if (payload.size() < kFooterFixedBytes) {
    return FooterError(where, "truncated: " + std::to_string(payload.size()) + " of at least " +
                                  std::to_string(kFooterFixedBytes) + " bytes");
  }
  const uint32_t frame_count = DecodeFixed32(payload.data());
  const uint32_t run_count = DecodeFixed32(payload.data() + 4);
  const uint64_t last_index = DecodeFixed64(payload.data() + 8);
  // 64-bit arithmetic: two u32 counts cannot overflow it.
  const uint64_t need = kFooterFixedBytes + uint64_t{kFrameRefBytes} * frame_count +
                        uint64_t{kTermRunBytes} * run_count;
  if (need != payload.size()) {
    return FooterError(where, std::to_string(frame_count) + " frames and " +
                                  std::to_string(run_count) + " term runs need " +
                                  std::to_string(need) + " bytes, the payload has " +
                                  std::to_string(payload.size()));
  }
  if ((frame_count == 0) != (run_count == 0)) {
    return FooterError(where, std::to_string(frame_count) + " frames but " +
                                  std::to_string(run_count) + " term runs");
  }

  FooterView v;
  v.frames_ = payload.substr(kFooterFixedBytes, uint64_t{kFrameRefBytes} * frame_count);
  v.runs_ = payload.substr(kFooterFixedBytes + v.frames_.size());
  v.last_index_ = last_index;
  v.frame_count_ = frame_count;
  v.run_count_ = run_count;

  // FindFrame's binary search needs the table sorted; check it once here.
  for (uint32_t k = 0; k < frame_count; ++k) {
    const FrameRef f = v.frame(k);
    if (f.offset < kSegmentHeaderBytes || f.offset % kFrameAlignment != 0) {
      return FooterError(where, "frame " + std::to_string(k) + " has an invalid offset " +
                                    std::to_string(f.offset));
    }
    if (k > 0) {
      const FrameRef prev = v.frame(k - 1);
      if (f.offset <= prev.offset || f.index_delta <= prev.index_delta) {
        return FooterError(where, "frame " + std::to_string(k) + " (offset " +
                                      std::to_string(f.offset) + ", index delta " +
                                      std::to_string(f.index_delta) + ") does not follow frame " +
                                      std::to_string(k - 1) + " (offset " +
                                      std::to_string(prev.offset) + ", index delta " +
                                      std::to_string(prev.index_delta) + ")");
      }
    }
  }
  for (uint32_t k = 0; k < run_count; ++k) {
    const TermRun r = v.term_run(k);
    if (k > 0 && r.first_index <= v.term_run(k - 1).first_index) {
      return FooterError(where, "term run " + std::to_string(k) + " starts at index " +
                                    std::to_string(r.first_index) + ", not after term run " +
                                    std::to_string(k - 1) + " (index " +
                                    std::to_string(v.term_run(k - 1).first_index) + ")");
    }
    if (r.first_index > last_index) {
      return FooterError(where, "term run " + std::to_string(k) + " starts at index " +
                                    std::to_string(r.first_index) + ", after the last index " +
                                    std::to_string(last_index));
    }
  }
  return v;
}

FrameRef FooterView::frame(uint32_t k) const {
  RAFTLOG_CHECK(k < frame_count_);
  const char* p = frames_.data() + uint64_t{kFrameRefBytes} * k;
  return FrameRef{DecodeFixed32(p), DecodeFixed32(p + 4)};
}

TermRun FooterView::term_run(uint32_t k) const {
  RAFTLOG_CHECK(k < run_count_);
  const char* p = runs_.data() + uint64_t{kTermRunBytes} * k;
  return TermRun{DecodeFixed64(p), DecodeFixed64(p + 8)};
}

uint32_t FooterView::FindFrame(uint32_t index_delta) const {
  // Find the first frame whose delta exceeds index_delta (upper bound); the
  // one before it is the answer. Parse checked the deltas strictly increase.
  uint32_t lo = 0;
  uint32_t hi = frame_count_;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    const uint32_t delta = DecodeFixed32(frames_.data() + uint64_t{kFrameRefBytes} * mid + 4);
    if (delta <= index_delta) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo == 0 ? frame_count_ : lo - 1;
}

FooterContents FooterView::ToContents() const {
  FooterContents c;
  c.last_index = last_index_;
  c.frames.reserve(frame_count_);
  for (uint32_t k = 0; k < frame_count_; ++k) c.frames.push_back(frame(k));
  c.term_runs.reserve(run_count_);
  for (uint32_t k = 0; k < run_count_; ++k) c.term_runs.push_back(term_run(k));
  return c;
}

std::string EncodeTrailer(uint64_t footer_offset, uint64_t file_bytes, uint64_t seed) {
  std::string out(kTrailerBytes, '\0');
  char* p = out.data();
  std::memcpy(p, kTrailerMagic.data(), kTrailerMagic.size());
  EncodeFixed64(p + kTrailerFooterOffsetOffset, footer_offset);
  EncodeFixed64(p + kTrailerFileBytesOffset, file_bytes);
  EncodeFixed64(p + kTrailerChecksumOffset,
                Checksum64(std::string_view(p, kTrailerChecksumOffset), seed));
  return out;
}

Result<Trailer> DecodeTrailer(std::string_view last_32_bytes, uint64_t seed,
                              uint64_t actual_file_bytes, std::string_view file) {
  if (last_32_bytes.size() != kTrailerBytes) {
    return TrailerError(file, "expected " + std::to_string(kTrailerBytes) + " bytes, got " +
                                  std::to_string(last_32_bytes.size()));
  }
  const char* p = last_32_bytes.data();
  if (std::string_view(p, kTrailerMagic.size()) != kTrailerMagic) {
    return TrailerError(file, "bad magic (the segment is not sealed)");
  }
  const uint64_t stored = DecodeFixed64(p + kTrailerChecksumOffset);
  const uint64_t actual = Checksum64(last_32_bytes.substr(0, kTrailerChecksumOffset), seed);
  if (stored != actual) {
    return TrailerError(file,
                        "checksum mismatch (corrupt, or the trailer of another segment "
                        "or generation)");
  }
  Trailer t;
  t.footer_offset = DecodeFixed64(p + kTrailerFooterOffsetOffset);
  t.file_bytes = DecodeFixed64(p + kTrailerFileBytesOffset);
  if (t.file_bytes != actual_file_bytes) {
    return TrailerError(file, "records a file size of " + std::to_string(t.file_bytes) +
                                  " bytes, but the file has " + std::to_string(actual_file_bytes));
  }
  // The footer frame lies between the segment header and the trailer.
  if (t.file_bytes < kSegmentHeaderBytes + kFrameHeaderBytes + kTrailerBytes ||
      t.footer_offset < kSegmentHeaderBytes || t.footer_offset % kFrameAlignment != 0 ||
      t.footer_offset > t.file_bytes - kTrailerBytes - kFrameHeaderBytes) {
    return TrailerError(file, "footer offset " + std::to_string(t.footer_offset) +
                                  " is not a frame position inside the " +
                                  std::to_string(t.file_bytes) + "-byte file");
  }
  return t;
}

}  // namespace raftlog::format
