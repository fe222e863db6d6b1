#include "raftlog/format/record.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "raftlog/format/checksum.h"
#include "raftlog/format/coding.h"

namespace raftlog::format {

namespace {

// Field offsets within the 56-byte frame header (record_format.h).
constexpr size_t kMagicOffset = 0;
constexpr size_t kTypeOffset = 4;
constexpr size_t kFlagsOffset = 5;
constexpr size_t kReserved1Offset = 6;  // 2 bytes
constexpr size_t kStoredBytesOffset = 8;
constexpr size_t kRawBytesOffset = 12;
constexpr size_t kFirstIndexOffset = 16;
constexpr size_t kTermOffset = 24;
constexpr size_t kEntryCountOffset = 32;
constexpr size_t kDurableOffset = 36;  // 4 bytes: durable offset / 8
constexpr size_t kCommitOffset = 40;
constexpr size_t kChecksumOffset = 48;
static_assert(kChecksumOffset + 8 == kFrameHeaderBytes);

// Bytes of the entry table per entry: one type byte and one u32 end offset.
constexpr uint64_t kTableBytesPerEntry = 5;

constexpr char kZeros[kFrameAlignment] = {};

// Writes every header field but the checksum into dst[0, 48).
void EncodeHeaderFields(const FrameHeader& h, char* dst) {
  std::memcpy(dst + kMagicOffset, kFrameMagic.data(), kFrameMagic.size());
  dst[kTypeOffset] = static_cast<char>(h.type);
  dst[kFlagsOffset] = static_cast<char>(h.flags);
  EncodeFixed16(dst + kReserved1Offset, 0);
  EncodeFixed32(dst + kStoredBytesOffset, h.stored_bytes);
  EncodeFixed32(dst + kRawBytesOffset, h.raw_bytes);
  EncodeFixed64(dst + kFirstIndexOffset, h.first_index);
  EncodeFixed64(dst + kTermOffset, h.term);
  EncodeFixed32(dst + kEntryCountOffset, h.entry_count);
  EncodeFixed32(dst + kDurableOffset, static_cast<uint32_t>(h.durable_offset / kFrameAlignment));
  EncodeFixed64(dst + kCommitOffset, h.commit);
}

// The frame checksum over header bytes [0, 48) and the stored payload. A
// thread-local streaming state keeps DecodeFrame allocation-free after a
// thread's first call (StreamingChecksum allocates its XXH3 state once).
uint64_t FrameChecksum(std::string_view header48, std::string_view payload, uint64_t seed) {
  thread_local StreamingChecksum checksum;
  checksum.Reset(seed);
  checksum.Update(header48);
  checksum.Update(payload);
  return checksum.Digest();
}

std::string Hex64(uint64_t v) {
  char buf[19];
  std::snprintf(buf, sizeof(buf), "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string HexBytes(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    char buf[3];
    std::snprintf(buf, sizeof(buf), "%02x", c);
    out += buf;
  }
  return out;
}

// Records why a frame failed; the message is put together only on failure.
FrameError Fail(FrameError kind, std::string problem, std::string* out) {
  *out = std::move(problem);
  return kind;
}

bool AllZero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

// The decoder behind DecodeFrame and FrameIterator. Returns kNone and sets
// *out, or returns the error and sets *problem to what is wrong, except for
// kEndOfData: then nothing is formatted, so that an iterator reaching the end
// of a segment allocates nothing.
FrameError DecodeFrameImpl(std::string_view bytes, uint64_t seed, FrameView* out,
                           std::string* problem, bool verify_checksum = true) {
  // 1. Zeros where a header would be: the preallocated region nobody wrote.
  //    A frame always starts with its (non-zero) magic, so this cannot be a
  //    frame whose first bytes were lost; that is kBadMagic below.
  const std::string_view head = bytes.substr(0, kFrameHeaderBytes);
  if (AllZero(head)) {
    return FrameError::kEndOfData;
  }
  // 2. Compare as much of the magic as there is: a short range that is not the
  //    start of a frame is not a truncated frame.
  const size_t magic_bytes = std::min(head.size(), kFrameMagic.size());
  if (head.substr(0, magic_bytes) != kFrameMagic.substr(0, magic_bytes)) {
    return Fail(FrameError::kBadMagic,
                "bad frame magic: bytes " + HexBytes(head.substr(0, kFrameMagic.size())) +
                    ", expected " + HexBytes(kFrameMagic) + " (\"RLFR\")",
                problem);
  }
  // 3.
  if (head.size() < kFrameHeaderBytes) {
    return Fail(FrameError::kTruncated,
                "truncated frame header: " + std::to_string(head.size()) + " of " +
                    std::to_string(kFrameHeaderBytes) + " bytes",
                problem);
  }

  const char* p = bytes.data();
  FrameHeader h;
  const auto raw_type = static_cast<uint8_t>(p[kTypeOffset]);
  h.type = static_cast<FrameType>(raw_type);
  h.flags = static_cast<uint8_t>(p[kFlagsOffset]);
  h.stored_bytes = DecodeFixed32(p + kStoredBytesOffset);
  h.raw_bytes = DecodeFixed32(p + kRawBytesOffset);
  h.first_index = DecodeFixed64(p + kFirstIndexOffset);
  h.term = DecodeFixed64(p + kTermOffset);
  h.entry_count = DecodeFixed32(p + kEntryCountOffset);
  h.commit = DecodeFixed64(p + kCommitOffset);
  h.durable_offset = uint64_t{DecodeFixed32(p + kDurableOffset)} * kFrameAlignment;
  h.checksum = DecodeFixed64(p + kChecksumOffset);

  // 4. The one length we must trust to find the checksummed bytes: bound it
  //    before using it.
  if (h.stored_bytes > kMaxFramePayloadBytes) {
    return Fail(FrameError::kBadHeader,
                "frame stored size " + std::to_string(h.stored_bytes) + " exceeds the limit of " +
                    std::to_string(kMaxFramePayloadBytes),
                problem);
  }
  // 5.
  const uint64_t frame_bytes = FrameBytes(h.stored_bytes);
  if (frame_bytes > bytes.size()) {
    return Fail(FrameError::kTruncated,
                "truncated frame: header, " + std::to_string(h.stored_bytes) +
                    "-byte payload and padding need " + std::to_string(frame_bytes) +
                    " bytes, only " + std::to_string(bytes.size()) + " remain",
                problem);
  }
  // 6. Before looking at any other field: if the checksum holds, a bad field
  //    below was written that way; if it does not, the bytes are torn, corrupt
  //    or stale and no field means anything.
  const std::string_view payload = bytes.substr(kFrameHeaderBytes, h.stored_bytes);
  const uint64_t actual =
      verify_checksum ? FrameChecksum(bytes.substr(0, kChecksumOffset), payload, seed) : h.checksum;
  if (actual != h.checksum) {
    return Fail(FrameError::kBadChecksum,
                "frame checksum mismatch: stored " + Hex64(h.checksum) + ", computed " +
                    Hex64(actual) +
                    " (torn write, corruption, or bytes of another segment or "
                    "generation)",
                problem);
  }
  // 7.
  auto bad_header = [&](std::string what) {
    return Fail(FrameError::kBadHeader, std::move(what), problem);
  };
  if (DecodeFixed16(p + kReserved1Offset) != 0) {
    return bad_header("non-zero reserved frame header field (bytes " +
                      HexBytes(bytes.substr(kReserved1Offset, 2)) + " at 6)");
  }
  if ((h.flags & ~kKnownFrameFlags) != 0) {
    return bad_header("unknown frame flag bits " + HexBytes(bytes.substr(kFlagsOffset, 1)));
  }
  if (h.raw_bytes > kMaxFramePayloadBytes) {
    return bad_header("frame raw size " + std::to_string(h.raw_bytes) + " exceeds the limit of " +
                      std::to_string(kMaxFramePayloadBytes));
  }
  if (!h.compressed() && h.raw_bytes != h.stored_bytes) {
    return bad_header("uncompressed frame with raw size " + std::to_string(h.raw_bytes) +
                      " != stored size " + std::to_string(h.stored_bytes));
  }
  switch (h.type) {
    case FrameType::kEntries:
      if (h.entry_count == 0) return bad_header("entries frame with no entries");
      if (h.raw_bytes < kTableBytesPerEntry * h.entry_count) {
        return bad_header("entries frame of " + std::to_string(h.entry_count) +
                          " entries has a raw size of only " + std::to_string(h.raw_bytes) +
                          " bytes (the entry table alone needs " +
                          std::to_string(kTableBytesPerEntry * h.entry_count) + ")");
      }
      if (h.first_index > UINT64_MAX - h.entry_count) {
        return bad_header("entries frame index range overflows: first index " +
                          std::to_string(h.first_index) + ", " + std::to_string(h.entry_count) +
                          " entries");
      }
      break;
    case FrameType::kFooter:
      if (h.compressed()) return bad_header("compressed footer frame");
      if (h.entry_count != 0 || h.first_index != 0 || h.term != 0 || h.commit != 0) {
        return bad_header("footer frame with non-zero entry count, first index, term or commit");
      }
      break;
    default:
      return bad_header("unknown frame type " + std::to_string(raw_type));
  }
  // 8. The padding is not checksummed; requiring zeros keeps every byte of a
  //    frame verified.
  const std::string_view padding = bytes.substr(kFrameHeaderBytes + h.stored_bytes,
                                                frame_bytes - kFrameHeaderBytes - h.stored_bytes);
  if (!AllZero(padding)) {
    return Fail(
        FrameError::kBadChecksum,
        "non-zero frame padding " + HexBytes(padding) + " (torn write, corruption or stale bytes)",
        problem);
  }

  *out = FrameView{h, payload, frame_bytes};
  return FrameError::kNone;
}

}  // namespace

FrameBuilder::FrameBuilder(CompressionOptions options)
    : options_(options), header_buf_(kFrameHeaderBytes, '\0') {}

void FrameBuilder::BuildEntries(uint64_t seed, uint64_t commit,
                                std::span<const EntryView> entries) {
  RAFTLOG_CHECK_MSG(!entries.empty(), "FrameBuilder::BuildEntries: no entries");
  const uint64_t n = entries.size();
  RAFTLOG_CHECK_MSG(n <= kMaxFramePayloadBytes / kTableBytesPerEntry,
                    "FrameBuilder::BuildEntries: too many entries for one frame");
  const uint64_t first_index = entries.front().index;
  const uint64_t term = entries.front().term;

  // The entry table: N type bytes, then N u32 end offsets. resize() only
  // zero-fills growth beyond the previous size, so the steady state writes
  // each table byte once.
  table_buf_.resize(kTableBytesPerEntry * n);
  char* types = table_buf_.data();
  char* ends = types + n;
  uint64_t data_bytes = 0;
  for (uint64_t k = 0; k < n; ++k) {
    const EntryView& e = entries[k];
    RAFTLOG_CHECK_MSG(e.index == first_index + k,
                      "FrameBuilder::BuildEntries: entry indexes are not consecutive");
    RAFTLOG_CHECK_MSG(e.term == term, "FrameBuilder::BuildEntries: entries of different terms");
    types[k] = static_cast<char>(e.type);
    data_bytes += e.data.size();
    RAFTLOG_CHECK_MSG(data_bytes <= kMaxFramePayloadBytes,
                      "FrameBuilder::BuildEntries: payload exceeds kMaxFramePayloadBytes");
    EncodeFixed32(ends + 4 * k, static_cast<uint32_t>(data_bytes));
  }
  const uint64_t raw_bytes = table_buf_.size() + data_bytes;
  RAFTLOG_CHECK_MSG(raw_bytes <= kMaxFramePayloadBytes,
                    "FrameBuilder::BuildEntries: payload exceeds kMaxFramePayloadBytes");

  pieces_.clear();
  pieces_.push_back(header_buf_);
  header_.type = FrameType::kEntries;
  header_.flags = 0;
  header_.raw_bytes = static_cast<uint32_t>(raw_bytes);
  header_.first_index = first_index;
  header_.term = term;
  header_.entry_count = static_cast<uint32_t>(n);
  header_.commit = commit;
  header_.durable_offset = durable_offset_;

  if (options_.enabled && raw_bytes >= options_.min_payload_bytes) {
    // zstd needs the payload contiguous: this is the only copy of entry data.
    raw_buf_.clear();
    raw_buf_.append(table_buf_);
    for (const EntryView& e : entries) raw_buf_.append(e.data);
    if (compressor_.MaybeCompress(raw_buf_, options_, &stored_buf_)) {
      header_.flags = kFrameFlagZstd;
      pieces_.push_back(stored_buf_);
    } else {
      // Not worth it; the copy is made already, so write it as one piece.
      pieces_.push_back(raw_buf_);
    }
  } else {
    pieces_.push_back(table_buf_);
    for (const EntryView& e : entries) {
      if (!e.data.empty()) pieces_.push_back(e.data);
    }
  }
  FinishFrame(seed, pieces_.size() - 1);
}

void FrameBuilder::set_durable_offset(uint64_t offset) {
  RAFTLOG_CHECK_MSG(offset % kFrameAlignment == 0 && offset / kFrameAlignment <= UINT32_MAX,
                    "FrameBuilder::set_durable_offset: " + std::to_string(offset) +
                        " is not a multiple of 8 below 32 GiB");
  durable_offset_ = offset;
}

void FrameBuilder::BuildFooter(uint64_t seed, std::string_view payload) {
  RAFTLOG_CHECK_MSG(payload.size() <= kMaxFramePayloadBytes,
                    "FrameBuilder::BuildFooter: payload exceeds kMaxFramePayloadBytes");
  pieces_.clear();
  pieces_.push_back(header_buf_);
  header_.type = FrameType::kFooter;
  header_.flags = 0;
  header_.raw_bytes = static_cast<uint32_t>(payload.size());
  header_.first_index = 0;
  header_.term = 0;
  header_.entry_count = 0;
  header_.commit = 0;
  header_.durable_offset = durable_offset_;
  if (!payload.empty()) pieces_.push_back(payload);
  FinishFrame(seed, pieces_.size() - 1);
}

void FrameBuilder::FinishFrame(uint64_t seed, size_t payload_pieces) {
  uint64_t stored_bytes = 0;
  for (size_t k = 1; k <= payload_pieces; ++k) stored_bytes += pieces_[k].size();
  header_.stored_bytes = static_cast<uint32_t>(stored_bytes);

  char* h = header_buf_.data();
  EncodeHeaderFields(header_, h);
  checksum_.Reset(seed);
  checksum_.Update(std::string_view(h, kChecksumOffset));
  for (size_t k = 1; k <= payload_pieces; ++k) checksum_.Update(pieces_[k]);
  header_.checksum = checksum_.Digest();
  EncodeFixed64(h + kChecksumOffset, header_.checksum);

  frame_bytes_ = FrameBytes(stored_bytes);
  const size_t padding = frame_bytes_ - kFrameHeaderBytes - stored_bytes;
  if (padding > 0) pieces_.push_back(std::string_view(kZeros, padding));
}

std::string_view FrameErrorName(FrameError e) {
  switch (e) {
    case FrameError::kNone:
      return "none";
    case FrameError::kEndOfData:
      return "end of data";
    case FrameError::kTruncated:
      return "truncated";
    case FrameError::kBadMagic:
      return "bad magic";
    case FrameError::kBadHeader:
      return "bad header";
    case FrameError::kBadChecksum:
      return "bad checksum";
  }
  return "unknown frame error";
}

Result<FrameView> DecodeFrame(std::string_view bytes, uint64_t seed, std::string_view where,
                              FrameError* error) {
  FrameView view;
  std::string problem;
  const FrameError e = DecodeFrameImpl(bytes, seed, &view, &problem);
  if (error != nullptr) *error = e;
  if (e == FrameError::kNone) return view;
  if (e == FrameError::kEndOfData) {
    problem = bytes.empty() ? "end of data" : "end of data (all-zero frame header)";
  }
  std::string msg(where);
  msg += ": ";
  msg += problem;
  return Status::Corruption(msg);
}

Result<FrameView> DecodeVerifiedFrame(std::string_view bytes, std::string_view where) {
  FrameView view;
  std::string problem;
  const FrameError e = DecodeFrameImpl(bytes, 0, &view, &problem, /*verify_checksum=*/false);
  if (e == FrameError::kNone) return view;
  std::string msg(where);
  msg += ": ";
  msg += e == FrameError::kEndOfData ? "end of data" : problem;
  return Status::Corruption(msg);
}

Result<std::string_view> RawPayload(const FrameView& frame, Decompressor* decompressor,
                                    std::string* scratch, std::string_view where) {
  if (!frame.header.compressed()) return frame.payload;
  RAFTLOG_RETURN_IF_ERROR(decompressor->Decompress(frame.payload, frame.header.raw_bytes, scratch,
                                                   where, kMaxFramePayloadBytes));
  return std::string_view(*scratch);
}

Result<EntriesPayload> EntriesPayload::Parse(std::string_view raw, uint32_t entry_count,
                                             std::string_view where) {
  auto corrupt = [&](std::string_view problem) {
    std::string msg(where);
    msg += ": entries payload: ";
    msg += problem;
    return Status::Corruption(msg);
  };
  if (entry_count == 0) return corrupt("no entries");
  const uint64_t table_bytes = kTableBytesPerEntry * entry_count;
  if (table_bytes > raw.size()) {
    return corrupt("the table of " + std::to_string(entry_count) + " entries needs " +
                   std::to_string(table_bytes) + " bytes, the payload has " +
                   std::to_string(raw.size()));
  }
  const std::string_view types = raw.substr(0, entry_count);
  const std::string_view ends = raw.substr(entry_count, 4 * uint64_t{entry_count});
  const std::string_view data = raw.substr(table_bytes);
  uint32_t prev = 0;
  for (uint32_t k = 0; k < entry_count; ++k) {
    const uint32_t end = DecodeFixed32(ends.data() + 4 * uint64_t{k});
    if (end < prev) {
      return corrupt("end offset " + std::to_string(end) + " of entry " + std::to_string(k) +
                     " is below the end offset " + std::to_string(prev) + " of entry " +
                     std::to_string(k - 1));
    }
    prev = end;
  }
  if (prev != data.size()) {
    return corrupt("the last entry ends at " + std::to_string(prev) + " but the data area has " +
                   std::to_string(data.size()) + " bytes");
  }
  return EntriesPayload(types, ends, data, entry_count);
}

uint8_t EntriesPayload::type(uint32_t k) const {
  RAFTLOG_CHECK(k < count_);
  return static_cast<uint8_t>(types_[k]);
}

std::string_view EntriesPayload::data(uint32_t k) const {
  RAFTLOG_CHECK(k < count_);
  // Parse checked that the offsets are non-decreasing and end at data_.size().
  const uint32_t begin = k == 0 ? 0 : DecodeFixed32(ends_.data() + 4 * uint64_t{k - 1});
  const uint32_t end = DecodeFixed32(ends_.data() + 4 * uint64_t{k});
  return data_.substr(begin, end - begin);
}

FrameIterator::FrameIterator(std::string_view bytes, uint64_t offset, uint64_t seed,
                             std::string_view file)
    : bytes_(bytes), offset_(offset), next_offset_(offset), seed_(seed), file_(file) {}

bool FrameIterator::Next() {
  if (done_) return false;
  offset_ = next_offset_;
  auto stop = [&](FrameError e, Status s) {
    done_ = true;
    error_ = e;
    status_ = std::move(s);
    return false;
  };
  if (after_footer_) return stop(FrameError::kEndOfData, Status::OK());
  if (offset_ > bytes_.size()) {
    return stop(FrameError::kTruncated,
                Status::Corruption(file_ + " at offset " + std::to_string(offset_) +
                                   ": frame offset beyond the end of the " +
                                   std::to_string(bytes_.size()) + "-byte range"));
  }
  std::string problem;
  const FrameError e = DecodeFrameImpl(bytes_.substr(offset_), seed_, &frame_, &problem);
  if (e == FrameError::kEndOfData) return stop(e, Status::OK());
  if (e != FrameError::kNone) {
    return stop(
        e, Status::Corruption(file_ + " at offset " + std::to_string(offset_) + ": " + problem));
  }
  next_offset_ = offset_ + frame_.frame_bytes;
  after_footer_ = frame_.header.type == FrameType::kFooter;
  error_ = FrameError::kNone;
  return true;
}

}  // namespace raftlog::format
