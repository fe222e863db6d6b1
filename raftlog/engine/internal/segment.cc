#include "raftlog/engine/internal/segment.h"

#include "raftlog/engine/sealed_scan.h"
#include "raftlog/engine/segment_reader.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "raftlog/format/segment_header.h"

namespace raftlog::engine::internal {

Segment::Segment(const format::SegmentRecord& record, std::string file_name)
    : record_(record),
      seed_(format::FrameSeed(record.segment_id, record.generation)),
      file_name_(std::move(file_name)) {}

std::unique_ptr<Segment> Segment::NewActive(const format::SegmentRecord& record,
                                            std::shared_ptr<io::File> file,
                                            std::unique_ptr<io::MappedRegion> mapping,
                                            std::string file_name) {
  std::unique_ptr<Segment> s(new Segment(record, std::move(file_name)));
  s->file_ = std::move(file);
  s->AdoptMapping(std::move(mapping));
  s->open_done_.store(true, std::memory_order_release);
  return s;
}

std::unique_ptr<Segment> Segment::NewSealedLazy(const format::SegmentRecord& record,
                                                io::FileSystem* fs, std::string path,
                                                std::string file_name, bool read_only) {
  std::unique_ptr<Segment> s(new Segment(record, std::move(file_name)));
  s->fs_ = fs;
  s->path_ = std::move(path);
  s->read_only_ = read_only;
  return s;
}

void Segment::AdoptMapping(std::unique_ptr<io::MappedRegion> mapping) const {
  const std::string_view bytes = mapping->bytes();
  std::shared_ptr<const io::MappedRegion> owner(std::move(mapping));
  mapping_watch_ = owner;
  mapped_ = Bytes(std::move(owner), bytes.data(), bytes.size());
}

Status Segment::EnsureOpen() const {
  if (open_done_.load(std::memory_order_acquire)) return Status::OK();
  port::MutexLock lock(&open_mu_);
  if (open_done_.load(std::memory_order_relaxed)) return Status::OK();
  if (!open_error_.ok()) return open_error_;
  open_error_ = OpenSealed();
  if (!open_error_.ok()) return open_error_;
  // Publishes file_, mapped_, footer_ and verified_ to lock-free readers.
  open_done_.store(true, std::memory_order_release);
  return Status::OK();
}

Status Segment::OpenSealed() const {
  const std::string& name = file_name_;
  auto opened = fs_->Open(path_, read_only_ ? io::OpenMode::kReadOnly : io::OpenMode::kReadWrite);
  if (!opened.ok()) {
    return opened.status().WithContext("sealed segment listed in the manifest is unreadable");
  }
  std::shared_ptr<io::File> file(std::move(*opened));
  RAFTLOG_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  // The seal truncates the file to file_bytes, but that truncation need not
  // be durable: a longer file is fine, a shorter one lost data. The checks
  // are ScanSealedSegment's own (CheckSealedStructure, sealed_scan.h), made
  // on the mapping; a file too short to map is judged through pread.
  std::unique_ptr<io::MappedRegion> mapping;
  std::unique_ptr<SegmentReader> reader;
  if (size >= record_.file_bytes &&
      record_.file_bytes >= format::kSegmentHeaderBytes + format::kTrailerBytes) {
    RAFTLOG_ASSIGN_OR_RETURN(mapping, file->Map(0, record_.file_bytes));
    reader = SegmentReader::FromBytes(mapping->bytes(), name);
  } else {
    RAFTLOG_ASSIGN_OR_RETURN(reader, SegmentReader::Open(fs_, path_, name));
  }
  RAFTLOG_ASSIGN_OR_RETURN(std::optional<SealedStructureProblem> problem,
                           CheckSealedStructure(reader.get(), record_, /*footer=*/nullptr));
  if (problem.has_value()) {
    const SealedProblem& p = problem->problem;
    return Status::Corruption((p.offset.has_value() ? Where(*p.offset) : name) + ": " + p.what);
  }
  // Checked: the view of the footer over the mapping. (Only a file too short
  // to map goes through pread, and CheckSealedStructure refuses it.)
  if (mapping == nullptr) return Status::Corruption(name + ": sealed segment is too short");
  const std::string where = Where(record_.footer_offset);
  const std::string_view bytes = mapping->bytes();
  RAFTLOG_ASSIGN_OR_RETURN(format::FrameView footer_frame,
                           format::DecodeFrame(bytes.substr(record_.footer_offset), seed_, where));
  RAFTLOG_ASSIGN_OR_RETURN(format::FooterView footer,
                           format::FooterView::Parse(footer_frame.payload, where));
  file_ = std::move(file);
  AdoptMapping(std::move(mapping));
  footer_ = footer;
  ResizeVerified(footer.frame_count());
  return Status::OK();
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

void Segment::ResizeVerified(uint32_t frames) const {
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
  while (!record_.term_runs.empty() && record_.term_runs.back().first_index > new_last_index) {
    record_.term_runs.pop_back();
  }
}

void Segment::Seal(format::FooterView footer, uint64_t footer_offset, uint64_t file_bytes,
                   std::vector<format::TermRun> term_runs) {
  footer_ = footer;
  frames_.clear();
  mapped_ = mapped_.Slice(0, std::min<uint64_t>(file_bytes, mapped_.size()));
  record_.state = format::SegmentState::kSealed;
  record_.footer_offset = footer_offset;
  record_.file_bytes = file_bytes;
  record_.term_runs = std::move(term_runs);
}

size_t Segment::IndexHeapBytes() const {
  // A lazily opened segment sizes verified_ in its first EnsureOpen, under
  // open_mu_ and a shared index lock only, as GetStats reads this: its size
  // is read once open_done_ publishes it (before, nothing is allocated).
  const uint32_t words = open_done_.load(std::memory_order_acquire) ? verified_words_ : 0;
  return frames_.heap_bytes() + words * sizeof(uint64_t);
}

}  // namespace raftlog::engine::internal
