#include "raftlog/format/segment_header.h"

#include <cstring>
#include <string>

#include "raftlog/format/checksum.h"
#include "raftlog/format/coding.h"

namespace raftlog::format {

namespace {

// Field offsets within the 64-byte segment header (record_format.h).
constexpr size_t kVersionOffset = 8;
constexpr size_t kHeaderSizeOffset = 10;
constexpr size_t kFlagsOffset = 12;
constexpr size_t kSegmentIdOffset = 16;
constexpr size_t kBaseIndexOffset = 24;
constexpr size_t kGenerationOffset = 32;
constexpr size_t kSegmentBytesOffset = 40;
constexpr size_t kCreatedOffset = 48;
constexpr size_t kChecksumOffset = 56;
static_assert(kChecksumOffset + 8 == kSegmentHeaderBytes);

Status HeaderError(std::string_view file, std::string_view problem) {
  std::string msg(file);
  msg += ": segment header: ";
  msg += problem;
  return Status::Corruption(msg);
}

}  // namespace

std::string EncodeSegmentHeader(const SegmentHeader& header) {
  std::string out(kSegmentHeaderBytes, '\0');
  char* p = out.data();
  std::memcpy(p, kSegmentMagic.data(), kSegmentMagic.size());
  EncodeFixed16(p + kVersionOffset, header.version);
  EncodeFixed16(p + kHeaderSizeOffset, static_cast<uint16_t>(kSegmentHeaderBytes));
  EncodeFixed32(p + kFlagsOffset, header.flags);
  EncodeFixed64(p + kSegmentIdOffset, header.segment_id);
  EncodeFixed64(p + kBaseIndexOffset, header.base_index);
  EncodeFixed64(p + kGenerationOffset, header.generation);
  EncodeFixed64(p + kSegmentBytesOffset, header.segment_bytes);
  EncodeFixed64(p + kCreatedOffset, header.created_unix_ns);
  EncodeFixed64(p + kChecksumOffset, Checksum64(std::string_view(p, kChecksumOffset), 0));
  return out;
}

Result<SegmentHeader> DecodeSegmentHeader(std::string_view bytes, std::string_view file) {
  if (bytes.size() < kSegmentHeaderBytes) {
    return HeaderError(file, "truncated: " + std::to_string(bytes.size()) + " of " +
                                 std::to_string(kSegmentHeaderBytes) + " bytes");
  }
  const char* p = bytes.data();
  if (std::string_view(p, kSegmentMagic.size()) != kSegmentMagic) {
    bool all_zero = true;
    for (size_t k = 0; k < kSegmentHeaderBytes; ++k) all_zero = all_zero && p[k] == 0;
    return HeaderError(file, all_zero ? "not a raftlog segment (the header is all zeros: "
                                        "the file was never written)"
                                      : "not a raftlog segment (bad magic)");
  }
  // The version decides the layout of everything after it (a newer version may
  // size or checksum its header differently), so it is checked first.
  const uint16_t version = DecodeFixed16(p + kVersionOffset);
  if (version > kFormatVersion) {
    return Status::NotSupported(std::string(file) + ": segment format version " +
                                std::to_string(version) + " is newer than the newest supported (" +
                                std::to_string(kFormatVersion) + ")");
  }
  const uint64_t stored = DecodeFixed64(p + kChecksumOffset);
  const uint64_t actual = Checksum64(bytes.substr(0, kChecksumOffset), 0);
  if (stored != actual) return HeaderError(file, "checksum mismatch");
  if (version == 0) return HeaderError(file, "invalid format version 0");
  const uint16_t header_size = DecodeFixed16(p + kHeaderSizeOffset);
  if (header_size != kSegmentHeaderBytes) {
    return HeaderError(file, "header size " + std::to_string(header_size) + ", expected " +
                                 std::to_string(kSegmentHeaderBytes));
  }
  const uint32_t flags = DecodeFixed32(p + kFlagsOffset);
  if ((flags & ~uint32_t{kKnownSegmentFlags}) != 0) {
    return HeaderError(file, "unknown flags " + std::to_string(flags));
  }

  SegmentHeader h;
  h.version = version;
  h.segment_id = DecodeFixed64(p + kSegmentIdOffset);
  h.base_index = DecodeFixed64(p + kBaseIndexOffset);
  h.generation = DecodeFixed64(p + kGenerationOffset);
  h.segment_bytes = DecodeFixed64(p + kSegmentBytesOffset);
  h.created_unix_ns = DecodeFixed64(p + kCreatedOffset);
  h.flags = flags;
  return h;
}

}  // namespace raftlog::format
