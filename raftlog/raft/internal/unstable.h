// Unstable: the log entries and snapshot not yet written to Storage (etcd
// raft's log_unstable.go).
//
// It plays two roles. First, it holds new entries and an optional incoming
// snapshot until they are handed to a Ready (or a MsgStorageAppend) for
// persistence. Second, it keeps holding them after the hand-off, so that
// RaftLog sees the in-progress writes, until the application reports them
// durable (StableTo / StableSnapTo) and Storage is guaranteed to reflect them.
// Only then are they dropped here.
//
// entries_[i] has raft log index offset_ + i. offset_ may be lower than the
// last index in Storage: the next write to Storage must then truncate the
// stored log before appending these entries.
//
// Ownership: the class owns its entries and shares its snapshot immutably.
// Spans it returns (NextEntries, Slice, entries) are views into its storage,
// valid until the next non-const call; copy them to keep them.
//
// Misuse that etcd answers with a panic (an out-of-bounds slice) goes to the
// Logger's Panic, with etcd's text.
//
// Thread-safety: not thread-safe; owned by one RaftLog on the raft thread.

#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "raftlog/raft/internal/log_slice.h"
#include "raftlog/raft/logger.h"
#include "raftlog/raft/types.h"

namespace raftlog::raft::internal {

class Unstable {
 public:
  // An empty unstable log whose next entry will have index `offset` (the
  // storage's LastIndex()+1). `logger` is borrowed and must outlive this.
  Unstable(uint64_t offset, Logger* logger);

  // etcd's tests build `unstable{...}` literals; this is that constructor.
  // REQUIRES: invariants 1-2 below hold for the given state.
  static Unstable ForTest(std::vector<Entry> entries, uint64_t offset, uint64_t offset_in_progress,
                          std::shared_ptr<const Snapshot> snapshot, bool snapshot_in_progress,
                          Logger* logger);

  Unstable(Unstable&&) noexcept = default;
  Unstable& operator=(Unstable&&) noexcept = default;
  Unstable(const Unstable&) = delete;
  Unstable& operator=(const Unstable&) = delete;

  // The index of the first possible entry if there is an unstable snapshot
  // (its index + 1), else nullopt.
  std::optional<uint64_t> MaybeFirstIndex() const;

  // The last index if there is at least one unstable entry or a snapshot.
  std::optional<uint64_t> MaybeLastIndex() const;

  // The term of entry i if this unstable log knows it: an unstable entry, or
  // the unstable snapshot's own index.
  std::optional<uint64_t> MaybeTerm(uint64_t i) const;

  // The entries not yet being written to storage (those from
  // offset_in_progress_ on); empty if all are in progress. A view, valid until
  // the next non-const call.
  std::span<const Entry> NextEntries() const;

  // The snapshot if there is one not yet being written to storage, else null.
  // The snapshot is immutable and shared; holding it is cheap and safe.
  std::shared_ptr<const Snapshot> NextSnapshot() const;

  // Marks all current entries and the snapshot, if any, as being written to
  // storage: NextEntries/NextSnapshot no longer return them. Entries or a
  // snapshot added later are returned until the next AcceptInProgress.
  void AcceptInProgress();

  // Marks the entries up to and including `id` as durably written. Ignored
  // (with a log line) if the entry is not in this unstable log, if its index
  // matches the unstable snapshot instead, or if its term differs: part of the
  // log may have been replaced between the start and the end of the write.
  // REQUIRES: the caller knows no in-progress append can still overwrite these
  // entries (see etcd's newStorageAppendRespMsg).
  void StableTo(EntryID id);

  // Forgets the unstable snapshot if its index is i (it is now in storage).
  void StableSnapTo(uint64_t i);

  // Replaces everything with the snapshot: no entries, offset = index + 1.
  // The first overload shares `snapshot` (e.g. straight from a MsgSnap).
  // REQUIRES: snapshot != nullptr.
  void Restore(std::shared_ptr<const Snapshot> snapshot);
  void Restore(const Snapshot& snapshot);

  // Appends `ents`, first truncating the unstable log at ents[0].index if it
  // overlaps. Entries at or after that index that were in progress are no
  // longer in progress.
  // REQUIRES: !ents.empty(), consecutive; ents[0].index <= offset + size
  // (no gap; otherwise panics with etcd's out-of-bound message).
  void TruncateAndAppend(std::vector<Entry> ents);

  // The entries with indexes in [lo, hi), as a view valid until the next
  // non-const call. The whole range must be in this unstable log; otherwise
  // panics (MustCheckOutOfBounds).
  std::span<const Entry> Slice(uint64_t lo, uint64_t hi) const;

  // Panics unless offset <= lo <= hi <= offset + entries.size().
  void MustCheckOutOfBounds(uint64_t lo, uint64_t hi) const;

  // Read access to the state, for RaftLog and tests.
  std::span<const Entry> entries() const { return entries_; }
  const std::shared_ptr<const Snapshot>& snapshot() const { return snapshot_; }
  uint64_t offset() const { return offset_; }
  uint64_t offset_in_progress() const { return offset_in_progress_; }
  bool snapshot_in_progress() const { return snapshot_in_progress_; }

 private:
  // One past the last unstable entry.
  uint64_t End() const { return offset_ + entries_.size(); }
  // asserts the invariants below (debug builds).
  void CheckInvariants() const;

  // Invariants, true between any two public calls and asserted at the end of
  // every mutator in debug builds (CheckInvariants):
  //   1. entries_[i].index == offset_ + i.
  //   2. offset_ <= offset_in_progress_ <= offset_ + entries_.size().
  //   3. snapshot_in_progress_ implies snapshot_ != nullptr.
  // And, maintained by RaftLog (which never appends below its committed index,
  // itself >= the snapshot's index) rather than by this class:
  //   4. if snapshot_ != nullptr, offset_ == snapshot_->metadata.index + 1.

  // The incoming unstable snapshot, if any. Immutable, so it can be shared
  // with the Ready that persists it and with messages.
  std::shared_ptr<const Snapshot> snapshot_;
  // All entries not yet known to be in storage; entries_[i] has index offset_ + i.
  std::vector<Entry> entries_;
  uint64_t offset_ = 0;
  // True while the snapshot is being written to storage.
  bool snapshot_in_progress_ = false;
  // entries_[0 .. offset_in_progress_ - offset_) are being written to storage.
  // Like offset_ it is exclusive: the index after the last in-progress entry.
  uint64_t offset_in_progress_ = 0;
  Logger* logger_;  // borrowed; must outlive this
};

}  // namespace raftlog::raft::internal
