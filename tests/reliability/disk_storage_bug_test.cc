// Bugs the reliability tests found in engine/ (issue #8), each pinned down
// by a small test that fails today. They are disabled so that the default run
// stays green; the lead fixes engine/ and then enables them (and the check
// each names elsewhere).

#include <gtest/gtest.h>

#include "tests/reliability/storage_model.h"

namespace raftlog::reliability {
namespace {

using raft::HardState;

// A follower persists a Ready that carries a snapshot from the leader of the
// current term: Save(hs{term, vote, commit = snapshot index}, {}, &snapshot).
// Save applies the snapshot first (one LMDB transaction, which writes the
// commit index pending *before* the call), then the HardState; since only
// its commit index changed, that is kept in memory and not written (etcd's
// MustSync rule). Save returns OK. If the process then dies, the reopened
// storage has FirstIndex() = snapshot index + 1 but InitialState() returns
// the old commit index, below the snapshot. raft's loadState then panics
// ("state.commit %d is out of range [%d, %d]": it needs commit >=
// FirstIndex() - 1, raft/internal/raft.cc Raft::LoadState), so the node can
// never restart. A snapshot is committed by definition, so the fix could be
// to raise the commit index to at least the snapshot's index on open
// (DiskStorage::Load), or to write the HardState in the same transaction as
// the snapshot.
TEST(DiskStorageBugTest, DISABLED_CommitIsNotBelowTheSnapshotAfterACrash) {
  Harness h("bug-commit");
  ASSERT_TRUE(h.Open().ok());
  std::mt19937_64 rng(1);
  ASSERT_TRUE(h.Save(HardState{1, 1, 5}, MakeEntries(rng, 1, 5, 1, 10), nullptr, true).ok());
  raft::Snapshot snap;
  snap.metadata.index = 100;
  snap.metadata.term = 1;
  snap.metadata.conf_state.voters = {1, 2, 3};
  snap.data = "state at 100";
  ASSERT_TRUE(h.Save(HardState{1, 1, 100}, {}, &snap, true).ok());
  h.Abandon();  // the process dies; no power loss needed

  ASSERT_TRUE(h.Open().ok());
  auto got = h.Read();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->first, 101u);
  EXPECT_GE(got->commit, got->first - 1) << "raft's loadState panics on " << Describe(*got);
}

// A Save of entries with must_sync makes its HardState durable, commit index
// included: the frames carry it as a hint, and on open DiskStorage takes the
// larger of LMDB's commit index and the hints found in the active segment.
// But when that open finds a torn tail (a power loss during a later, unsynced
// or unacknowledged write), recovery cuts it and seals the active segment at
// the cut; the recovered commit index then lives only in DiskStorage's memory
// (it is not written to LMDB, not even by Close, since it is not lazy engine
// state) and in frames of a now sealed segment, which no later open scans. So
// the next reopen, even after a clean Close, returns LMDB's older commit
// index: an acknowledged HardState is lost. (Safe for raft, which relearns the
// commit index, but not what Save promised.) A fix could write the recovered
// commit index (PutStateLazy in DiskStorage::Load, or with the seal's LMDB
// transaction). Once fixed, set kRecoveredCommitIsDurable in
// storage_model.h.
TEST(DiskStorageBugTest, DISABLED_RecoveredCommitSurvivesTheNextReopen) {
  Harness h("bug-hint");
  ASSERT_TRUE(h.Open().ok());
  std::mt19937_64 rng(2);
  ASSERT_TRUE(h.Save(HardState{1, 1, 0}, MakeEntries(rng, 1, 10, 1, 10), nullptr, true).ok());
  ASSERT_TRUE(h.Save(HardState{1, 1, 10}, MakeEntries(rng, 11, 5, 1, 10), nullptr, true).ok());
  // Not synced, then the power fails: a garbage tail.
  ASSERT_TRUE(h.Save(HardState{1, 1, 15}, MakeEntries(rng, 16, 5, 1, 10), nullptr, false).ok());
  h.Abandon();
  ASSERT_TRUE(h.fs().SimulatePowerLoss(testutil::PowerLossMode::kGarbleUnsynced, 1).ok());

  ASSERT_TRUE(h.Open().ok());
  auto recovered = h.Read();
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  ASSERT_EQ(recovered->last(), 15u);
  ASSERT_EQ(recovered->commit, 10u);
  ASSERT_TRUE(h.Close().ok());

  ASSERT_TRUE(h.Open().ok());
  auto again = h.Read();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->commit, 10u) << Describe(*again);
}

}  // namespace
}  // namespace raftlog::reliability
