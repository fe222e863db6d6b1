// The on-disk layout of raftlog snapshot files: constants, the byte layout of
// every structure, and the pure functions that encode and check them.
// docs/snapshot-format.md is the normative prose spec with a worked example;
// this header and that document must agree (tests/snapshot/ keeps the
// document's example true).
//
// A snapshot file, named <term:16 hex>-<index:16 hex>.snap:
//
//   +---------------------+ offset 0
//   | header              | 48 + C bytes (C = conf state bytes)
//   +---------------------+ offset H (header bytes)
//   | block 0             | 12-byte block header + 1..B data bytes
//   | block 1             |
//   | ...                 |
//   +---------------------+ offset file bytes - 44
//   | trailer             | 44 bytes; the file ends here
//   +---------------------+
//
// Header (all integers little-endian):
//
//   off    size field
//     0      8  magic             "RAFTSNAP"
//     8      2  format version    kFormatVersion (1)
//    10      2  flags             0 (readers reject unknown bits)
//    12      4  header bytes      H = 48 + C
//    16      8  index             SnapshotMeta::index
//    24      8  term              SnapshotMeta::term
//    32      4  block bytes       B: most data bytes per block, 1..kMaxBlockBytes
//    36      4  conf state bytes  C, 0..kMaxConfStateBytes
//    40      C  conf state        SnapshotMeta::conf_state
//    40+C    8  header checksum   XXH3-64, seed 0, of bytes [0, 40+C)
//
// Block (one per at most B data bytes; every block of a file written by
// this version holds exactly B bytes except the last):
//
//   off    size field
//     0      4  data bytes        n, 1..B (0 never starts a block: see trailer)
//     4      8  block checksum    XXH3-64 of the n data bytes, seeded with
//                                 BlockSeed(header checksum, block number, n)
//    12      n  data
//
// Trailer (44 bytes, the end of the file):
//
//   off    size field
//     0      4  end marker        0, where the next block's length would be
//     4      8  block count
//    12      8  data bytes        total over all blocks
//    20      8  data checksum     XXH3-64, seed 0, of all data concatenated
//    28      8  trailer checksum  XXH3-64 of trailer bytes [0, 28), seeded
//                                 with the header checksum
//    36      8  magic             "RSNAPEND"
//
// Seeding every block and the trailer with the header checksum ties them to
// their header, and seeding each block with its number and length makes a
// block that is moved, repeated or cut short fail its check.
//
// Compatibility: the first 16 bytes (magic, version, flags, header bytes)
// and the header checksum in the header's last 8 bytes keep their meaning in
// every version, so a reader checks the header checksum before it looks at the
// version: a damaged version field is Corruption, a genuinely newer file is
// NotSupported. Flags and any later fields change only with a version bump.
//
// Pure functions over bytes; thread-compatible.

#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "raftlog/format/layout.h"
#include "raftlog/format/result.h"
#include "raftlog/format/status.h"
#include "raftlog/snapshot/snapshot_meta.h"

namespace raftlog::snapshot {

inline constexpr std::string_view kHeaderMagic = "RAFTSNAP";
inline constexpr std::string_view kTrailerMagic = "RSNAPEND";
inline constexpr uint16_t kFormatVersion = 1;

// Magic, version, flags and header bytes: the part of the header every
// version shares.
inline constexpr size_t kHeaderPrefixBytes = 16;
// A version-1 header without its conf state.
inline constexpr size_t kHeaderFixedBytes = 48;
inline constexpr size_t kBlockHeaderBytes = 12;
inline constexpr size_t kTrailerBytes = 44;

inline constexpr uint32_t kMaxBlockBytes = 64u << 20;
inline constexpr uint32_t kMaxConfStateBytes = 16u << 20;
inline constexpr size_t kMaxHeaderBytes = kHeaderFixedBytes + kMaxConfStateBytes;


// A decoded, checked header.
struct SnapshotHeader {
  SnapshotMeta meta;
  uint32_t block_bytes = 0;
  // H: where the first block starts.
  uint32_t header_bytes = 0;
  // The header checksum; seeds every block and the trailer.
  uint64_t checksum = 0;
};

struct SnapshotTrailer {
  uint64_t block_count = 0;
  uint64_t data_bytes = 0;
  uint64_t data_checksum = 0;
};

// The encoded header.
// REQUIRES: meta.conf_state.size() <= kMaxConfStateBytes and
// 1 <= block_bytes <= kMaxBlockBytes (aborts otherwise; callers validate).
std::string EncodeHeader(const SnapshotMeta& meta, uint32_t block_bytes);

// Reads the header bytes H from the first kHeaderPrefixBytes of a file whose
// size is file_bytes, after checking the magic. Returns Corruption naming
// `file` and the offset for a short file, a wrong magic ("not a raftlog
// snapshot file"), or an H that is out of range or beyond the file's end, so
// that the caller may allocate H bytes.
Result<uint32_t> DecodeHeaderBytes(std::string_view prefix, uint64_t file_bytes,
                                   std::string_view file);

// Decodes and checks a whole header (`bytes` holds exactly H bytes, as told
// by DecodeHeaderBytes). Returns Corruption naming `file` and the offset for
// a checksum mismatch, an unknown flag, version 0, or an inconsistent field;
// NotSupported for a version newer than kFormatVersion whose checksum holds.
Result<SnapshotHeader> DecodeHeader(std::string_view bytes, std::string_view file);

// The seed of block `block_number` (counting from 0) holding `data_bytes`.
inline uint64_t BlockSeed(uint64_t header_checksum, uint64_t block_number, uint32_t data_bytes) {
  return header_checksum ^ ((block_number << 32) | data_bytes);
}

// The checksum stored in a block header for `data`.
uint64_t BlockChecksum(uint64_t header_checksum, uint64_t block_number, std::string_view data);

// Writes the 12-byte block header for `data` at dst.
// REQUIRES: dst has kBlockHeaderBytes bytes; 1 <= data.size() <= kMaxBlockBytes.
void EncodeBlockHeader(char* dst, uint64_t header_checksum, uint64_t block_number,
                       std::string_view data);

// The encoded 44-byte trailer.
std::string EncodeTrailer(const SnapshotTrailer& trailer, uint64_t header_checksum);

// Decodes and checks a trailer (`bytes` holds kTrailerBytes bytes read at
// `offset` of `file`). Returns Corruption naming the file and offset for a
// wrong magic (usually a truncated file), a non-zero end marker or a checksum
// mismatch.
Result<SnapshotTrailer> DecodeTrailer(std::string_view bytes, uint64_t header_checksum,
                                      std::string_view file, uint64_t offset);

// A Corruption status "snapshot file <file>: <problem> at offset <offset>".
Status CorruptionAt(std::string_view file, uint64_t offset, std::string_view problem);

// Snapshot file names ("<term>-<index>.snap", written as "<name>.tmp") are
// defined with every other name of a log directory in format/layout.h.
using ParsedName = format::layout::SnapshotName;
using format::layout::ParseSnapshotFileName;
using format::layout::SnapshotFileName;
inline std::string TempFileName(std::string_view final_name) {
  return format::layout::SnapshotTempFileName(final_name);
}
inline bool IsTempFileName(std::string_view name) {
  return format::layout::IsSnapshotTempFileName(name);
}

}  // namespace raftlog::snapshot
