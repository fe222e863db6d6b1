// RaftLog: the raft core's view of the log (etcd raft's log.go, raftLog).
//
// The log is the concatenation of two parts:
//
//   Storage (persisted)           Unstable (not yet persisted)
//   [FirstIndex() ... ]           [unstable.offset() ... LastIndex()]
//
// The unstable part may overlap the end of Storage: its entries then replace
// the stored ones from unstable.offset() on once persisted. An unstable
// snapshot, when present, replaces the whole log below it.
//
// Three positions track the application's progress through the log:
//   applied <= applying <= committed <= LastIndex()
// committed: known to be stored on a quorum; applying: handed to the
// application to apply (incremented when a Ready is accepted); applied:
// applied by the application (incremented on Advance or MsgStorageApplyResp).
// applied, applying and committed start at FirstIndex()-1, the latest
// compaction point, which the application has applied by construction.
//
// Storage errors follow etcd (reference table etcd-raft.md §1.4): Term()
// passes kCompacted/kUnavailable through; Slice() passes kCompacted through
// and panics on kUnavailable ("entries[a:b) is unavailable from storage");
// FirstIndex/LastIndex and any other error panic. Panics go to the Logger.
//
// Sizes: every byte limit counts raft::EntrySize() (raftlog/raft/types.h), the one
// size function that Storage::Entries and the message limits also use.
//
// Ownership: the RaftLog borrows the Storage and the Logger, which must
// outlive it. Entries it returns as std::vector<Entry> are the caller's own
// copies. The std::span views (NextUnstableEnts, UnstableEntries) alias the
// unstable log and are valid until the next non-const call: the caller that
// keeps them past that (e.g. a Ready handed to the application) copies them
// once, which is the only copy of a new entry on its way to Storage.
//
// Thread-safety: not thread-safe; owned by the raft state machine. The
// Storage may be written concurrently by the application if its own
// implementation allows that.

#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "raftlog/format/result.h"
#include "raftlog/format/status.h"
#include "raftlog/raft/internal/log_slice.h"
#include "raftlog/raft/internal/unstable.h"
#include "raftlog/raft/logger.h"
#include "raftlog/raft/storage.h"
#include "raftlog/raft/types.h"

namespace raftlog::raft::internal {

class RaftLog {
 public:
  // etcd's newLog: a log over `storage` restored to the state where it has
  // just committed and applied the storage's latest snapshot (or compaction
  // point), with no limit on outstanding applying bytes.
  // Panics if the storage cannot report its first or last index.
  static RaftLog NewLog(const Storage& storage, Logger& logger);

  // etcd's newLogWithSize: as NewLog, limiting the bytes (EntrySize sums) of
  // committed entries handed out by NextCommittedEnts and not yet acknowledged
  // by AppliedTo to `max_applying_ents_size` (at least one entry is always
  // handed out). kNoLimit means unlimited.
  static RaftLog NewLogWithSize(const Storage& storage, Logger& logger,
                                uint64_t max_applying_ents_size);

  RaftLog(RaftLog&&) noexcept = default;
  RaftLog& operator=(RaftLog&&) noexcept = default;
  RaftLog(const RaftLog&) = delete;
  RaftLog& operator=(const RaftLog&) = delete;

  // "committed=%d, applied=%d, applying=%d, unstable.offset=%d,
  // unstable.offsetInProgress=%d, len(unstable.Entries)=%d" (etcd's String()).
  std::string String() const;

  // Appends the leader's log slice `a` if its prev entry matches this log
  // (Raft paper §5.3): entries already present are skipped, a conflicting
  // suffix of this log is truncated, the rest appended; then committed
  // advances to min(committed, index of the last new entry).
  // Returns the index of the last entry of `a` (a.LastIndex()), or nullopt if
  // a.prev does not match (the caller rejects the append).
  // Panics if a conflict lies at or below the committed index.
  // REQUIRES: a.Valid().
  std::optional<uint64_t> MaybeAppend(LogSlice a, uint64_t committed);

  // Appends `ents` to the unstable log, truncating any entries at or after
  // ents[0].index first. Returns the new last index (the old one if `ents`
  // is empty). Panics if ents[0].index - 1 < committed.
  // REQUIRES: consecutive indexes, ents[0].index <= LastIndex()+1.
  uint64_t Append(std::vector<Entry> ents);

  // The index of the first entry of `ents` whose term differs from this
  // log's entry at the same index, or of the first entry past LastIndex() if
  // all overlapping entries match; 0 if `ents` is empty or wholly contained
  // in this log. Logs an INFO line for a conflict inside the log.
  // REQUIRES: consecutive indexes.
  uint64_t FindConflict(std::span<const Entry> ents) const;

  // A best guess of where this log stops matching another log known only by
  // one entry (index, term): returns (guess_index, guess_term) with the
  // largest guess_index <= index such that term(guess_index) <= term or is
  // unknown (compacted or not stored); guess_term is term(guess_index), or 0
  // if unknown. Used by followers to hint and by leaders to probe after a
  // rejected append.
  std::pair<uint64_t, uint64_t> FindConflictByTerm(uint64_t index, uint64_t term) const;

  // The unstable entries not yet being written to storage (view; see the
  // ownership note above).
  std::span<const Entry> NextUnstableEnts() const { return unstable_.NextEntries(); }
  bool HasNextUnstableEnts() const { return !NextUnstableEnts().empty(); }
  // Whether there are unstable entries either waiting or being written.
  bool HasNextOrInProgressUnstableEnts() const { return !unstable_.entries().empty(); }
  // All unstable entries, in progress or not (view).
  std::span<const Entry> UnstableEntries() const { return unstable_.entries(); }

  // The committed entries that may be handed to the application to apply,
  // from applying+1 on, limited to the outstanding-bytes budget (at least one
  // entry if any is due). With allow_unstable, committed entries not yet
  // durable locally are included; otherwise only those at or below the
  // stable boundary. Empty while paused or while a snapshot is pending.
  std::vector<Entry> NextCommittedEnts(bool allow_unstable) const;
  // Whether NextCommittedEnts would return entries, without fetching them.
  bool HasNextCommittedEnts(bool allow_unstable) const;

  // The unstable snapshot if one exists that is not yet being written
  // (immutable and shared), else null.
  std::shared_ptr<const raft::Snapshot> NextUnstableSnapshot() const {
    return unstable_.NextSnapshot();
  }
  bool HasNextUnstableSnapshot() const { return unstable_.NextSnapshot() != nullptr; }
  // Whether a snapshot is waiting to be written or being written.
  bool HasNextOrInProgressSnapshot() const { return unstable_.snapshot() != nullptr; }

  // The unstable snapshot if any, else the storage's; the storage's errors
  // (e.g. kSnapshotTemporarilyUnavailable) are returned as they are.
  Result<raft::Snapshot> Snapshot() const;

  uint64_t FirstIndex() const;
  uint64_t LastIndex() const;
  // The ID of the last entry. Panics if its term cannot be read.
  EntryID LastEntryID() const;

  // Raises committed to `to_commit` (never lowers it). Panics if to_commit
  // is beyond LastIndex(): the log was corrupted, truncated or lost.
  void CommitTo(uint64_t to_commit);

  // Records that the application applied everything up to i, releasing
  // `size` bytes (EntrySize sum) of the applying budget; unpauses
  // application if that brings the outstanding bytes under the limit.
  // Panics unless applied <= i <= committed.
  void AppliedTo(uint64_t i, uint64_t size);

  // Records that entries up to i (of `size` bytes) were handed to the
  // application, and pauses further hand-outs if the budget is used up or
  // the hand-out was cut short by it (i below the appliable index).
  // Panics if i > committed.
  void AcceptApplying(uint64_t i, uint64_t size, bool allow_unstable);

  // Marks the unstable entries up to `id` as persisted (see Unstable::StableTo).
  void StableTo(EntryID id) { unstable_.StableTo(id); }
  // Marks the unstable snapshot at index i as persisted.
  void StableSnapTo(uint64_t i) { unstable_.StableSnapTo(i); }
  // The application started persisting the current unstable entries and
  // snapshot: they are marked in progress so that later Readys skip them.
  void AcceptUnstable() { unstable_.AcceptInProgress(); }

  // The term of entry i, for i in [FirstIndex()-1, LastIndex()].
  // kCompacted for i < FirstIndex()-1, kUnavailable for i > LastIndex()
  // (and those codes from Storage pass through). Other storage errors panic.
  Result<uint64_t> Term(uint64_t i) const;
  // etcd's zeroTermOnOutOfBounds: the term, or 0 for kCompacted/kUnavailable.
  // Panics on any other error.
  uint64_t ZeroTermOnOutOfBounds(const Result<uint64_t>& term) const;

  // The entries from i to LastIndex(), limited to max_size bytes (at least
  // one). Empty if i > LastIndex(). kCompacted if i < FirstIndex().
  Result<std::vector<Entry>> Entries(uint64_t i, uint64_t max_size) const;
  // Every entry from FirstIndex() on, unlimited; retries if a concurrent
  // compaction of the storage races with the read. Panics on other errors.
  std::vector<Entry> AllEntries() const;

  // Whether a log whose last entry is `their` is at least as up to date as
  // this one (Raft paper §5.4.1): a later last term wins; with equal last
  // terms, the longer log wins; equal logs count as up to date.
  bool IsUpToDate(EntryID their) const;

  // Whether this log holds entry `id` (its index has that term).
  bool MatchTerm(EntryID id) const;

  // Commits up to at.index if it is beyond committed and this log holds
  // entry `at` (term != 0; Raft paper §5.4.2: a leader only commits entries
  // of its own term by counting). Returns whether committed changed.
  bool MaybeCommit(EntryID at);

  // Resets the log to the snapshot: committed = its index, unstable holds
  // the snapshot and no entries. The first overload shares the snapshot.
  // REQUIRES: snapshot != nullptr.
  void Restore(std::shared_ptr<const raft::Snapshot> snapshot);
  void Restore(const raft::Snapshot& snapshot);

  // The entries [lo, hi), at least one if lo < hi, then as many as fit in
  // max_size bytes. kCompacted if lo < FirstIndex(). Panics if lo > hi or
  // hi > LastIndex()+1, or if Storage reports entries in range unavailable.
  Result<std::vector<Entry>> Slice(uint64_t lo, uint64_t hi, uint64_t max_size) const;

  // Visits the entries [lo, hi) in consecutive pages of up to page_size bytes
  // (a page holds more only when one entry alone exceeds it), calling
  // `visit` on each. Stops at and returns the first error: a Slice error, a
  // page of 0 entries for a non-empty range (kUnavailable: Storage broke its
  // contract), or an error returned by `visit` (use one to stop early).
  Status Scan(uint64_t lo, uint64_t hi, uint64_t page_size,
              const std::function<Status(std::span<const Entry>)>& visit) const;

  // OK if FirstIndex() <= lo <= hi <= LastIndex()+1; kCompacted if
  // lo < FirstIndex(). Panics if lo > hi or hi > LastIndex()+1.
  Status MustCheckOutOfBounds(uint64_t lo, uint64_t hi) const;

  uint64_t committed() const { return committed_; }
  uint64_t applying() const { return applying_; }
  uint64_t applied() const { return applied_; }
  uint64_t max_applying_ents_size() const { return max_applying_ents_size_; }
  uint64_t applying_ents_size() const { return applying_ents_size_; }
  bool applying_ents_paused() const { return applying_ents_paused_; }
  const Unstable& unstable() const { return unstable_; }
  Logger& logger() const { return *logger_; }
  // The storage underneath (e.g. for RawNode::Bootstrap, which must look at
  // what is persisted rather than at the unstable log).
  const Storage& storage() const { return *storage_; }

  // Sets committed directly, for raft's loadState (which has checked that the
  // HardState's commit lies in [committed, LastIndex()]) and for tests.
  // REQUIRES: applying <= c <= LastIndex().
  void set_committed(uint64_t c) { committed_ = c; }
  // etcd's tests set applyingEntsPaused directly.
  void set_applying_ents_paused_for_test(bool paused) { applying_ents_paused_ = paused; }

 private:
  RaftLog(const Storage& storage, Logger& logger, uint64_t max_applying_ents_size,
          uint64_t first_index, uint64_t last_index);

  // The highest committed index that may be applied: committed, capped at
  // the last stable index unless allow_unstable.
  uint64_t MaxAppliableIndex(bool allow_unstable) const;

  // Panics with the storage's error (etcd's panic(err) on storage failures).
  [[noreturn]] void PanicOnStorageError(const Status& status) const;

  const Storage* storage_;  // borrowed; holds the stable entries since the last snapshot
  // The entries and snapshot not yet persisted; they will be saved into storage.
  Unstable unstable_;

  // The highest log position known to be stored on a quorum of nodes.
  uint64_t committed_;
  // The highest log position the application has been told to apply; some of
  // these entries may still be being applied. Advanced when a Ready is
  // accepted. Invariant: applied_ <= applying_ <= committed_.
  uint64_t applying_;
  // The highest log position the application has applied. Advanced on
  // Advance (or MsgStorageApplyResp). Invariant: applied_ <= committed_.
  uint64_t applied_;

  Logger* logger_;  // borrowed

  // Limit on the bytes (EntrySize sum) handed out by NextCommittedEnts and
  // not yet acknowledged through AppliedTo.
  uint64_t max_applying_ents_size_;
  // The bytes currently handed out and not yet acknowledged.
  uint64_t applying_ents_size_ = 0;
  // True when hand-outs are paused until enough is acknowledged.
  bool applying_ents_paused_ = false;
};

}  // namespace raftlog::raft::internal
