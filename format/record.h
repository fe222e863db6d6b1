// Frames: encoding one batch of log entries into a checksummed, optionally
// compressed frame, and decoding frames back from a byte range (typically an
// mmapped segment). The layout is in record_format.h and docs/format.md.
//
// format/ is raft-agnostic: an entry here is (index, term, type byte, bytes).
//
// Thread-compatible.

#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "format/compression.h"
#include "format/record_format.h"
#include "format/result.h"
#include "format/status.h"

namespace raftlog::format {

// One log entry as format/ and engine/ see it. `data` is borrowed.
struct EntryView {
  uint64_t index = 0;
  uint64_t term = 0;
  uint8_t type = 0;
  std::string_view data;
};

// A decoded frame header (see the layout in record_format.h).
struct FrameHeader {
  FrameType type = FrameType::kEntries;
  uint8_t flags = 0;
  uint32_t stored_bytes = 0;
  uint32_t raw_bytes = 0;
  uint64_t first_index = 0;
  uint64_t term = 0;
  uint32_t entry_count = 0;
  uint64_t commit = 0;
  uint64_t checksum = 0;

  bool compressed() const { return (flags & kFrameFlagZstd) != 0; }
  // The raft index after the frame's last entry.
  uint64_t end_index() const { return first_index + entry_count; }
};

// Builds frames. Keeps scratch buffers (and a zstd context) between calls so
// that the append path allocates nothing in the steady state.
//
// The encoded frame is exposed as a list of byte pieces to be written in order
// with one pwritev: the header and entry table from the builder's buffers, and
// (when not compressed) each entry's data straight from the caller's memory,
// so payload bytes are never copied on the way to the disk.
class FrameBuilder {
 public:
  explicit FrameBuilder(CompressionOptions options = {});

  // Encodes one kEntries frame holding `entries`.
  // REQUIRES: !entries.empty(); consecutive indexes; one term for all;
  // the raw payload fits in kMaxFramePayloadBytes.
  // After return, pieces() is valid until the next Build* call or until the
  // entries' data is modified or freed.
  void BuildEntries(uint64_t seed, uint64_t commit, std::span<const EntryView> entries);

  // Encodes a kFooter frame with the given payload (see segment_footer.h).
  void BuildFooter(uint64_t seed, std::string_view payload);

  // The bytes of the last built frame, in order; their total is frame_bytes().
  std::span<const std::string_view> pieces() const { return pieces_; }
  uint64_t frame_bytes() const { return frame_bytes_; }
  const FrameHeader& header() const { return header_; }

 private:
  CompressionOptions options_;
  Compressor compressor_;
  FrameHeader header_;
  std::string header_buf_;   // the 56-byte header
  std::string table_buf_;    // types and end offsets (uncompressed frames)
  std::string raw_buf_;      // whole raw payload (only when compressing)
  std::string stored_buf_;   // compressed payload
  std::vector<std::string_view> pieces_;
  uint64_t frame_bytes_ = 0;
};

// Why a frame failed to decode. Recovery tells a torn tail from corruption by
// these: the engine's policy, not format/, decides what each means.
enum class FrameError : uint8_t {
  kNone = 0,
  kEndOfData,    // the header is all zeros: the unwritten, preallocated region
  kTruncated,    // the range ends inside the header or the payload
  kBadMagic,     // not a frame
  kBadHeader,    // unknown type, flags, reserved bits, version or impossible lengths
  kBadChecksum,  // the checksum does not match (torn, corrupt or stale bytes)
};
std::string_view FrameErrorName(FrameError e);

// A frame decoded in place: `payload` points into the input bytes.
struct FrameView {
  FrameHeader header;
  std::string_view payload;  // stored bytes (compressed if header.compressed())
  uint64_t frame_bytes = 0;  // header + payload + padding: where the next frame starts
};

// Decodes and verifies the frame at the start of `bytes`. On failure returns
// Corruption naming `where` (e.g. "00000000000000a1.seg at offset 8192") and the
// problem, and sets *error (if given) to classify it; on success *error is kNone.
// Never reads outside `bytes`; lengths are checked before use.
Result<FrameView> DecodeFrame(std::string_view bytes, uint64_t seed, std::string_view where,
                              FrameError* error = nullptr);

// Random access to the entries of a raw (decompressed) kEntries payload.
// Holds views into the payload, which must outlive it.
class EntriesPayload {
 public:
  // Validates the table: N type bytes and N end offsets, non-decreasing and
  // within the data area, which must end exactly at the last offset.
  static Result<EntriesPayload> Parse(std::string_view raw, uint32_t entry_count,
                                      std::string_view where);

  uint32_t size() const { return count_; }
  uint8_t type(uint32_t k) const;
  std::string_view data(uint32_t k) const;

 private:
  EntriesPayload(std::string_view types, std::string_view ends, std::string_view data,
                 uint32_t count)
      : types_(types), ends_(ends), data_(data), count_(count) {}

  std::string_view types_;
  std::string_view ends_;
  std::string_view data_;
  uint32_t count_ = 0;
};

// Walks the frames of a segment's bytes from `offset` on.
//
//   FrameIterator it(bytes, kSegmentHeaderBytes, seed, "00000001.seg");
//   while (it.Next()) { use(it.frame(), it.offset()); }
//   if (it.error() != FrameError::kEndOfData) { ... it.status() ... }
//
// Next() returns false at the end: error() is kEndOfData when it met zeros or
// the exact end of `bytes`, else the first problem, with status() naming the
// file and offset. It never skips a bad frame.
class FrameIterator {
 public:
  FrameIterator(std::string_view bytes, uint64_t offset, uint64_t seed, std::string_view file);

  bool Next();
  const FrameView& frame() const { return frame_; }
  // Offset of the current frame (after Next() returned true), or of the
  // position where iteration stopped.
  uint64_t offset() const { return offset_; }
  FrameError error() const { return error_; }
  const Status& status() const { return status_; }

 private:
  std::string_view bytes_;
  uint64_t offset_;
  uint64_t next_offset_;
  uint64_t seed_;
  std::string file_;
  FrameView frame_;
  FrameError error_ = FrameError::kNone;
  Status status_;
};

}  // namespace raftlog::format
