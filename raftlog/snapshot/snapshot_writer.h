// SnapshotWriter: writes one snapshot file by streaming, made by
// SnapshotStore::BeginWrite.
//
// Data handed to Append in chunks of any size is cut into blocks of the
// store's block size, each written (with its length and checksum) as soon as
// it is full, so the writer holds at most one block of data whatever the
// snapshot's size. A chunk that covers whole blocks is written straight from
// the caller's bytes without a copy.
//
// Everything goes to a temp file (<name>.tmp) that no reader lists. Commit
// adds the trailer, fdatasyncs the file, renames it to its final name,
// fsyncs the directory and only then reports success; see snapshot_store.h
// for the crash windows. Any failed step, and destroying a writer that was
// not committed, removes the temp file (best effort: a temp file that cannot
// be removed is removed by the next SnapshotStore::Open).
//
// Thread-compatible: one thread at a time per writer. Several writers (for
// different snapshots) may be used at once on different threads.

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
#include "raftlog/snapshot/snapshot_meta.h"

namespace raftlog::snapshot {

class SnapshotStore;

class SnapshotWriter {
 public:
  // Removes the temp file unless Commit succeeded.
  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // Appends `chunk` (any size, empty included) to the snapshot's data.
  // Returns IOError if a write fails (ENOSPC, EIO); the writer is then
  // failed: the temp file is gone and every later call returns
  // FailedPrecondition. FailedPrecondition after Commit.
  Status Append(std::string_view chunk);

  // Finishes the file and makes it durable under its final name, replacing
  // any snapshot of the same name; then prunes the store to its newest
  // `keep` snapshots, never removing this one. Pruning is best effort: its
  // failures are reported in SnapshotStore::stats(), not here, because the
  // new snapshot is durable by then.
  // Returns the new snapshot's info, or:
  //   IOError             a write, the fdatasync, the rename or the
  //                       directory fsync failed. No new snapshot is visible
  //                       (if the directory fsync failed, the renamed file is
  //                       unlinked again, and with it a snapshot of the same
  //                       name that it had replaced), the temp file has been
  //                       removed, and other snapshots are untouched;
  //   FailedPrecondition  an earlier step failed, or Commit already succeeded.
  Result<SnapshotInfo> Commit();

  const SnapshotMeta& meta() const { return meta_; }
  // The final file name, SnapshotFileName(term, index).
  const std::string& name() const { return name_; }
  // Data bytes appended so far.
  uint64_t data_bytes() const { return data_bytes_; }
  // Data bytes appended but not yet written: always less than a block.
  size_t buffered_bytes() const { return buffered_; }
  // Memory held for the partial block: never more than the block size.
  size_t buffer_capacity() const { return buffer_capacity_; }

 private:
  friend class SnapshotStore;

  enum class State { kOpen, kCommitted, kFailed };

  // `store` must outlive the writer; BeginWrite has written the header
  // (header_bytes bytes) to `file`, which is the temp file temp_path.
  SnapshotWriter(SnapshotStore* store, io::FileSystem* fs, SnapshotMeta meta, std::string name,
                 std::string temp_path, std::unique_ptr<io::File> file, uint32_t block_bytes,
                 uint64_t header_checksum, uint64_t header_bytes);

  // Frames and writes one block at offset_. REQUIRES: 1 <= data.size() <=
  // block_bytes_.
  Status WriteBlock(std::string_view data);
  // Makes room for `want` buffered bytes, growing geometrically up to a block.
  void Reserve(size_t want);
  // Marks the writer failed with `status`, closes and removes the temp file,
  // and returns `status`.
  Status Fail(Status status);
  // Tells the store this name is no longer being written (once).
  void Release();

  SnapshotStore* const store_;
  io::FileSystem* const fs_;
  const SnapshotMeta meta_;
  const std::string name_;
  const std::string temp_path_;
  std::unique_ptr<io::File> file_;  // null once closed
  const uint32_t block_bytes_;
  const uint64_t header_checksum_;

  // Where the next block goes: the header plus every block written so far.
  uint64_t offset_;
  uint64_t block_count_ = 0;
  // Appended bytes, including the buffered_ not yet written.
  uint64_t data_bytes_ = 0;
  format::StreamingChecksum data_checksum_;

  // Invariant: buffered_ < block_bytes_ between calls; buffer_capacity_ <=
  // block_bytes_.
  std::unique_ptr<char[]> buffer_;
  size_t buffer_capacity_ = 0;
  size_t buffered_ = 0;

  State state_ = State::kOpen;
  Status error_;  // why the writer failed, when state_ == kFailed
  bool temp_exists_ = true;
  bool registered_ = true;  // the store counts this name as being written
};

}  // namespace raftlog::snapshot
