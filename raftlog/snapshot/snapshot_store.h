// SnapshotStore: a directory of durable, checksummed snapshot files.
//
// Files and naming. Each snapshot is one file named
// <term:16 hex>-<index:16 hex>.snap (SnapshotFileName), laid out as in
// snapshot_format.h: a header with the metadata, the data in checksummed
// blocks, and a trailer with totals. A snapshot is written to
// <name>.tmp and becomes visible only by rename. The store touches no other
// files: any name that is neither a snapshot name nor a temp name is left
// alone, and only temp names are ever removed without being asked.
//
// Crash windows of a write (SnapshotWriter::Commit), and what a restart sees:
//   1. while blocks are written, before the fdatasync: at most a temp file,
//      possibly partial or empty. Open removes it; no new snapshot.
//   2. after the fdatasync, before the rename: a complete temp file; still
//      only a temp file, removed by Open; no new snapshot.
//   3. after the rename, before the directory fsync returns: either the old
//      directory (no new snapshot, or the previous file of the same name) or
//      the new name on the complete, synced file. Commit has not returned,
//      so the caller has promised nothing to anyone yet; both are fine.
//   4. after the directory fsync: the new snapshot, complete. Only now does
//      Commit return OK, so a caller may act on it (e.g. compact the log).
//   5. pruning of older snapshots after that: each unlink is atomic, and an
//      old snapshot that reappears after a crash (the unlinks are not
//      fsynced) is pruned again by the next Commit or Retain.
// A snapshot file is never modified in place, so a reader sees a complete
// file or none.
//
// Damaged files. A file named like a snapshot whose header or trailer fails
// its checks (or whose header disagrees with its name) never makes List fail:
// Scan reports it in `damaged` with the Status saying what is wrong, and List
// and Latest leave it out. It never counts towards `keep` and is never removed
// automatically (it is evidence for an operator or the `raftlog` tool);
// Remove deletes it on request.
//
// Thread-safety: every method of SnapshotStore is safe to call concurrently.
// Any number of readers (OpenReader, Load, Verify, List) may run alongside
// writers; writers of different names may run at once (a second BeginWrite of
// a name being written is refused with Busy); renames and removals are
// serialized. A reader of a file that is pruned, removed or replaced keeps
// reading the file it opened (an open file survives unlink on Linux). One
// store per directory: two stores (or processes) on one directory are not
// coordinated here; the engine's LOCK file is what excludes a second process.

#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "raftlog/format/result.h"
#include "raftlog/format/status.h"
#include "raftlog/io/file_system.h"
#include "raftlog/port/mutex.h"
#include "raftlog/port/thread_annotations.h"
#include "raftlog/snapshot/snapshot_meta.h"
#include "raftlog/snapshot/snapshot_reader.h"
#include "raftlog/snapshot/snapshot_writer.h"

namespace raftlog::snapshot {

struct SnapshotStoreOptions {
  // How many snapshots Commit leaves (the newest by index, then term). At
  // least 1.
  size_t keep = 3;
  // Data bytes per block: the writer's memory bound and the unit of
  // verification while streaming. 1..kMaxBlockBytes.
  size_t block_bytes = size_t{1} << 20;
  // Open neither creates the directory nor removes leftover temp files, and
  // BeginWrite, Write, Remove and Retain return FailedPrecondition. For tools
  // that inspect a directory without changing it.
  bool read_only = false;
};

// Counters since Open.
struct SnapshotStoreStats {
  // Leftover temp files (interrupted writes) that Open found, and how many of
  // them it removed (all of them unless read_only or an unlink failed).
  uint64_t temp_files_found = 0;
  uint64_t temp_files_removed = 0;
  // Snapshots removed by keep-N pruning (Commit and Retain).
  uint64_t snapshots_pruned = 0;
  // OK, or the most recent failure to prune after a Commit (Commit itself
  // succeeded; the next Commit or Retain tries again).
  Status last_prune_status;
};

// A file named like a snapshot that cannot be read as one.
struct DamagedSnapshot {
  std::string name;
  // Corruption (naming the file and offset), NotSupported (a newer format
  // version) or IOError.
  Status status;
};

struct SnapshotListing {
  // Valid snapshots, newest first (by index, then term).
  std::vector<SnapshotInfo> snapshots;
  // Damaged files, in name order.
  std::vector<DamagedSnapshot> damaged;
};

class SnapshotStore {
 public:
  using Options = SnapshotStoreOptions;

  // Opens the store in `dir` through `fs` (which must outlive the store; the
  // usual choice is io::FileSystem::Default()). Creates the directory with
  // mode 0700 if it is missing (and fsyncs its parent so that it survives a
  // crash), and removes leftover temp files of interrupted writes, counted in
  // stats(). Returns InvalidArgument for bad options, NotFound if read_only
  // and dir does not exist, IOError if the file system fails.
  static Result<std::unique_ptr<SnapshotStore>> Open(io::FileSystem* fs, std::string dir,
                                                     Options options = {});

  // REQUIRES: every SnapshotWriter of this store has been committed, has
  // failed or has been destroyed (aborts otherwise).
  ~SnapshotStore();
  SnapshotStore(const SnapshotStore&) = delete;
  SnapshotStore& operator=(const SnapshotStore&) = delete;

  // Starts writing the snapshot `meta`, to be named
  // SnapshotFileName(meta.term, meta.index); see SnapshotWriter. The store
  // must outlive the writer. Returns InvalidArgument if conf_state exceeds
  // kMaxConfStateBytes, Busy if a writer for that name is alive,
  // FailedPrecondition if read_only, IOError if the temp file cannot be
  // created or written.
  Result<std::unique_ptr<SnapshotWriter>> BeginWrite(const SnapshotMeta& meta);

  // BeginWrite, Append(data), Commit.
  Result<SnapshotInfo> Write(const SnapshotMeta& meta, std::string_view data);

  // Every file named like a snapshot, read by its header and trailer only
  // (no data), split into valid and damaged ones. Temp files and other names
  // are ignored, as are files that vanish while being listed. Returns an
  // error only if the directory itself cannot be listed (IOError, NotFound).
  Result<SnapshotListing> Scan();
  // Scan().snapshots: the valid snapshots, newest first.
  Result<std::vector<SnapshotInfo>> List();
  // The newest valid snapshot, or nullopt if there is none.
  Result<std::optional<SnapshotInfo>> Latest();

  // Opens the snapshot file `name` (a name in this directory, not a path).
  // Returns InvalidArgument if `name` is not a snapshot file name; NotFound;
  // Corruption if its header names a different term or index than its name;
  // otherwise as SnapshotReader::Open.
  Result<std::unique_ptr<SnapshotReader>> OpenReader(const std::string& name);

  // The whole data of snapshot `name`, verified (header, every block,
  // trailer). Memory: the data; for large snapshots prefer OpenReader.
  // Errors as OpenReader and SnapshotReader::ReadChunk.
  Result<std::pair<SnapshotInfo, std::string>> Load(const std::string& name);

  // A full verification pass over `name` with memory bounded by one block.
  // OK if the file is intact; errors as Load.
  Status Verify(const std::string& name);

  // Removes snapshot file `name` (valid or damaged) and fsyncs the directory.
  // Returns InvalidArgument if `name` is not a snapshot file name, NotFound,
  // IOError, or FailedPrecondition if read_only.
  Status Remove(const std::string& name);

  // Removes all but the newest `keep` valid snapshots (damaged files stay),
  // then fsyncs the directory if anything was removed. Returns
  // InvalidArgument if keep is 0, FailedPrecondition if read_only, or the
  // first IOError (it still tries every file).
  Status Retain(size_t keep);

  const std::string& dir() const { return dir_; }
  const Options& options() const { return options_; }
  SnapshotStoreStats stats() const EXCLUDES(mu_);

 private:
  friend class SnapshotWriter;

  SnapshotStore(io::FileSystem* fs, std::string dir, Options options);

  std::string PathOf(std::string_view name) const;
  Status CheckWritable() const;

  // Called by SnapshotWriter::Commit once the temp file is complete and
  // synced: renames it to `name`, fsyncs the directory, then prunes to
  // options_.keep sparing `name`. On a rename or fsync failure it removes
  // the temp file or the renamed file (best effort) and returns the error.
  Status Publish(const std::string& temp_path, const std::string& name) EXCLUDES(publish_mu_, mu_);
  // Called once by every writer when it stops writing `name`.
  void EndWrite(const std::string& name) EXCLUDES(mu_);

  // Removes all but the newest `keep` valid snapshots, never `spare`.
  // Returns the first failure; sets *removed to the number removed.
  Status PruneLocked(size_t keep, std::string_view spare, size_t* removed) REQUIRES(publish_mu_)
      EXCLUDES(mu_);

  io::FileSystem* const fs_;
  const std::string dir_;
  const Options options_;

  // Serializes the changes to the directory's snapshot names (the rename of
  // a Commit with its pruning, Remove, Retain), so that pruning never races
  // a rename. Acquired before mu_. Held across fsyncs; readers never take it.
  port::Mutex publish_mu_ ACQUIRED_BEFORE(mu_);

  mutable port::Mutex mu_;
  // Guarded by mu_:
  // The names for which a SnapshotWriter is alive and not yet committed or
  // failed.
  std::set<std::string> writing_ GUARDED_BY(mu_);
  SnapshotStoreStats stats_ GUARDED_BY(mu_);
};

}  // namespace raftlog::snapshot
