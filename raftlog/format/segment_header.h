// The 64-byte header at the start of every segment file (layout in
// record_format.h). Written by the engine together with the segment's first
// frame; checked on every open.
//
// Thread-compatible.

#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "raftlog/format/record_format.h"
#include "raftlog/format/result.h"

namespace raftlog::format {

struct SegmentHeader {
  uint16_t version = kFormatVersion;
  uint64_t segment_id = 0;
  uint64_t base_index = 0;
  uint64_t generation = 0;
  uint64_t segment_bytes = 0;
  uint64_t created_unix_ns = 0;
  uint32_t flags = 0;  // SegmentFlags

  // kSegmentFlagStaleTail: the end of the frames is an all-zero frame header,
  // not zeros to the end of the file.
  bool stale_tail() const { return (flags & kSegmentFlagStaleTail) != 0; }

  // The checksum seed of this segment's frames.
  uint64_t seed() const { return FrameSeed(segment_id, generation); }
  friend bool operator==(const SegmentHeader&, const SegmentHeader&) = default;
};

// The 64 encoded bytes.
std::string EncodeSegmentHeader(const SegmentHeader& header);

// Decodes and verifies a segment header from the first bytes of a file
// (`bytes` may extend past the header).
// Returns Corruption naming `file` for a wrong magic ("not a raftlog segment";
// the message says so when the header is all zeros, i.e. a preallocated file
// that was never written), a bad checksum, version 0, a wrong header size or
// unknown flags; NotSupported for a newer format version (checked before the
// checksum, since a newer version may lay out its header differently);
// Corruption if bytes is shorter than the header.
// The caller checks that segment_id matches the file name and the manifest.
Result<SegmentHeader> DecodeSegmentHeader(std::string_view bytes, std::string_view file);

}  // namespace raftlog::format
