// SegmentReader: the one way to read the bytes of a segment file, through
// the format/ decoders (DecodeSegmentHeader, DecodeFrame, DecodeTrailer,
// FooterView). ScanSegment (segment_scan.h) is built on it, and through it
// recovery and the raftlog tool read segments the same way.
//
// Two backings:
//   - Open(): pread through a window. What a reader beside a live writer
//     needs: the writer truncates a segment when it seals it, and touching a
//     mapped page past the new end of file would kill the reader with
//     SIGBUS, while a pread there just comes back short. And every page of a
//     mapping that is read stays in the resident set until it is unmapped,
//     so dumping a large log through mappings would not run in constant
//     memory. Memory is the window (a few MiB) plus the largest frame read
//     (a frame above 64 MiB, possible only in huge segments, is mapped just
//     for its own decoding instead).
//   - FromBytes(): bytes already in memory (recovery's mapping of the
//     active segment, which the engine holds open and alone truncates): views
//     point straight into them, nothing is copied.
//
// Errors: IOError from the file; every problem with the bytes is a
// Corruption naming the reader's name() and the offset. Views returned stay
// valid until the next call on the reader (FromBytes: as long as the bytes).
// Thread-compatible.

#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "raftlog/format/record.h"
#include "raftlog/format/result.h"
#include "raftlog/format/segment_footer.h"
#include "raftlog/format/segment_header.h"
#include "raftlog/io/file_system.h"

namespace raftlog::engine {

class SegmentReader {
 public:
  // Opens the file at `path` read-only; `name` (e.g. the file name) is used
  // in messages. NotFound or IOError if it cannot be opened.
  static Result<std::unique_ptr<SegmentReader>> Open(io::FileSystem* fs, const std::string& path,
                                                     std::string name);
  // Reads `bytes` (which must outlive the reader) as a segment file of that
  // size.
  static std::unique_ptr<SegmentReader> FromBytes(std::string_view bytes, std::string name);

  const std::string& name() const { return name_; }
  // The size when opened.
  uint64_t size() const { return size_; }

  // "<name> at offset <offset>", the prefix of the decoders' messages.
  std::string Where(uint64_t offset) const;
  // `s`'s message without the "<where>: " a decoder put in front of it (as
  // Where() or name() made it), for findings that name the place apart.
  static std::string MessageAfter(const Status& s, std::string_view where);

  // The segment header (DecodeSegmentHeader's errors).
  Result<format::SegmentHeader> ReadHeader();
  // Whether the first 64 bytes are all zero (a segment never written).
  Result<bool> HeaderIsZero();

  // Decodes the frame at `offset`, looking only at the bytes [offset, limit)
  // of the file (REQUIRES: offset <= limit <= size()), exactly as
  // format::DecodeFrame would on those bytes: *error is set to the outcome
  // (kEndOfData at zeros or at limit). On success the view points into this
  // reader's buffers and is valid until the next call. Errors: Corruption
  // "<name> at offset <offset>: ..." (also for kEndOfData), IOError.
  Result<format::FrameView> ReadFrame(uint64_t offset, uint64_t limit, uint64_t seed,
                                      format::FrameError* error);

  // A sealed segment's trailer, found at file_bytes - 32 (the manifest's
  // file size; the file may be longer if the truncation after the seal was
  // lost). DecodeTrailer's errors, naming the file.
  Result<format::Trailer> ReadTrailer(uint64_t seed, uint64_t file_bytes);

  // The footer frame at footer_offset, which must be a kFooter frame ending
  // at footer_end (where the trailer begins), parsed; the contents are
  // copied. Corruption naming the file and offset otherwise.
  Result<format::FooterContents> ReadFooter(uint64_t seed, uint64_t footer_offset,
                                            uint64_t footer_end);

  // Looks for a frame that decodes with `seed` at an 8-byte aligned offset
  // in [from, limit), as recovery does to tell a torn tail from damage
  // followed by acknowledged data. Returns the offset of the first one, or
  // nullopt; sets *count to how many valid frames follow from there (each
  // found by walking from the previous one, or by scanning again after a
  // bad stretch).
  //
  // With `damage_at` (format version 2 segments), the frame returned is the
  // first one that proves damage_at was durable when it was written (its
  // durable offset, capped at its own offset, is beyond damage_at): frames
  // that do not were written in the same unsynced stretch as the damage,
  // i.e. belong to a torn write. *count still counts every valid frame.
  Result<std::optional<uint64_t>> FindValidFrame(uint64_t from, uint64_t limit, uint64_t seed,
                                                 uint64_t* count,
                                                 std::optional<uint64_t> damage_at = std::nullopt);

  // One past the last non-zero byte in [from, limit), or `from` if they are
  // all zero: how far a torn write or garbage really reaches.
  Result<uint64_t> EndOfNonZero(uint64_t from, uint64_t limit);

  // Reads [offset, offset + n) (shorter at the end of the file) into
  // *scratch, returning a view of it (FromBytes: a view of the bytes,
  // *scratch unused).
  Result<std::string_view> Read(uint64_t offset, size_t n, std::string* scratch) const;

 private:
  SegmentReader(std::unique_ptr<io::File> file, std::string_view bytes, std::string name,
                uint64_t size)
      : file_(std::move(file)), bytes_(bytes), name_(std::move(name)), size_(size) {}

  // A view of [offset, offset + n) of the file (clamped to size_), served
  // from the window or read into it.
  Result<std::string_view> Window(uint64_t offset, uint64_t n);

  std::unique_ptr<io::File> file_;  // null for FromBytes
  const std::string_view bytes_;    // FromBytes only
  const std::string name_;
  const uint64_t size_;
  std::string window_;  // bytes [window_offset_, window_offset_ + window_.size())
  uint64_t window_offset_ = 0;
  std::unique_ptr<io::MappedRegion> big_frame_;  // a frame too large for the window
};

}  // namespace raftlog::engine
