// SnapshotReader: streams the data of one snapshot file block by block,
// verifying each block as it goes, so that a snapshot of any size can be read
// with memory bounded by one block.
//
// Open() reads and checks the header and the trailer (three small preads:
// the header's fixed prefix, the header, the trailer; no data), so a truncated or foreign file
// fails there; each ReadChunk() then reads one block with one pread and checks its checksum; the
// end of the data is reported only after the totals and the whole-data
// checksum in the trailer have been checked too. A reader therefore never
// hands out a byte it has not verified, and reaching the end (an empty chunk)
// means the whole file is intact.
//
// Thread-compatible: one thread at a time per reader; distinct readers (of
// the same file too) are independent. A reader keeps its file open, so the
// file may be removed or replaced under it (pruning, Remove, a Commit of the
// same name) and the reader goes on reading the old file.

#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "raftlog/format/checksum.h"
#include "raftlog/format/result.h"
#include "raftlog/format/status.h"
#include "raftlog/io/file_system.h"
#include "raftlog/snapshot/snapshot_format.h"
#include "raftlog/snapshot/snapshot_meta.h"

namespace raftlog::snapshot {

class SnapshotReader {
 public:
  // Opens the snapshot file at `path` through `fs` (which must outlive the
  // reader) and checks its header and trailer. info().name is the last
  // component of path. Returns:
  //   NotFound      no file at path;
  //   IOError       the file system failed;
  //   Corruption    bad magic, a checksum mismatch, a truncated file, fields
  //                 that disagree with the file size, naming path and offset;
  //   NotSupported  a newer format version.
  static Result<std::unique_ptr<SnapshotReader>> Open(io::FileSystem* fs, const std::string& path);

  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;

  const SnapshotInfo& info() const { return info_; }
  const SnapshotMeta& meta() const { return info_.meta; }
  const std::string& path() const { return file_->path(); }
  uint32_t block_bytes() const { return block_bytes_; }
  uint64_t block_count() const { return trailer_.block_count; }

  // The data of the next block, verified: non-empty until the data ends;
  // then, once the trailer's totals and whole-data checksum have been
  // checked, an empty view (and again on every later call). The view is
  // valid until the next ReadChunk or the reader's destruction.
  // Returns Corruption naming the file and the block's offset (checksum
  // mismatch, a length out of range), or IOError. Errors are sticky: after
  // one, every call returns it again.
  Result<std::string_view> ReadChunk();

  // True once ReadChunk has returned the empty view.
  bool done() const { return done_; }
  // The offset of the next block (or of the trailer, at the end).
  uint64_t offset() const { return offset_; }
  // Memory held for blocks: at most kBlockHeaderBytes + block_bytes().
  size_t buffer_capacity() const { return buffer_capacity_; }

 private:
  SnapshotReader(std::unique_ptr<io::File> file, SnapshotInfo info, SnapshotHeader header,
                 SnapshotTrailer trailer, uint64_t trailer_offset);

  Status CheckEnd();

  std::unique_ptr<io::File> file_;
  SnapshotInfo info_;
  uint64_t header_checksum_;
  uint32_t block_bytes_;
  SnapshotTrailer trailer_;
  // Where the trailer starts; blocks tile [header bytes, trailer_offset_).
  uint64_t trailer_offset_;

  // Invariant: offset_ is the start of block blocks_read_, or trailer_offset_.
  uint64_t offset_;
  uint64_t blocks_read_ = 0;
  uint64_t data_read_ = 0;
  format::StreamingChecksum data_checksum_;
  // Holds one block header and its data; allocated on the first ReadChunk
  // with min(kBlockHeaderBytes + block bytes, the bytes of all blocks).
  std::unique_ptr<char[]> buffer_;
  size_t buffer_capacity_ = 0;
  bool done_ = false;
  Status error_;
};

}  // namespace raftlog::snapshot
