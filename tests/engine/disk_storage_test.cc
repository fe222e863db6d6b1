// DiskStorage beyond the conformance suite: the cost of persisting a raft
// Ready, HardState durability rules, snapshot files and reopening.

#include "raftlog/engine/disk_storage.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "raftlog/io/file_system.h"
#include "raftlog/snapshot/snapshot_store.h"
#include "tests/testutil/scratch_log.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::engine {
namespace {

using raft::HardState;

class DiskStorageTest : public ::testing::Test {
 protected:
  std::unique_ptr<DiskStorage> Open() {
    auto s = DiskStorage::Open(dir_.path(), options_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }
  testutil::TempDir dir_{"disk-storage"};
  DiskStorageOptions options_;
};

// The steady state of a raft Ready (new entries and a higher commit index)
// costs one fdatasync and no LMDB commit; a new term or vote adds one LMDB
// commit, made before the entries are written.
TEST_F(DiskStorageTest, SaveCostsOneSyncPerReady) {
  auto s = Open();
  ASSERT_TRUE(
      s->Save(HardState{1, 1, 0}, testutil::SizedEntries(1, 10, 1, 100), nullptr, true).ok());
  const Stats before = s->engine().GetStats();
  for (uint64_t k = 0; k < 20; ++k) {
    const uint64_t first = 11 + k * 5;
    ASSERT_TRUE(
        s->Save(HardState{1, 1, first - 1}, testutil::SizedEntries(first, 5, 1, 100), nullptr, true)
            .ok());
  }
  const Stats steady = s->engine().GetStats();
  EXPECT_EQ(steady.log_syncs - before.log_syncs, 20u);
  EXPECT_EQ(steady.meta_commits - before.meta_commits, 0u);

  // A new term: one LMDB commit, then the entries with their sync.
  ASSERT_TRUE(
      s->Save(HardState{2, 3, 110}, testutil::SizedEntries(111, 5, 2, 100), nullptr, true).ok());
  const Stats term_change = s->engine().GetStats();
  EXPECT_EQ(term_change.log_syncs - steady.log_syncs, 1u);
  EXPECT_EQ(term_change.meta_commits - steady.meta_commits, 1u);

  // A commit-only Ready (no entries, MustSync false): no sync at all.
  ASSERT_TRUE(s->Save(HardState{2, 3, 115}, {}, nullptr, false).ok());
  const Stats commit_only = s->engine().GetStats();
  EXPECT_EQ(commit_only.log_syncs, term_change.log_syncs);
  EXPECT_EQ(commit_only.meta_commits, term_change.meta_commits);
}

TEST_F(DiskStorageTest, HardStateSurvivesReopenAndCommitIsRecoveredFromFrames) {
  {
    auto s = Open();
    ASSERT_TRUE(
        s->Save(HardState{3, 2, 0}, testutil::SizedEntries(1, 10, 3, 100), nullptr, true).ok());
    // Commit bumps ride with the next entries' frames; Abandon writes nothing
    // more (a crash), so only the frames carry the last one.
    ASSERT_TRUE(
        s->Save(HardState{3, 2, 10}, testutil::SizedEntries(11, 5, 3, 100), nullptr, true).ok());
    s->Abandon();
  }
  auto s = Open();
  const auto state = s->InitialState();
  EXPECT_EQ(state->hard_state.term, 3u);
  EXPECT_EQ(state->hard_state.vote, 2u);
  EXPECT_EQ(state->hard_state.commit, 10u);
}

TEST_F(DiskStorageTest, CommitIsNeverRestoredBeyondTheLog) {
  {
    auto s = Open();
    ASSERT_TRUE(s->Append(testutil::SizedEntries(1, 5, 1, 100)).ok());
    // A term change with a commit index ahead of the durable entries: LMDB
    // holds commit 8 while the log ends at 5 (a crash before the entries).
    ASSERT_TRUE(s->SetHardState(HardState{2, 1, 8}).ok());
    s->Abandon();
  }
  auto s = Open();
  EXPECT_EQ(s->InitialState()->hard_state.commit, 5u);
  EXPECT_EQ(s->InitialState()->hard_state.term, 2u);
}

TEST_F(DiskStorageTest, SnapshotFilesArePrunedAndOrphansRemoved) {
  options_.snapshots_kept = 2;
  {
    auto s = Open();
    ASSERT_TRUE(s->Append(testutil::SizedEntries(1, 50, 1, 100)).ok());
    for (uint64_t i = 10; i <= 40; i += 10) {
      ASSERT_TRUE(s->CreateSnapshot(i, nullptr, "state@" + std::to_string(i)).ok());
    }
  }
  auto names = io::FileSystem::Default()->ListDir(dir_.Sub("snapshots"));
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 2u);
  // A snapshot file newer than the metadata (a crash between the file and
  // the metadata commit) is removed on open.
  {
    auto store = snapshot::SnapshotStore::Open(io::FileSystem::Default(), dir_.Sub("snapshots"));
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Write(snapshot::SnapshotMeta{99, 9, ""}, "orphan").ok());
  }
  auto s = Open();
  EXPECT_EQ(s->Snapshot()->data, "state@40");
  EXPECT_EQ(s->Snapshot()->metadata.index, 40u);
  names = io::FileSystem::Default()->ListDir(dir_.Sub("snapshots"));
  EXPECT_EQ(names->size(), 2u);
}

TEST_F(DiskStorageTest, MissingReferencedSnapshotIsCorruption) {
  {
    auto s = Open();
    ASSERT_TRUE(s->Append(testutil::SizedEntries(1, 5, 1, 100)).ok());
    ASSERT_TRUE(s->CreateSnapshot(3, nullptr, "x").ok());
  }
  auto names = io::FileSystem::Default()->ListDir(dir_.Sub("snapshots"));
  ASSERT_EQ(names->size(), 1u);
  ASSERT_TRUE(io::FileSystem::Default()->Remove(dir_.Sub("snapshots/" + names->front())).ok());
  auto s = DiskStorage::Open(dir_.path(), options_);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsCorruption()) << s.status().ToString();
}

TEST_F(DiskStorageTest, ADiskStorageIsLockedWhileOpen) {
  auto s = Open();
  auto second = DiskStorage::Open(dir_.path(), options_);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsBusy()) << second.status().ToString();
}

}  // namespace
}  // namespace raftlog::engine
