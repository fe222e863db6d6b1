// DiskStorage: a raft::WritableStorage that persists the raft log, crash-safe,
// on the LogEngine (entries), LMDB (HardState, snapshot metadata) and
// snapshot/ (snapshot files). A drop-in replacement for MemoryStorage: the
// same conformance suite runs on both (tests/raft/storage_conformance.h).
//
// Layout of the directory: LogEngine's files (LOCK, meta.mdb, segments/) and
// snapshots/ (<term>-<index>.snap files, see docs/snapshot-format.md).
//
// Durability contract (docs/crash-safety.md argues each point):
//   - Append, Compact, CreateSnapshot, ApplySnapshot: durable when they return
//     OK (with the default SyncPolicy::kAlways).
//   - SetHardState / Save: a new term or vote is durable before the call
//     returns, and is written before any entries of the same Save, so the disk
//     never holds entries of a term newer than its HardState. A change of the
//     commit index alone is not synced (etcd's MustSync rule): it is stored
//     with the next entries written, the next metadata commit or Close(), and
//     a crash may lose it. InitialState() then returns a lower commit, which is
//     safe (raft learns the commit index again from the leader), and never a
//     commit above the last durable entry (it is capped on open).
//   - Save(hs, entries, snapshot, must_sync) costs one fdatasync of the log in
//     the steady state (entries + a commit bump), plus one LMDB commit only
//     when the term or vote changed.
//
// Differences from MemoryStorage, all on misuse that etcd answers with a
// panic: DiskStorage returns InvalidArgument instead (Entries past the last
// index, Append with a gap, Compact/CreateSnapshot past the last index), and
// also rejects an Append whose terms decrease (the engine keeps terms as
// sorted runs; raft never produces that).
//
// Thread-safety: like MemoryStorage, every method may be called from any
// thread; the raft core may read while the application writes. Readers
// never wait for the writer's fdatasync.

#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "raftlog/engine/damage_survey.h"
#include "raftlog/engine/log_engine.h"
#include "raftlog/engine/options.h"
#include "raftlog/port/mutex.h"
#include "raftlog/raft/storage.h"
#include "raftlog/raft/types.h"

namespace raftlog::snapshot {
class SnapshotStore;
}

namespace raftlog::engine {

struct DiskStorageOptions {
  // The log engine's options (segment size, sync and recovery policies,
  // compression, file system, ...).
  Options engine;
  // Snapshot files kept (the newest by index); at least 1.
  size_t snapshots_kept = 2;
};

// What DiskStorage::RepairCompactTo found, and did.
struct CompactRepair {
  uint64_t index = 0;  // the new compaction point asked for
  // The log before: its first and last index, the commit index (stored or
  // carried by the frames), the newest snapshot (0 if none).
  uint64_t first_index = 0;
  uint64_t last_index = 0;
  uint64_t commit = 0;
  uint64_t snapshot_index = 0;
  uint64_t snapshot_term = 0;
  // The damage that goes with the entries up to `index` (all of it lies
  // there, or the repair is refused).
  std::vector<LogDamage> damage_dropped;
  // Segments wholly at or below `index`, whose files go.
  std::vector<uint64_t> segments_dropped;
  // The engine's error when it refuses to open the log (empty if it opens
  // it). The repair is then made only for damage the error is about.
  std::string engine_refusal;
  // A damaged active segment that holds entries after `index`, and the new
  // sealed segment they are copied into, which replaces it (0 if none).
  uint64_t replaced_segment = 0;
  uint64_t replacement_segment = 0;
  // The log was changed (not a dry run, and there was something to do).
  bool changed = false;
};

class DiskStorage final : public raft::WritableStorage {
 public:
  // Moves the start of the damaged log in `dir` past damage that lies wholly
  // in entries at or below `index`, as a compaction to `index` would
  // (Compact(index): the entries up to it are dropped, with the sealed
  // segments wholly below, and `index` becomes the compaction point), so
  // that the log opens and serves every entry after `index` again. The
  // operator passes the newest snapshot's index, which holds what the
  // dropped entries held.
  //
  // A log the engine refuses to open is repaired too when what it refuses
  // the log for is damage that this drops (compact_repair.h): a sealed
  // segment wholly at or below `index` that open reads or finds missing,
  // or damage inside the active segment that costs no entry after `index`
  // (its entries after `index` are then copied into a new sealed segment
  // that replaces it). The change is then one LMDB transaction, made under
  // the writer's lock, and the engine's read-write open after it must
  // succeed.
  //
  // Refused (FailedPrecondition saying what, nothing changed) when: the
  // engine refuses to open the log for any other reason (its error, as
  // context); `index` is beyond the newest snapshot (the entries between
  // would exist nowhere), beyond the commit index or beyond the last entry;
  // any damage may cost an entry after `index` (the repair would not
  // repair it); the log refused, the term of `index` is lost with the
  // damage and `index` is not the snapshot's. An `index` below the log's
  // first index changes nothing. Busy if the log is open elsewhere. With
  // `dry_run`, the checks only. *report is filled in as far as the checks
  // got.
  static Status RepairCompactTo(const std::string& dir, uint64_t index, bool dry_run,
                                const DiskStorageOptions& options, CompactRepair* report);

  // Opens (creating if missing, per options.engine.create_if_missing) the
  // storage in `dir`. Errors as LogEngine::Open, plus Corruption for damaged
  // metadata or a missing snapshot file that the metadata refers to.
  static Result<std::unique_ptr<DiskStorage>> Open(const std::string& dir,
                                                   const DiskStorageOptions& options = {});

  ~DiskStorage() override;
  DiskStorage(const DiskStorage&) = delete;
  DiskStorage& operator=(const DiskStorage&) = delete;

  // Persists the pending commit index and closes the log. Idempotent; the
  // destructor calls it.
  Status Close();
  // Closes without writing anything more (see LogEngine::Abandon): what a
  // crash now would leave on disk. For crash tests.
  void Abandon();

  // raft::Storage
  Result<raft::StoredState> InitialState() const override;
  // The entries' data are not copied: each is a Bytes viewing the segment's
  // mapping (or a decompressed frame), which it keeps alive. They stay valid
  // and unchanged after a Compact, a truncating Append, Close and the
  // destruction of this storage (LogEngine::ReadShared).
  Result<std::vector<raft::Entry>> Entries(uint64_t lo, uint64_t hi,
                                           uint64_t max_size) const override;
  Result<uint64_t> Term(uint64_t i) const override;
  Result<uint64_t> LastIndex() const override;
  Result<uint64_t> FirstIndex() const override;
  Result<raft::Snapshot> Snapshot() const override;

  // raft::WritableStorage
  Status SetHardState(const raft::HardState& hs) override;
  Status Append(std::span<const raft::Entry> entries) override;
  Status Compact(uint64_t compact_index) override;
  Result<raft::Snapshot> CreateSnapshot(uint64_t i, const raft::ConfState* conf_state,
                                        std::string data) override;
  Status ApplySnapshot(const raft::Snapshot& snapshot) override;
  Status Save(const raft::HardState& hs, std::span<const raft::Entry> entries,
              const raft::Snapshot* snapshot, bool must_sync) override;

  // The engine underneath, for statistics and tools.
  const LogEngine& engine() const { return *engine_; }

 private:
  DiskStorage(std::unique_ptr<LogEngine> engine, std::unique_ptr<snapshot::SnapshotStore> snapshots,
              size_t snapshots_kept);
  Status Load();
  // Cross-check of the loaded snapshot metadata against the log
  // (Corruption naming both values). REQUIRES: mu_ held.
  Status CheckAgainstLog(bool has_snapshot) const REQUIRES(mu_);
  // Writer steps: write_mu_ held; they take mu_ themselves, only to copy or
  // replace the cached metadata.
  Status SetHardStateLocked(const raft::HardState& hs) REQUIRES(write_mu_);
  Status AppendLocked(std::span<const raft::Entry> entries, bool sync) REQUIRES(write_mu_);
  // With `hs`, writes it in the snapshot's LMDB transaction.
  Status ApplySnapshotLocked(const raft::Snapshot& snapshot, const raft::HardState* hs = nullptr)
      REQUIRES(write_mu_);
  Result<std::string> WriteSnapshotFile(const raft::SnapshotMetadata& meta, std::string_view data)
      REQUIRES(write_mu_);
  void PruneSnapshots() REQUIRES(write_mu_);

  std::unique_ptr<LogEngine> engine_;
  std::unique_ptr<snapshot::SnapshotStore> snapshots_;
  const size_t snapshots_kept_;

  // Serializes writers for a whole operation, I/O included. Readers never
  // take it, so they never wait for a writer's fdatasync.
  port::Mutex write_mu_ ACQUIRED_BEFORE(mu_);
  bool closed_ GUARDED_BY(write_mu_) = false;
  // Guards the cached metadata; held only to copy or replace it.
  mutable port::Mutex mu_;
  raft::HardState hard_state_ GUARDED_BY(mu_);
  raft::SnapshotMetadata snapshot_meta_ GUARDED_BY(mu_);
  std::string snapshot_file_ GUARDED_BY(mu_);  // empty: no snapshot file
};

}  // namespace raftlog::engine
