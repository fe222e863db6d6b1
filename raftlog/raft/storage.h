// Storage: how the raft core reads the persisted log (etcd raft's Storage).
//
// Written for implementers. The raft core calls these methods from its own
// thread; an implementation may be written to concurrently by the application
// (e.g. Append on a storage thread), so every implementation in this project is
// internally synchronized.
//
// The log model. A storage holds a contiguous run of entries
// [FirstIndex(), LastIndex()] preceded by a compaction point at index
// FirstIndex()-1, whose term stays known after its entry is gone (etcd's
// "dummy entry"; it is the index/term of the latest snapshot or compaction).
// A new storage has FirstIndex()=1, LastIndex()=0 and Term(0)=0. With only
// the compaction point left, FirstIndex() = LastIndex()+1.
//
// Errors (Status codes), and what the raft core does with them:
//   kCompacted     the requested index is at or below the compaction point;
//                  the core falls back to sending a snapshot.
//   kUnavailable   the requested index is above LastIndex(). The core treats
//                  this from Entries() as fatal (etcd: "entries[a:b) is
//                  unavailable from storage"), so never lose entries.
//   kSnapshotTemporarilyUnavailable  Snapshot() is not ready yet; retried.
//   kSnapshotOutOfDate  returned by the writer side (WritableStorage).
//   kIOError, kCorruption, kInvalidArgument  a disk-backed implementation
//                  failed; the core cannot continue and stops.
//
// Ownership: every returned value is owned by the caller, who may modify or
// append to it without affecting the storage. Entry payloads are immutable
// shared Bytes: an implementation may hand out references to the bytes it
// keeps (MemoryStorage does) instead of copies, and keeps its own reference
// to what Append gave it rather than copying.

#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "raftlog/format/result.h"
#include "raftlog/format/status.h"
#include "raftlog/raft/types.h"

namespace raftlog::raft {

// etcd's noLimit: a max_size meaning "no byte cap".
inline constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();

// What InitialState() returns.
struct StoredState {
  HardState hard_state;
  ConfState conf_state;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // The saved HardState (empty if none was saved) and the ConfState of the
  // latest snapshot (empty if none).
  virtual Result<StoredState> InitialState() const = 0;

  // The consecutive entries [lo, hi), limited so that their summed EntrySize()
  // does not exceed max_size, except that at least one entry is returned when
  // lo < hi (so raft never stalls on one large entry).
  // Returns kCompacted if lo <= the compaction point (FirstIndex()-1), even
  // when hi is out of range. lo == hi in range gives an empty vector.
  // REQUIRES: lo <= hi <= LastIndex()+1 (etcd panics otherwise).
  virtual Result<std::vector<Entry>> Entries(uint64_t lo, uint64_t hi, uint64_t max_size) const = 0;

  // The term of entry i, for i in [FirstIndex()-1, LastIndex()]. The term at
  // FirstIndex()-1 (the compaction point) stays available.
  // Returns kCompacted for i < FirstIndex()-1 and kUnavailable for
  // i > LastIndex().
  virtual Result<uint64_t> Term(uint64_t i) const = 0;

  // The index of the last entry (the compaction point if there are none).
  virtual Result<uint64_t> LastIndex() const = 0;

  // The first index that Entries() may return; older entries are only
  // available through the snapshot.
  virtual Result<uint64_t> FirstIndex() const = 0;

  // The most recent snapshot, or kSnapshotTemporarilyUnavailable if one is
  // being prepared (raft retries later). A snapshot at index 0 means none.
  virtual Result<raft::Snapshot> Snapshot() const = 0;
};

// The writer side, with MemoryStorage's names and semantics. The conformance
// suite (tests/raft/storage_conformance.h) pins down every case.
class WritableStorage : public Storage {
 public:
  // Saves the HardState. MemoryStorage does no validation, as in etcd.
  virtual Status SetHardState(const HardState& hs) = 0;

  // Appends entries, which must be consecutive. Entries at or below the
  // compaction point are skipped; every stored entry at index >= the first
  // new index is discarded first (the batch becomes the new tail, even where
  // terms agree). An empty or wholly compacted batch is a no-op.
  // REQUIRES: entries.front().index <= LastIndex()+1 (no gap; etcd panics).
  virtual Status Append(std::span<const Entry> entries) = 0;

  // Discards the entries up to and including compact_index, which becomes the
  // compaction point (its term stays readable through Term()). The snapshot is
  // not changed. Returns kCompacted if compact_index <= the compaction point.
  // REQUIRES: compact_index <= LastIndex() (etcd panics otherwise).
  // The application must not compact past its applied index.
  virtual Status Compact(uint64_t compact_index) = 0;

  // Makes and stores a snapshot at index i with the term of entry i. If
  // conf_state is non-null it becomes the snapshot's ConfState, otherwise the
  // previous one is kept. data always replaces the old data. The log is not
  // compacted. Returns kSnapshotOutOfDate if i <= the stored snapshot's index.
  // REQUIRES: i <= LastIndex() (etcd panics otherwise).
  virtual Result<raft::Snapshot> CreateSnapshot(uint64_t i, const ConfState* conf_state,
                                                std::string data) = 0;

  // Replaces the storage's contents with the snapshot: every entry is dropped
  // and the snapshot's index/term becomes the compaction point. The HardState
  // is untouched. Returns kSnapshotOutOfDate if a stored snapshot exists
  // (index != 0) and its index >= snapshot.metadata.index (etcd v3.7: while
  // no snapshot is stored, an index-0 ConfState-only snapshot is accepted).
  virtual Status ApplySnapshot(const raft::Snapshot& snapshot) = 0;

  // Persists what one raft Ready asks for: the snapshot if non-empty, then
  // the HardState if non-empty, then the entries (all that are given; they
  // follow the snapshot). must_sync is Ready::MustSync (entries or a
  // term/vote change); when false a durable implementation may defer the
  // sync. Implementations override this to make the whole Ready cost one
  // sync (DiskStorage also writes the snapshot and the HardState in one
  // transaction); this default calls the methods above. (etcd's rafttest
  // writes the HardState first; for a durable storage that order could
  // leave, after a crash, a commit index above the log's end, on which raft
  // aborts at restart.)
  virtual Status Save(const HardState& hs, std::span<const Entry> entries,
                      const raft::Snapshot* snapshot, bool must_sync);
};

}  // namespace raftlog::raft
