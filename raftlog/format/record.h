// Frames: encoding one batch of log entries into a checksummed, optionally
// compressed frame, and decoding frames back from a byte range (typically an
// mmapped segment). The layout is in record_format.h and docs/format.md.
//
// format/ is raft-agnostic: an entry here is (index, term, type byte, bytes).
//
// Thread-safety: FrameBuilder and FrameIterator are thread-compatible (one
// per thread, or external locking). DecodeFrame and EntriesPayload are
// thread-safe (DecodeFrame keeps its checksum state per thread); RawPayload is
// as safe as the Decompressor passed to it.

#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/format/checksum.h"
#include "raftlog/format/compression.h"
#include "raftlog/format/record_format.h"
#include "raftlog/format/result.h"
#include "raftlog/format/status.h"

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
  // Format version 2: how many bytes of this frame's segment (from offset 0)
  // the writer knew to be durable (fdatasync'ed) when it wrote this frame; a
  // multiple of 8, at most the frame's own offset. 0 when unknown, and in
  // version 1 segments. Recovery uses it to tell a torn write from damage to
  // acknowledged data (docs/format.md §9).
  uint64_t durable_offset = 0;
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
// so payload bytes are never copied on the way to the disk. If the frame needs
// padding, the last piece is the zeros that make frame_bytes() a multiple of
// kFrameAlignment.
//
// Cost of BuildEntries for N entries of D data bytes in all, not compressed:
// one pass over the N entries to fill the 5N-byte entry table, and one XXH3
// pass over the 5N + D payload bytes; nothing is copied or allocated once the
// buffers have grown to the largest batch seen. A frame that qualifies for
// compression (CompressionOptions) first copies the raw payload into one
// buffer and then pays zstd; if zstd does not save enough, that buffer is
// stored as one piece.
//
// NB: an uncompressed frame has N + 3 pieces at most (empty entries add none);
// Linux's pwritev takes at most IOV_MAX (1024) of them per call, so a writer
// of very large batches must split the list across calls.
class FrameBuilder {
 public:
  explicit FrameBuilder(CompressionOptions options = {});

  // Encodes one kEntries frame holding `entries`, its checksum seeded with
  // `seed` (FrameSeed of the segment) and carrying `commit` as the commit hint.
  // Compresses the payload if options allow (Compressor::MaybeCompress).
  // REQUIRES: !entries.empty(); consecutive indexes; one term for all;
  // the raw payload (5 bytes per entry plus the data) fits in
  // kMaxFramePayloadBytes. Violations abort (they are the caller's bugs).
  // After return, pieces() is valid until the next Build* call or until the
  // entries' data is modified or freed.
  void BuildEntries(uint64_t seed, uint64_t commit, std::span<const EntryView> entries);

  // Encodes a kFooter frame with the given payload (see segment_footer.h).
  // Footers are never compressed: they are read in place.
  // REQUIRES: payload.size() <= kMaxFramePayloadBytes. pieces() borrows
  // `payload`, which must stay unchanged until the frame is written.
  void BuildFooter(uint64_t seed, std::string_view payload);

  // The durable offset (FrameHeader::durable_offset) every later Build*
  // writes. REQUIRES: a multiple of 8 below 32 GiB.
  void set_durable_offset(uint64_t offset);

  // The bytes of the last built frame, in order; their total is frame_bytes().
  std::span<const std::string_view> pieces() const { return pieces_; }
  uint64_t frame_bytes() const { return frame_bytes_; }
  const FrameHeader& header() const { return header_; }

  const CompressionOptions& options() const { return options_; }
  void set_options(const CompressionOptions& options) { options_ = options; }

 private:
  // Sets header_.stored_bytes from pieces_[1, 1 + payload_pieces), encodes
  // header_ into header_buf_ with the checksum over its first 48 bytes and
  // those pieces, and appends the padding piece if one is needed.
  void FinishFrame(uint64_t seed, size_t payload_pieces);

  CompressionOptions options_;
  Compressor compressor_;
  StreamingChecksum checksum_;
  FrameHeader header_;
  std::string header_buf_;  // the 56-byte header; never resized, pieces_[0] views it
  std::string table_buf_;   // types and end offsets (uncompressed frames)
  std::string raw_buf_;     // whole raw payload (only when compressing)
  std::string stored_buf_;  // compressed payload
  std::vector<std::string_view> pieces_;
  uint64_t frame_bytes_ = 0;
  uint64_t durable_offset_ = 0;
};

// Why a frame failed to decode. Recovery tells a torn tail from corruption by
// these: the engine's policy, not format/, decides what each means.
enum class FrameError : uint8_t {
  kNone = 0,
  kEndOfData,    // the header is all zeros, or the range is empty: the
                 // unwritten, preallocated region or the end of the bytes
  kTruncated,    // the range ends inside the header, payload or padding
  kBadMagic,     // not a frame: the header is not all zeros and does not
                 // start with the frame magic
  kBadHeader,    // unknown type, flags or reserved bits, or impossible
                 // lengths/counts (with a valid checksum unless the length
                 // itself is out of bounds; see DecodeFrame)
  kBadChecksum,  // the checksum does not match, or the padding after the
                 // payload is not zero (torn, corrupt or stale bytes)
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
// Never reads outside `bytes`; lengths are checked before use. `bytes` may
// extend past the frame (e.g. the rest of the segment).
//
// The checks, in order (the first failing one decides the class):
//   1. the first min(56, size) bytes are all zero (or bytes is empty): kEndOfData
//   2. the available part of the magic differs from "RLFR":             kBadMagic
//   3. fewer than 56 bytes:                                             kTruncated
//   4. stored bytes > kMaxFramePayloadBytes:                            kBadHeader
//   5. header + payload + padding extend past the end of bytes:         kTruncated
//   6. checksum mismatch (wrong seed included):                         kBadChecksum
//   7. reserved fields, flags, type, raw bytes, entry count, index range:
//                                                                       kBadHeader
//   8. non-zero padding:                                                kBadChecksum
// So a kBadHeader from step 7 means the header was written as it is (its
// checksum is valid): a writer bug or a newer writer, not a torn write.
// Cost: one XXH3 pass over 48 + stored bytes; no allocation unless it fails.
// Does not decompress or parse the payload (see RawPayload, EntriesPayload).
Result<FrameView> DecodeFrame(std::string_view bytes, uint64_t seed, std::string_view where,
                              FrameError* error = nullptr);

// DecodeFrame without the checksum: for a frame whose checksum this process
// has already verified (or that it wrote itself) and reads again, so that a
// hot read costs a header parse, not a hash of the payload. Every other check
// (bounds, lengths, fields) still applies, so bad bytes are still an error,
// never an out-of-bounds read.
Result<FrameView> DecodeVerifiedFrame(std::string_view bytes, std::string_view where);

// The raw payload of a decoded frame: frame.payload itself when not
// compressed, else the payload decompressed into *scratch (which is resized
// to header.raw_bytes; the view points into it and is valid until *scratch
// changes). Returns Corruption naming `where` if the zstd data is corrupt or
// does not decode to exactly header.raw_bytes bytes (see Decompressor).
Result<std::string_view> RawPayload(const FrameView& frame, Decompressor* decompressor,
                                    std::string* scratch, std::string_view where);

// Random access to the entries of a raw (decompressed) kEntries payload.
// Holds views into the payload, which must outlive it.
class EntriesPayload {
 public:
  // Validates the table: N type bytes and N end offsets, non-decreasing and
  // within the data area, which must end exactly at the last offset. Returns
  // Corruption naming `where` otherwise (including entry_count == 0).
  // Cost: one pass over the N end offsets.
  static Result<EntriesPayload> Parse(std::string_view raw, uint32_t entry_count,
                                      std::string_view where);

  uint32_t size() const { return count_; }
  // The k-th entry's type byte and data (a view into the payload).
  // REQUIRES: k < size().
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
// file and offset. It never skips a bad frame. A kFooter frame is the last
// frame of a segment (the trailer follows it): Next() returns it, and the
// following call returns false with kEndOfData without reading further.
//
// `bytes` must outlive the iterator (frame().payload points into it). The
// iterator copies `file`. REQUIRES: offset is a frame boundary (e.g.
// kSegmentHeaderBytes). Building an iterator allocates once (the file name);
// Next() allocates only when it reports a problem.
// Thread-compatible.
class FrameIterator {
 public:
  FrameIterator(std::string_view bytes, uint64_t offset, uint64_t seed, std::string_view file);

  // Advances to the next frame; false at the end or at the first problem,
  // and from then on.
  bool Next();
  // The current frame. REQUIRES: the last Next() returned true.
  const FrameView& frame() const { return frame_; }
  // Offset of the current frame (after Next() returned true), or of the
  // position where iteration stopped: where the next frame would be written
  // (kEndOfData) or where the problem is.
  uint64_t offset() const { return offset_; }
  // kNone while frames are being returned; after Next() returned false,
  // kEndOfData or the problem.
  FrameError error() const { return error_; }
  // OK unless error() is a problem (not kNone, not kEndOfData); then
  // Corruption "<file> at offset <offset>: <problem>".
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
  bool done_ = false;          // Next() returned false; it will again
  bool after_footer_ = false;  // the last frame returned was a kFooter
};

}  // namespace raftlog::format
