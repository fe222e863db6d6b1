// MemoryStorage: the in-memory Storage, with etcd raft's exact semantics.
//
// The reference implementation that every other Storage is tested against
// (tests/raft/storage_conformance.h) and the storage of choice for tests
// and for applications that persist the log themselves.
//
// Representation (etcd's): ents_[0] is a dummy entry whose index and term are
// the compaction point (the latest snapshot or compaction; 0/0 when new).
// ents_[k] holds log index ents_[0].index + k.
//
// Misuse that etcd answers with a panic (Entries past the last index, a gap
// in Append, Compact or CreateSnapshot past the last index) aborts the process
// with etcd's message: these are programmer errors, not data errors.
//
// Thread-safety: all methods are safe to call concurrently (one mutex), so
// the application may Append on another thread than the raft core's.

#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <vector>

#include "raftlog/port/mutex.h"
#include "raftlog/raft/storage.h"

namespace raftlog::raft {

class MemoryStorage final : public WritableStorage {
 public:
  // An empty storage: FirstIndex 1, LastIndex 0, Term(0) = 0, no snapshot.
  MemoryStorage();

  // etcd's test fixture `MemoryStorage{ents: entries}`: entries[0] becomes
  // the dummy (compaction point) and the snapshot stays empty.
  // REQUIRES: !entries.empty(), consecutive indexes.
  static MemoryStorage WithEntries(std::vector<Entry> entries);

  MemoryStorage(MemoryStorage&& other) noexcept;
  MemoryStorage(const MemoryStorage&) = delete;
  MemoryStorage& operator=(const MemoryStorage&) = delete;

  Result<StoredState> InitialState() const override;
  Result<std::vector<Entry>> Entries(uint64_t lo, uint64_t hi, uint64_t max_size) const override;
  Result<uint64_t> Term(uint64_t i) const override;
  Result<uint64_t> LastIndex() const override;
  Result<uint64_t> FirstIndex() const override;
  Result<raft::Snapshot> Snapshot() const override;

  Status SetHardState(const HardState& hs) override;
  Status Append(std::span<const Entry> entries) override;
  Status Compact(uint64_t compact_index) override;
  Result<raft::Snapshot> CreateSnapshot(uint64_t i, const ConfState* conf_state,
                                        std::string data) override;
  Status ApplySnapshot(const raft::Snapshot& snapshot) override;

  // For tests: the entries including the dummy at [0] (etcd tests compare ents).
  std::vector<Entry> AllEntriesForTest() const;

 private:
  uint64_t FirstIndexLocked() const REQUIRES(mu_) { return ents_.front().index + 1; }
  uint64_t LastIndexLocked() const REQUIRES(mu_) { return ents_.front().index + ents_.size() - 1; }

  mutable port::Mutex mu_;
  HardState hard_state_ GUARDED_BY(mu_);
  raft::Snapshot snapshot_ GUARDED_BY(mu_);
  // Invariant: never empty; ents_[k].index == ents_[0].index + k.
  std::deque<Entry> ents_ GUARDED_BY(mu_);
};

}  // namespace raftlog::raft
