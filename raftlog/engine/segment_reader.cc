#include "raftlog/engine/segment_reader.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "raftlog/format/coding.h"
#include "raftlog/format/record_format.h"

namespace raftlog::engine {

namespace {

// Bytes read at a time: large enough that small frames cost one pread per
// few thousand, small enough to keep the tool's memory flat.
constexpr uint64_t kWindowBytes = 4u << 20;
// A frame larger than this is mapped for its decoding instead of read into
// the window, so that a corrupt length cannot make the tool allocate a
// gigabyte.
constexpr uint64_t kMaxWindowBytes = 64u << 20;
constexpr uint64_t kScanChunkBytes = 1u << 20;

bool AllZero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

}  // namespace

Result<std::unique_ptr<SegmentReader>> SegmentReader::Open(io::FileSystem* fs,
                                                           const std::string& path,
                                                           std::string name) {
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<io::File> file, fs->Open(path, io::OpenMode::kReadOnly));
  RAFTLOG_ASSIGN_OR_RETURN(const uint64_t size, file->Size());
  return std::unique_ptr<SegmentReader>(
      new SegmentReader(std::move(file), std::string_view(), std::move(name), size));
}

std::unique_ptr<SegmentReader> SegmentReader::FromBytes(std::string_view bytes, std::string name) {
  return std::unique_ptr<SegmentReader>(
      new SegmentReader(nullptr, bytes, std::move(name), bytes.size()));
}

std::string SegmentReader::Where(uint64_t offset) const {
  return name_ + " at offset " + std::to_string(offset);
}

Result<std::string_view> SegmentReader::Read(uint64_t offset, size_t n,
                                             std::string* scratch) const {
  if (offset >= size_) return std::string_view();
  n = static_cast<size_t>(std::min<uint64_t>(n, size_ - offset));
  if (file_ == nullptr) return bytes_.substr(offset, n);
  scratch->resize(n);
  size_t done = 0;
  // PRead is one pread(2); loop until n bytes or the end of the file.
  while (done < n) {
    RAFTLOG_ASSIGN_OR_RETURN(std::string_view got,
                             file_->PRead(offset + done, n - done, scratch->data() + done));
    if (got.empty()) break;
    if (got.data() != scratch->data() + done) {
      std::copy(got.begin(), got.end(), scratch->begin() + static_cast<ptrdiff_t>(done));
    }
    done += got.size();
  }
  scratch->resize(done);
  return std::string_view(*scratch);
}

Result<std::string_view> SegmentReader::Window(uint64_t offset, uint64_t n) {
  if (offset >= size_) return std::string_view();
  n = std::min(n, size_ - offset);
  if (file_ == nullptr) return bytes_.substr(offset, n);
  if (offset >= window_offset_ && offset + n <= window_offset_ + window_.size()) {
    return std::string_view(window_).substr(offset - window_offset_, n);
  }
  window_offset_ = offset;
  RAFTLOG_ASSIGN_OR_RETURN(std::string_view got,
                           Read(offset, static_cast<size_t>(std::max(n, kWindowBytes)), &window_));
  return got.substr(0, std::min<uint64_t>(n, got.size()));
}

Result<format::SegmentHeader> SegmentReader::ReadHeader() {
  std::string scratch;
  RAFTLOG_ASSIGN_OR_RETURN(std::string_view bytes, Read(0, format::kSegmentHeaderBytes, &scratch));
  return format::DecodeSegmentHeader(bytes, name_);
}

Result<bool> SegmentReader::HeaderIsZero() {
  std::string scratch;
  RAFTLOG_ASSIGN_OR_RETURN(std::string_view bytes, Read(0, format::kSegmentHeaderBytes, &scratch));
  return AllZero(bytes);
}

std::string SegmentReader::MessageAfter(const Status& s, std::string_view where) {
  std::string_view msg = s.message();
  if (msg.size() > where.size() + 2 && msg.substr(0, where.size()) == where &&
      msg.substr(where.size(), 2) == ": ") {
    msg.remove_prefix(where.size() + 2);
  }
  return std::string(msg);
}

Result<format::FrameView> SegmentReader::ReadFrame(uint64_t offset, uint64_t limit, uint64_t seed,
                                                   format::FrameError* error) {
  *error = format::FrameError::kNone;  // stays so for an I/O error
  big_frame_.reset();
  limit = std::min(limit, size_);
  const std::string where = Where(offset);
  if (offset >= limit) {
    *error = format::FrameError::kEndOfData;
    return format::DecodeFrame(std::string_view(), seed, where, error);
  }
  const uint64_t avail = limit - offset;
  RAFTLOG_ASSIGN_OR_RETURN(std::string_view head,
                           Window(offset, std::min<uint64_t>(format::kFrameHeaderBytes, avail)));
  // Decide everything that precedes reading the payload (steps 1-4 of
  // DecodeFrame) on the header alone.
  if (head.size() < format::kFrameHeaderBytes || AllZero(head) ||
      head.substr(0, 4) != format::kFrameMagic ||
      format::DecodeFixed32(head.data() + 8) > format::kMaxFramePayloadBytes) {
    return format::DecodeFrame(head, seed, where, error);
  }
  const uint64_t frame_bytes = format::FrameBytes(format::DecodeFixed32(head.data() + 8));
  const uint64_t n = std::min(frame_bytes, avail);
  std::string_view bytes;
  if (n <= kMaxWindowBytes || file_ == nullptr) {
    RAFTLOG_ASSIGN_OR_RETURN(bytes, Window(offset, n));
  } else {
    RAFTLOG_ASSIGN_OR_RETURN(big_frame_, file_->Map(offset, n));
    bytes = big_frame_->bytes();
  }
  return format::DecodeFrame(bytes, seed, where, error);
}

Result<format::Trailer> SegmentReader::ReadTrailer(uint64_t seed, uint64_t file_bytes) {
  if (file_bytes < format::kTrailerBytes || file_bytes > size_) {
    return Status::Corruption(name_ + ": file is " + std::to_string(size_) +
                              " bytes, too short for a trailer ending at " +
                              std::to_string(file_bytes));
  }
  std::string scratch;
  RAFTLOG_ASSIGN_OR_RETURN(std::string_view bytes, Read(file_bytes - format::kTrailerBytes,
                                                        format::kTrailerBytes, &scratch));
  return format::DecodeTrailer(bytes, seed, file_bytes, name_);
}

Result<format::FooterContents> SegmentReader::ReadFooter(uint64_t seed, uint64_t footer_offset,
                                                         uint64_t footer_end) {
  format::FrameError error = format::FrameError::kNone;
  RAFTLOG_ASSIGN_OR_RETURN(format::FrameView frame,
                           ReadFrame(footer_offset, footer_end, seed, &error));
  const std::string where = Where(footer_offset);
  if (frame.header.type != format::FrameType::kFooter) {
    return Status::Corruption(where + ": the trailer points to an entries frame, not a footer");
  }
  if (footer_offset + frame.frame_bytes != footer_end) {
    return Status::Corruption(
        where + ": the footer frame ends at " + std::to_string(footer_offset + frame.frame_bytes) +
        ", not where the trailer begins (" + std::to_string(footer_end) + ")");
  }
  RAFTLOG_ASSIGN_OR_RETURN(format::FooterView view,
                           format::FooterView::Parse(frame.payload, where));
  return view.ToContents();
}

Result<std::optional<uint64_t>> SegmentReader::FindValidFrame(uint64_t from, uint64_t limit,
                                                              uint64_t seed, uint64_t* count,
                                                              std::optional<uint64_t> damage_at) {
  *count = 0;
  limit = std::min(limit, size_);
  std::optional<uint64_t> first;
  constexpr uint64_t kAlign = format::kFrameAlignment;
  uint64_t off = (from + kAlign - 1) & ~(kAlign - 1);
  std::string chunk;
  while (off + format::kFrameHeaderBytes <= limit) {
    // Candidates are the aligned offsets holding the frame magic: read a
    // chunk and decode only those.
    RAFTLOG_ASSIGN_OR_RETURN(std::string_view bytes, Read(off, kScanChunkBytes, &chunk));
    std::optional<uint64_t> found;
    for (uint64_t k = 0; k + format::kFrameMagic.size() <= bytes.size(); k += kAlign) {
      if (off + k + format::kFrameHeaderBytes > limit) break;
      if (bytes.compare(k, format::kFrameMagic.size(), format::kFrameMagic) != 0) continue;
      format::FrameError error = format::FrameError::kNone;
      auto frame = ReadFrame(off + k, limit, seed, &error);
      if (!frame.ok() && error == format::FrameError::kNone) return frame.status();  // I/O
      if (frame.ok()) {
        found = off + k;
        break;
      }
    }
    if (!found.has_value()) {
      off += std::max<uint64_t>(bytes.size() & ~(kAlign - 1), kAlign);
      continue;
    }
    // Walk the run of valid frames that starts there.
    uint64_t pos = *found;
    for (;;) {
      format::FrameError error = format::FrameError::kNone;
      auto frame = ReadFrame(pos, limit, seed, &error);
      if (!frame.ok()) {
        if (error == format::FrameError::kNone) return frame.status();  // I/O
        break;
      }
      if (!first.has_value() &&
          (!damage_at.has_value() || std::min(frame->header.durable_offset, pos) > *damage_at)) {
        first = pos;
      }
      ++*count;
      pos += frame->frame_bytes;
    }
    off = pos + kAlign;
  }
  return first;
}

Result<uint64_t> SegmentReader::EndOfNonZero(uint64_t from, uint64_t limit) {
  limit = std::min(limit, size_);
  std::string chunk;
  uint64_t end = limit;
  while (end > from) {
    const uint64_t begin = end - std::min(end - from, kScanChunkBytes);
    RAFTLOG_ASSIGN_OR_RETURN(std::string_view bytes, Read(begin, end - begin, &chunk));
    // Word at a time: the tail of an active segment is up to a whole
    // segment of preallocated zeros, and every open looks at it.
    size_t k = bytes.size();
    while (k > 0 && k % 8 != 0 && bytes[k - 1] == 0) --k;
    while (k >= 8) {
      uint64_t word;
      std::memcpy(&word, bytes.data() + k - 8, 8);
      if (word != 0) break;
      k -= 8;
    }
    while (k > 0 && bytes[k - 1] == 0) --k;
    if (k > 0) return begin + k;
    end = begin;
  }
  return from;
}

}  // namespace raftlog::engine
