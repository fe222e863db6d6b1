// The reliability tests' model of a DiskStorage: what it must hold, as plain
// values (StorageState); the operations that change it, with DiskStorage's
// semantics (etcd MemoryStorage's); the states a call may leave behind when it
// fails part way (Outcomes); the bounds on the commit index, which a crash may
// lower (CommitBounds); and a Harness that runs a DiskStorage on a
// FaultFileSystem and keeps the model of everything acknowledged.
//
// The rule every check applies: after a fault, a power loss or a
// crash, a reopen yields a valid log that contains every acknowledged entry and
// HardState and nothing that was never written. So the reopened state is the
// acknowledged state, or the state after the interrupted call, or one of the
// states that call passes through (it makes its changes in a fixed order:
// snapshot, then HardState, then the suffix cut, then the entries, frame by
// frame); and its HardState is at least as new as any entry on disk.
//
// Thread-compatible (tests are single-threaded).

#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/engine/disk_storage.h"
#include "raftlog/format/result.h"
#include "raftlog/raft/types.h"
#include "tests/testutil/fault_file_system.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::reliability {

// Everything a reader of a DiskStorage can see.
struct StorageState {
  uint64_t first = 1;                // FirstIndex()
  uint64_t prev_term = 0;            // Term(first - 1): the compaction point's term
  std::vector<raft::Entry> entries;  // [first, last()]
  uint64_t term = 0;                 // InitialState's HardState
  uint64_t vote = 0;
  uint64_t commit = 0;      // compared by CheckCommit, not by SameContents
  raft::Snapshot snapshot;  // Snapshot(): metadata (with the ConfState) and data

  uint64_t last() const { return first - 1 + entries.size(); }
  // The term of the last index (prev_term if the log is empty).
  uint64_t last_term() const { return entries.empty() ? prev_term : entries.back().term; }
  // REQUIRES: first - 1 <= index <= last().
  uint64_t TermAt(uint64_t index) const;
  raft::HardState hard_state() const { return raft::HardState{term, vote, commit}; }

  // DiskStorage's writer side on the model. REQUIRES: the call is valid (the
  // tests only make valid calls; DiskStorage's own errors for misuse are
  // tested by the conformance suite).
  void Append(std::span<const raft::Entry> batch);
  void SetHardState(const raft::HardState& hs);
  void Compact(uint64_t index);
  void CreateSnapshot(uint64_t index, const raft::ConfState* conf_state, std::string data);
  void ApplySnapshot(const raft::Snapshot& snapshot);
  void Save(const raft::HardState& hs, std::span<const raft::Entry> batch,
            const raft::Snapshot* snapshot);
};

// Equal in everything but the commit index.
bool SameContents(const StorageState& a, const StorageState& b);

// "log [first, last] prev_term p terms 1x3 2x5, hs term/vote/commit, snapshot
// index/term (n bytes)": short enough for a failure message.
std::string Describe(const StorageState& s);

// Reads everything back through DiskStorage's reader side. Any error is
// returned (a reopened log must read without error).
Result<StorageState> ReadState(const engine::DiskStorage& storage);

// The states a call may leave on disk.
struct Outcomes {
  StorageState after;  // if it returned OK
  // If it failed (or the power failed during it): any of these, or `after`.
  // partial.front() is the state before the call.
  std::vector<StorageState> partial;

  // Whether `got` is `after` (succeeded) or any acceptable state (failed).
  bool Accepts(const StorageState& got, bool succeeded) const;
};

Outcomes SaveOutcomes(const StorageState& before, const raft::HardState& hs,
                      std::span<const raft::Entry> batch, const raft::Snapshot* snapshot);
Outcomes AppendOutcomes(const StorageState& before, std::span<const raft::Entry> batch);
Outcomes CompactOutcomes(const StorageState& before, uint64_t index);
Outcomes CreateSnapshotOutcomes(const StorageState& before, uint64_t index,
                                const raft::ConfState* conf_state, const std::string& data);
Outcomes ApplySnapshotOutcomes(const StorageState& before, const raft::Snapshot& snapshot);

// What the commit index may be after a reopen. A change of the commit index
// alone is not synced (etcd's MustSync rule), so a crash may lower it; but
// not below what an acknowledged call made durable, and never above the last
// entry on disk or above anything ever passed in. The engine makes a commit
// index durable in two ways, tracked apart because they are lost apart:
//  - LMDB: a term or vote change commits the whole HardState; a commit-only
//    change is kept as lazy engine state (`pending`) and written with the
//    next LMDB commit (Compact, snapshots, a segment roll or cut) or at Close;
//  - hints: synced entries carry the commit index in their frames, and open
//    takes the largest hint of the active segment. Replacing the log with a
//    snapshot drops those frames.
struct CommitBounds {
  uint64_t lmdb = 0;
  uint64_t hint = 0;
  uint64_t highest = 0;
  // The commit index of the last commit-only change, not yet written to
  // LMDB; nullopt if none.
  std::optional<uint64_t> pending;

  uint64_t durable() const { return std::max(lmdb, hint); }
};

// The commit index a reopen returns stays durable: DiskStorage writes a
// commit index it recovered from the hints (or raised to the snapshot's) to
// LMDB on open (DiskStorageBugTest.RecoveredCommitSurvivesTheNextReopen).
inline constexpr bool kRecoveredCommitIsDurable = true;

// The bounds after a reopen that returned `commit`.
void BoundsAfterReopen(uint64_t commit, CommitBounds* bounds);

// Applies an acknowledged call to the model and the bounds. `highest` is
// raised by the caller before the call (NoteAttempt), since a failed call
// may have written its commit index too.
void NoteAttempt(const raft::HardState& hs, CommitBounds* bounds);
void AcknowledgeSave(const raft::HardState& hs, std::span<const raft::Entry> batch,
                     const raft::Snapshot* snapshot, bool must_sync, StorageState* model,
                     CommitBounds* bounds);
// Compact, CreateSnapshot, ApplySnapshot (which `drops_log`): one metadata
// commit, which also writes the pending commit index.
void AcknowledgeMetaCall(StorageState after, bool drops_log, StorageState* model,
                         CommitBounds* bounds);

// Checks got.commit against the bounds, and that no entry on disk has a term
// newer than the HardState's (crash-safety.md §2, invariant 6).
//
// Also that got.commit is at least the snapshot's index: raft needs the
// commit index at or above the compaction point (etcd's loadState panics
// "state.commit is out of range" otherwise), and a snapshot is committed, so
// DiskStorage raises a lower one on open
// (DiskStorageBugTest.CommitIsNotBelowTheSnapshotAfterACrash).
::testing::AssertionResult CheckInvariants(const StorageState& got, const CommitBounds& bounds);

// `got` is acceptable after a call that succeeded or failed, and its commit
// index and terms satisfy CheckInvariants.
::testing::AssertionResult CheckOutcome(const StorageState& got, const Outcomes& outcomes,
                                        bool succeeded, const CommitBounds& bounds);

// Entries [first, first + n) of `term` with random data of up to max_bytes
// bytes each (a fifth of them empty).
std::vector<raft::Entry> MakeEntries(std::mt19937_64& rng, uint64_t first, uint64_t n,
                                     uint64_t term, size_t max_bytes);

// A DiskStorage on a FaultFileSystem in a fresh directory, with the model of
// everything acknowledged. Options: 64 KiB segments (so workloads roll
// segments), no background preparation (every I/O happens inside the call
// that needs it, so "fail the nth call" is deterministic), and the directory
// on /dev/shm: durability is what the FaultFileSystem models, so real fsyncs
// would only cost time.
class Harness {
 public:
  explicit Harness(std::string_view name);
  ~Harness();
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  testutil::FaultFileSystem& fs() { return *fs_; }
  engine::DiskStorageOptions& options() { return options_; }
  const std::string& dir() const { return dir_->path(); }
  // REQUIRES: open.
  engine::DiskStorage& storage() { return *storage_; }
  bool is_open() const { return storage_ != nullptr; }
  // The acknowledged state and commit bounds.
  StorageState& model() { return model_; }
  CommitBounds& bounds() { return bounds_; }

  // Opens the storage; the model is not touched.
  Status Open();
  // Closes cleanly (writes the pending commit index).
  Status Close();
  // Drops the storage without writing anything more (a crash).
  void Abandon();
  // Abandon, simulate a power loss, reopen, and check the state read back is
  // acceptable for the last call (`outcomes`, which succeeded or failed).
  // Then the model becomes what was read. Reports failures as gtest failures.
  void PowerLossAndReopen(testutil::PowerLossMode mode, uint64_t seed, const Outcomes& outcomes,
                          bool succeeded);

  // The writer calls, acknowledged: run on the storage and, if they return
  // OK, applied to the model and the bounds. `outcomes` (if given) receives
  // what the call may leave on disk.
  Status Save(const raft::HardState& hs, std::span<const raft::Entry> batch,
              const raft::Snapshot* snapshot, bool must_sync, Outcomes* outcomes = nullptr);
  Status Compact(uint64_t index, Outcomes* outcomes = nullptr);
  Status CreateSnapshot(uint64_t index, const raft::ConfState* conf_state, std::string data,
                        Outcomes* outcomes = nullptr);
  Status ApplySnapshot(const raft::Snapshot& snapshot, Outcomes* outcomes = nullptr);

  // Reads the live storage back.
  Result<StorageState> Read() const { return ReadState(*storage_); }

 private:
  std::unique_ptr<testutil::TempDir> dir_;
  std::unique_ptr<testutil::FaultFileSystem> fs_;
  engine::DiskStorageOptions options_;
  std::unique_ptr<engine::DiskStorage> storage_;
  StorageState model_;
  CommitBounds bounds_;
};

// How a case of a fault-at-every-step test ends: the fault fires once (the
// call fails, later calls work) or from then on (the power fails at that
// call), followed by a power loss that drops, tears or garbles what was not
// synced.
struct Ending {
  bool sticky;
  testutil::PowerLossMode mode;
};
inline constexpr Ending kEndings[] = {
    {false, testutil::PowerLossMode::kDropUnsynced},
    {false, testutil::PowerLossMode::kTornUnsynced},
    {false, testutil::PowerLossMode::kGarbleUnsynced},
    {true, testutil::PowerLossMode::kTornUnsynced},
};

// The value of an environment variable as a number, or `fallback`.
uint64_t EnvOr(const char* name, uint64_t fallback);

}  // namespace raftlog::reliability
