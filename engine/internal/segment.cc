#include "engine/internal/segment.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace raftlog::engine::internal {

std::string SegmentFileName(uint64_t segment_id) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64 ".seg", segment_id);
  return buf;
}

std::optional<uint64_t> ParseSegmentFileName(std::string_view name) {
  if (name.size() != 20 || name.substr(16) != ".seg") return std::nullopt;
  uint64_t id = 0;
  for (char c : name.substr(0, 16)) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    id = (id << 4) | static_cast<uint64_t>(digit);
  }
  return id;
}

Segment::Segment(const format::SegmentRecord& record, std::shared_ptr<io::File> file,
                 std::unique_ptr<io::MappedRegion> mapping, std::string file_name)
    : record_(record),
      seed_(format::FrameSeed(record.segment_id, record.generation)),
      file_(std::move(file)),
      mapping_(std::move(mapping)),
      file_name_(std::move(file_name)) {}

std::unique_ptr<Segment> Segment::NewActive(const format::SegmentRecord& record,
                                            std::shared_ptr<io::File> file,
                                            std::unique_ptr<io::MappedRegion> mapping,
                                            std::string file_name) {
  return std::unique_ptr<Segment>(
      new Segment(record, std::move(file), std::move(mapping), std::move(file_name)));
}

std::unique_ptr<Segment> Segment::NewSealed(const format::SegmentRecord& record,
                                            std::shared_ptr<io::File> file,
                                            std::unique_ptr<io::MappedRegion> mapping,
                                            format::FooterView footer, std::string file_name) {
  std::unique_ptr<Segment> s(
      new Segment(record, std::move(file), std::move(mapping), std::move(file_name)));
  s->footer_ = footer;
  s->ResizeVerified(footer.frame_count());
  return s;
}

uint32_t Segment::frame_count() const {
  return footer_ ? footer_->frame_count() : static_cast<uint32_t>(frames_.size());
}

format::FrameRef Segment::frame(uint32_t k) const {
  return footer_ ? footer_->frame(k) : frames_[k];
}

uint32_t Segment::FindFrame(uint64_t index) const {
  const uint32_t delta = static_cast<uint32_t>(index - base_index());
  if (footer_) return footer_->FindFrame(delta);
  // The last frame whose first index is <= index. Appends make the newest
  // frames the likeliest target: check the last one first.
  const size_t n = frames_.size();
  if (n > 0 && frames_[n - 1].index_delta <= delta) return static_cast<uint32_t>(n - 1);
  // Invariant: frames_[lo].index_delta <= delta < frames_[hi].index_delta.
  size_t lo = 0, hi = n - 1;
  while (hi - lo > 1) {
    const size_t mid = lo + (hi - lo) / 2;
    if (frames_[mid].index_delta <= delta) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return static_cast<uint32_t>(lo);
}

std::string Segment::Where(uint64_t offset) const {
  return file_name_ + " at offset " + std::to_string(offset);
}

Result<format::FrameView> Segment::ReadFrame(uint32_t k) const {
  const uint64_t offset = frame(k).offset;
  const std::string_view all = bytes();
  if (offset >= all.size()) {
    return Status::Corruption("frame index of " + file_name_ + " points past its end (offset " +
                              std::to_string(offset) + ")");
  }
  const uint32_t word = k / 64;
  const uint64_t bit = uint64_t{1} << (k % 64);
  const bool verified = (verified_[word].load(std::memory_order_relaxed) & bit) != 0;
  // The error message's context is built only on failure: this is the read
  // path. (With an empty `where`, format/'s messages start with ": ".)
  if (verified) {
    // Known good: parse the header without hashing the payload again.
    auto view = format::DecodeVerifiedFrame(all.substr(offset), {});
    if (!view.ok()) return Status::Corruption(Where(offset) + std::string(view.status().message()));
    return view;
  }
  auto view = format::DecodeFrame(all.substr(offset), seed_, {});
  if (!view.ok()) return Status::Corruption(Where(offset) + std::string(view.status().message()));
  verified_[word].fetch_or(bit, std::memory_order_relaxed);
  return view;
}

void Segment::ResizeVerified(uint32_t frames) {
  const uint32_t words = (frames + 63) / 64;
  if (words <= verified_words_) return;
  // Grow geometrically so appends stay amortized O(1).
  const uint32_t new_words = std::max(words, verified_words_ * 2);
  auto bigger = std::make_unique<std::atomic<uint64_t>[]>(new_words);
  for (uint32_t i = 0; i < new_words; ++i) {
    bigger[i].store(i < verified_words_ ? verified_[i].load(std::memory_order_relaxed) : 0,
                    std::memory_order_relaxed);
  }
  verified_ = std::move(bigger);
  verified_words_ = new_words;
}

void Segment::PublishFrames(const std::vector<format::FrameRef>& frames, uint64_t new_last_index) {
  const uint32_t first = static_cast<uint32_t>(frames_.size());
  for (const format::FrameRef& f : frames) frames_.push_back(f);
  ResizeVerified(static_cast<uint32_t>(frames_.size()));
  for (uint32_t k = first; k < frames_.size(); ++k) {
    verified_[k / 64].fetch_or(uint64_t{1} << (k % 64), std::memory_order_relaxed);
  }
  record_.last_index = new_last_index;
}

void Segment::CapLastIndex(uint64_t new_last_index) {
  record_.last_index = std::min(record_.last_index, new_last_index);
}

void Segment::Seal(format::FooterView footer, uint64_t footer_offset, uint64_t file_bytes) {
  footer_ = footer;
  frames_.clear();
  record_.state = format::SegmentState::kSealed;
  record_.footer_offset = footer_offset;
  record_.file_bytes = file_bytes;
}

size_t Segment::IndexHeapBytes() const {
  return frames_.heap_bytes() + verified_words_ * sizeof(uint64_t);
}

}  // namespace raftlog::engine::internal
