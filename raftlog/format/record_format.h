// The on-disk layout of raftlog segment files: constants, enums and the byte
// layout of every fixed structure. docs/format.md is the normative prose spec;
// this header and that document must agree.
//
// A segment file (engine/ names it <segment id as 16 hex digits>.seg):
//
//   +-------------------+ offset 0
//   | segment header    | 64 bytes, written with the first frame
//   +-------------------+ offset 64
//   | frame             | each frame starts 8-byte aligned
//   | frame             |
//   | ...               |
//   | footer frame      | only in a sealed segment
//   | trailer           | 32 bytes, only in a sealed segment (the file ends here)
//   +-------------------+
//   | zeros             | the preallocated, not yet written part (active segment)
//   +-------------------+ segment size
//
// Segment header (64 bytes, little-endian):
//
//   off size field
//     0    8 magic            "RAFTLSEG"
//     8    2 format version   kFormatVersion
//    10    2 header size      64
//    12    4 flags            SegmentFlags (readers reject unknown bits)
//    16    8 segment id       never reused within a log
//    24    8 base index       raft index of the segment's first entry
//    32    8 generation       truncation generation of the log when created
//    40    8 segment bytes    file size when preallocated
//    48    8 created          unix time in nanoseconds (informational)
//    56    8 checksum         XXH3-64, seed 0, of bytes [0, 56)
//
// Frame (header 56 bytes, then the payload, then zero padding to a multiple
// of 8 bytes; readers reject non-zero padding). A kFooter frame has first
// index, term, entry count and commit 0 and is never compressed.
//
//   off size field
//     0    4 magic            "RLFR"
//     4    1 type             FrameType
//     5    1 flags            FrameFlags (readers reject unknown bits)
//     6    2 reserved         0
//     8    4 stored bytes     payload bytes on disk
//    12    4 raw bytes        payload bytes after decompression (= stored if
//                             not compressed)
//    16    8 first index      raft index of the frame's first entry
//    24    8 term             term of every entry in the frame
//    32    4 entry count      >= 1 for kEntries, 0 otherwise
//    36    4 durable offset   (version 2) bytes of the segment the writer
//                             knew durable when writing the frame, / 8;
//                             0 if unknown (always 0 in version 1)
//    40    8 commit           the log's commit index when the frame was
//                             written (a hint recovered on open), or 0
//    48    8 checksum         XXH3-64 of header bytes [0, 48) followed by
//                             the stored payload, seeded with
//                             FrameSeed(segment id, generation)
//
// Entries payload (raw form, before compression), for N = entry count:
//
//     N bytes          entry types (opaque to format/; raft uses 0..2)
//     N x u32          end offset of each entry's data, relative to the
//                      start of the data area, non-decreasing
//     data area        the entries' data, concatenated
//
// Footer payload (frame type kFooter), see segment_footer.h:
//
//     u32 frame count F, u32 term-run count R, u64 last index,
//     F x { u32 frame offset in the file, u32 first index - base index },
//     R x { u64 first index, u64 term }
//
// Trailer (the last 32 bytes of a sealed segment; the footer frame ends
// where it begins):
//
//     u64 magic "RLTRAILR", u64 footer frame offset, u64 file bytes,
//     u64 checksum: XXH3-64 of the preceding 24 bytes, seeded with FrameSeed
//
// Compatibility rules: the format version is bumped on any incompatible
// change; readers reject a newer version with NotSupported. Reserved fields are
// written as zero and readers reject non-zero values and unknown flag bits, so
// that a future writer can give them meaning behind a version bump.

#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace raftlog::format {

inline constexpr uint16_t kFormatVersion = 2;

// The log's format version, the value of the LMDB key "format": the segment
// format above plus the rules for the directory as a whole. 3: a segment
// roll may leave its successor listed nowhere until the background seal's
// commit (recovery finds it by its header); a reader of version 2 would take
// that file for a spare and overwrite acknowledged entries, so it must
// refuse the log. Segment files of a version 3 log are version 2.
inline constexpr uint16_t kLogFormatVersion = 3;

inline constexpr std::string_view kSegmentMagic = "RAFTLSEG";  // 8 bytes
inline constexpr size_t kSegmentHeaderBytes = 64;

inline constexpr std::string_view kFrameMagic = "RLFR";  // 4 bytes
inline constexpr size_t kFrameHeaderBytes = 56;
inline constexpr size_t kFrameAlignment = 8;

inline constexpr std::string_view kTrailerMagic = "RLTRAILR";  // 8 bytes
inline constexpr size_t kTrailerBytes = 32;

// No frame payload (stored or raw) may exceed this: a length field read from
// disk above it is rejected before anything is allocated (a corrupt length never allocates).
inline constexpr uint32_t kMaxFramePayloadBytes = 1u << 30;

// Segment header flags.
enum SegmentFlags : uint32_t {
  // The file was recycled (or adopted as a spare on open, its history
  // unknown): past the last frame it may hold stale bytes of an earlier
  // segment instead of zeros. Its writer puts an all-zero frame header after
  // every frame it writes, and readers take an all-zero frame header as the
  // end of the frames unless a later frame of this segment proves it was
  // durable (docs/format.md, "End of the frames").
  kSegmentFlagStaleTail = 1u << 0,
  kKnownSegmentFlags = kSegmentFlagStaleTail,
};

enum class FrameType : uint8_t {
  kEntries = 1,  // a batch of consecutive entries of one term
  kFooter = 2,   // the index of a sealed segment
};

enum FrameFlags : uint8_t {
  kFrameFlagZstd = 1 << 0,  // the payload is one zstd frame
  kKnownFrameFlags = kFrameFlagZstd,
};

// The seed of every checksum that binds bytes to their segment: bytes left in
// a file from another segment (a recycled file) or from before a truncation
// (another generation) can never validate. XXH3-64 (seed 0) of the 16 bytes
// segment_id (LE) || generation (LE).
uint64_t FrameSeed(uint64_t segment_id, uint64_t generation);

// Bytes a frame with a payload of `stored_bytes` occupies, padding included.
constexpr uint64_t FrameBytes(uint64_t stored_bytes) {
  return (kFrameHeaderBytes + stored_bytes + kFrameAlignment - 1) & ~uint64_t{kFrameAlignment - 1};
}

}  // namespace raftlog::format
