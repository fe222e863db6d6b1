// The durability protocol of SnapshotWriter::Commit, checked through a
// fault-injecting FileSystem: the order of the calls (data, fdatasync,
// rename, directory fsync), and that a failure at any step is returned,
// leaves no visible snapshot and no temp file (when cleanup is possible),
// and leaves the earlier snapshots intact.

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "raftlog/snapshot/snapshot_format.h"
#include "raftlog/snapshot/snapshot_store.h"
#include "tests/snapshot/fault_fs.h"
#include "tests/snapshot/snapshot_test_util.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::snapshot {
namespace {

using faults::FaultFs;
using faults::Op;
using test_support::RandomBytes;

constexpr size_t kBlock = 8;
// 30 bytes in blocks of 8: the header, then 4 blocks, then the trailer = 6
// writes. Append(30 bytes) writes blocks 0-2 (the 2nd-4th writes); Commit
// writes block 3 (6 bytes, the 5th) and the trailer (the 6th).
constexpr size_t kDataBytes = 30;

class SnapshotDurabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->Write(earlier_meta_, earlier_data_).ok());
    fs_.ClearLog();
  }

  std::unique_ptr<SnapshotStore> OpenStore(size_t keep = 3) {
    auto store = SnapshotStore::Open(&fs_, dir_, {.keep = keep, .block_bytes = kBlock});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // The earlier snapshot is listed, alone, verifies and holds its data, and
  // nothing else (no temp file) is in the directory.
  void ExpectOnlyTheEarlierSnapshot() {
    const std::string name = SnapshotFileName(earlier_meta_.term, earlier_meta_.index);
    EXPECT_EQ(test_support::ListDir(dir_), std::vector<std::string>{name});
    auto listed = store_->List();
    ASSERT_TRUE(listed.ok());
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ((*listed)[0].name, name);
    EXPECT_TRUE(store_->Verify(name).ok());
    EXPECT_EQ(store_->Load(name)->second, earlier_data_);
  }

  FaultFs fs_;
  testutil::TempDir tmp_{"snapshot-durability"};
  const std::string dir_ = tmp_.Sub("snap");
  std::unique_ptr<SnapshotStore> store_;
  const SnapshotMeta earlier_meta_{/*index=*/10, /*term=*/1, "conf"};
  const std::string earlier_data_ = RandomBytes(100, 10);
  const SnapshotMeta new_meta_{/*index=*/20, /*term=*/1, "conf"};
  const std::string new_data_ = RandomBytes(kDataBytes, 20);
};

// Exactly: the temp file's writes, its fdatasync, the rename, the directory
// fsync; nothing is renamed before its data is durable, and Commit reports
// success only after the directory fsync.
TEST_F(SnapshotDurabilityTest, CommitSyncsDataThenRenamesThenSyncsTheDirectory) {
  auto info = store_->Write(new_meta_, new_data_);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  const std::string final_path = io::JoinPath(dir_, info->name);
  const std::string temp_path = io::JoinPath(dir_, TempFileName(info->name));
  std::vector<std::string> want(6, "pwrite " + temp_path);
  want.push_back("sync " + temp_path);
  want.push_back("rename " + temp_path + " " + final_path);
  want.push_back("syncdir " + dir_);
  EXPECT_EQ(fs_.Log(), want);
}

TEST_F(SnapshotDurabilityTest, OpenSyncsTheParentOfANewDirectoryOnly) {
  const std::string fresh = tmp_.Sub("fresh");
  ASSERT_TRUE(SnapshotStore::Open(&fs_, fresh, {}).ok());
  EXPECT_EQ(fs_.Log(), std::vector<std::string>{"syncdir " + tmp_.path()});
  fs_.ClearLog();
  ASSERT_TRUE(SnapshotStore::Open(&fs_, fresh, {}).ok());
  EXPECT_TRUE(fs_.Log().empty());
}

TEST_F(SnapshotDurabilityTest, RemoveAndRetainSyncTheDirectory) {
  ASSERT_TRUE(store_->Write(new_meta_, new_data_).ok());
  fs_.ClearLog();
  ASSERT_TRUE(store_->Retain(1).ok());
  const std::string earlier_path =
      io::JoinPath(dir_, SnapshotFileName(earlier_meta_.term, earlier_meta_.index));
  EXPECT_EQ(fs_.Log(), (std::vector<std::string>{"remove " + earlier_path, "syncdir " + dir_}));
  fs_.ClearLog();
  ASSERT_TRUE(store_->Remove(SnapshotFileName(new_meta_.term, new_meta_.index)).ok());
  EXPECT_EQ(fs_.Log().back(), "syncdir " + dir_);
}

struct FaultCase {
  const char* name;
  Op op;
  int skip;  // calls of op that succeed before the failing one
  int err;
};

class SnapshotFaultTest : public SnapshotDurabilityTest,
                          public ::testing::WithParamInterface<FaultCase> {};

// A failure at any step of writing a snapshot is returned with its errno,
// leaves no new snapshot and no temp file, and the earlier snapshot intact;
// the writer refuses further use; the same snapshot can then be written.
TEST_P(SnapshotFaultTest, FailedStepLeavesNoSnapshotAndNoTempFile) {
  const FaultCase& c = GetParam();
  fs_.FailAfter(c.op, c.skip, c.err);

  Status failure;
  std::unique_ptr<SnapshotWriter> writer;
  auto begun = store_->BeginWrite(new_meta_);
  if (!begun.ok()) {
    failure = begun.status();
  } else {
    writer = std::move(*begun);
    failure = writer->Append(new_data_);
    if (failure.ok()) failure = writer->Commit().status();
  }
  ASSERT_FALSE(failure.ok()) << "the injected fault did not surface";
  EXPECT_TRUE(failure.IsIOError()) << failure.ToString();
  EXPECT_EQ(failure.errno_value(), c.err) << failure.ToString();
  EXPECT_NE(failure.message().find("injected"), std::string_view::npos) << failure.ToString();
  EXPECT_EQ(fs_.Count(c.op), c.skip + 1);

  if (writer != nullptr) {
    EXPECT_TRUE(writer->Append("more").IsFailedPrecondition());
    EXPECT_TRUE(writer->Commit().status().IsFailedPrecondition());
  }
  ExpectOnlyTheEarlierSnapshot();
  writer.reset();
  ExpectOnlyTheEarlierSnapshot();

  fs_.Disarm();
  auto info = store_->Write(new_meta_, new_data_);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(store_->Load(info->name)->second, new_data_);
  EXPECT_EQ(store_->List()->size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(
    EveryStep, SnapshotFaultTest,
    ::testing::Values(FaultCase{"HeaderWriteEio", Op::kPWrite, 0, EIO},
                      FaultCase{"FirstBlockWriteEnospc", Op::kPWrite, 1, ENOSPC},
                      FaultCase{"ThirdBlockWriteEnospc", Op::kPWrite, 3, ENOSPC},
                      FaultCase{"LastBlockWriteInCommitEio", Op::kPWrite, 4, EIO},
                      FaultCase{"TrailerWriteEnospc", Op::kPWrite, 5, ENOSPC},
                      FaultCase{"FdatasyncEio", Op::kSync, 0, EIO},
                      FaultCase{"FdatasyncEnospc", Op::kSync, 0, ENOSPC},
                      FaultCase{"RenameEio", Op::kRename, 0, EIO},
                      FaultCase{"RenameEnospc", Op::kRename, 0, ENOSPC},
                      FaultCase{"DirectoryFsyncEio", Op::kSyncDir, 0, EIO}),
    [](const ::testing::TestParamInfo<FaultCase>& info) { return std::string(info.param.name); });

// A process crash at any point of a write (simulated: from some call on,
// every call fails, so nothing is cleaned up, and the write in progress is
// torn) leaves, after a restart, either no new snapshot or a complete one,
// and the earlier snapshot intact; Open removes whatever temp file is left.
TEST_F(SnapshotDurabilityTest, CrashAtEveryStepLeavesNoSnapshotOrACompleteOne) {
  // The calls of a write: 6 pwrites, fdatasync, rename, directory fsync.
  constexpr int kCalls = 9;
  int absent = 0, present = 0;
  for (int k = 0; k <= kCalls; ++k) {
    SCOPED_TRACE("crash after " + std::to_string(k) + " calls");
    const std::string dir = tmp_.Sub("crash" + std::to_string(k));
    {
      auto store = SnapshotStore::Open(&fs_, dir, {.block_bytes = kBlock});
      ASSERT_TRUE(store.ok());
      ASSERT_TRUE((*store)->Write(earlier_meta_, earlier_data_).ok());
      fs_.ClearLog();
      fs_.CrashAfter(k);
      auto info = (*store)->Write(new_meta_, new_data_);
      EXPECT_EQ(info.ok(), k == kCalls) << info.status().ToString();
      fs_.Disarm();
    }
    // k calls, the one that crashes, one failed cleanup (remove of the temp
    // file, or of the renamed file after a failed directory fsync).
    EXPECT_EQ(static_cast<int>(fs_.Log().size()), k < kCalls ? k + 2 : kCalls)
        << "the crash did not stop the write where expected";

    auto store = SnapshotStore::Open(&fs_, dir, {.block_bytes = kBlock});
    ASSERT_TRUE(store.ok());
    auto scan = (*store)->Scan();
    ASSERT_TRUE(scan.ok());
    EXPECT_TRUE(scan->damaged.empty());
    const std::string earlier = SnapshotFileName(earlier_meta_.term, earlier_meta_.index);
    const std::string fresh = SnapshotFileName(new_meta_.term, new_meta_.index);
    EXPECT_EQ((*store)->Load(earlier)->second, earlier_data_);
    std::vector<std::string> want = {earlier};
    if (scan->snapshots.size() == 2) {
      ++present;
      auto loaded = (*store)->Load(fresh);
      ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
      EXPECT_EQ(loaded->second, new_data_);
      want.push_back(fresh);
    } else {
      ++absent;
      EXPECT_EQ(scan->snapshots.size(), 1u);
    }
    EXPECT_EQ(test_support::ListDir(dir), want);
  }
  // Crashes before the rename lose the snapshot; after it, it is complete.
  EXPECT_EQ(absent, 8);
  EXPECT_EQ(present, 2);
}

// If the temp file cannot be removed after a failure either, it stays
// invisible to List, and the next Open removes it.
TEST_F(SnapshotDurabilityTest, TempFileThatCannotBeRemovedIsRemovedByTheNextOpen) {
  fs_.FailAfter(Op::kSync, 0, EIO);
  fs_.FailAlways(Op::kRemove, EIO);
  auto info = store_->Write(new_meta_, new_data_);
  EXPECT_TRUE(info.status().IsIOError()) << info.status().ToString();
  const std::string temp = TempFileName(SnapshotFileName(new_meta_.term, new_meta_.index));
  EXPECT_EQ(test_support::ListDir(dir_).size(), 2u);
  EXPECT_EQ(store_->List()->size(), 1u);
  fs_.Disarm();

  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->stats().temp_files_found, 1u);
  EXPECT_EQ(store_->stats().temp_files_removed, 1u);
  ExpectOnlyTheEarlierSnapshot();
}

// A directory fsync failure while replacing a snapshot of the same name:
// the new file is unlinked again (Commit failed, so it must not be visible),
// and the old file it had replaced is gone too, as SnapshotWriter::Commit
// documents. Other snapshots are untouched.
TEST_F(SnapshotDurabilityTest, DirectoryFsyncFailureWhileReplacingLeavesNeither) {
  ASSERT_TRUE(store_->Write(new_meta_, new_data_).ok());
  fs_.FailAfter(Op::kSyncDir, 0, EIO);
  auto info = store_->Write(new_meta_, "replacement");
  EXPECT_TRUE(info.status().IsIOError()) << info.status().ToString();
  ExpectOnlyTheEarlierSnapshot();
}

// Pruning happens after the new snapshot is durable, so its failure does not
// fail the Commit: it is reported in stats() and retried by the next Commit.
TEST_F(SnapshotDurabilityTest, PruneFailureIsReportedAndRetried) {
  store_ = OpenStore(/*keep=*/1);
  ASSERT_NE(store_, nullptr);
  fs_.FailAlways(Op::kRemove, EIO);
  auto info = store_->Write(new_meta_, new_data_);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(store_->stats().last_prune_status.IsIOError());
  EXPECT_EQ(store_->List()->size(), 2u);
  EXPECT_TRUE(store_->Retain(1).IsIOError());

  fs_.Disarm();
  ASSERT_TRUE(store_->Write({30, 1, "conf"}, "third").ok());
  EXPECT_TRUE(store_->stats().last_prune_status.ok());
  auto listed = store_->List();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].meta.index, 30u);
  EXPECT_EQ(store_->stats().snapshots_pruned, 2u);
}

}  // namespace
}  // namespace raftlog::snapshot
