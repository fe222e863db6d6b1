// Guards of DiskStorage/LogEngine::Open: the writer's lock cannot be
// defeated by deleting a file, a reader needs no write permission, a
// snapshot file of a newer format is reported as such, and a commit index
// capped on open stays capped.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "raftlog/engine/disk_storage.h"
#include "raftlog/engine/log_engine.h"
#include "raftlog/format/checksum.h"
#include "raftlog/format/coding.h"
#include "raftlog/io/file_system.h"
#include "tests/testutil/scratch_log.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::engine {
namespace {

using raft::HardState;

TEST(OpenGuardTest, DeletingLockFileDoesNotLetASecondWriterIn) {
  testutil::TempDir dir("open-guard");
  auto first = DiskStorage::Open(dir.path(), testutil::ScratchLogOptions());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(::unlink((dir.path() + "/LOCK").c_str()), 0);
  auto second = DiskStorage::Open(dir.path(), testutil::ScratchLogOptions());
  ASSERT_FALSE(second.ok()) << "a second writer opened the log";
  EXPECT_TRUE(second.status().IsBusy()) << second.status().ToString();
  // Released on close.
  ASSERT_TRUE((*first)->Close().ok());
  auto third = DiskStorage::Open(dir.path(), testutil::ScratchLogOptions());
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

// A reader that may read every file of the log but write none of them.
TEST(OpenGuardTest, ReadOnlyOpenNeedsNoWritePermission) {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "running as root: file permissions do not stop root, so this test cannot "
                    "take write permission away";
  }
  testutil::TempDir dir("open-guard");
  {
    auto s = DiskStorage::Open(dir.path(), testutil::ScratchLogOptions());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE(
        (*s)->Save(HardState{1, 1, 3}, testutil::NumberedEntries(1, 5, 1, "e"), nullptr, true)
            .ok());
    ASSERT_TRUE((*s)->CreateSnapshot(2, nullptr, "snap").ok());
    ASSERT_TRUE((*s)->Close().ok());
  }
  // Everything read-only: the files, and the directories (no new files).
  for (const char* sub : {"/meta.mdb", "/meta.mdb-lock", "/LOCK"}) {
    ASSERT_EQ(::chmod((dir.path() + sub).c_str(), 0400), 0) << sub;
  }
  for (const char* sub : {"/segments", "/snapshots", ""}) {
    ASSERT_EQ(::chmod((dir.path() + sub).c_str(), 0500), 0) << sub;
  }
  DiskStorageOptions options = testutil::ScratchLogOptions();
  options.engine.read_only = true;
  {
    auto s = DiskStorage::Open(dir.path(), options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(*(*s)->LastIndex(), 5u);
    auto got = (*s)->Entries(3, 6, UINT64_MAX);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->back().data, "e5");
    EXPECT_EQ((*s)->Snapshot()->data, "snap");
    // While it is open, a writer is kept out (the directory's shared lock).
    for (const char* sub : {"", "/segments", "/snapshots"}) {
      ASSERT_EQ(::chmod((dir.path() + sub).c_str(), 0700), 0);
    }
    ASSERT_EQ(::chmod((dir.path() + "/meta.mdb").c_str(), 0600), 0);
    auto writer = DiskStorage::Open(dir.path(), testutil::ScratchLogOptions());
    EXPECT_TRUE(!writer.ok() && writer.status().IsBusy()) << writer.status().ToString();
  }
  for (const char* sub : {"/meta.mdb-lock", "/LOCK"}) {
    ASSERT_EQ(::chmod((dir.path() + sub).c_str(), 0600), 0);
  }
  auto writer = DiskStorage::Open(dir.path(), testutil::ScratchLogOptions());
  EXPECT_TRUE(writer.ok()) << writer.status().ToString();
}

TEST(OpenGuardTest, SnapshotFileOfANewerFormatIsNotSupported) {
  testutil::TempDir dir("open-guard");
  {
    auto s = DiskStorage::Open(dir.path(), testutil::ScratchLogOptions());
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(
        (*s)->Save(HardState{1, 1, 3}, testutil::NumberedEntries(1, 5, 1, "e"), nullptr, true)
            .ok());
    ASSERT_TRUE((*s)->CreateSnapshot(3, nullptr, "snap").ok());
    ASSERT_TRUE((*s)->Close().ok());
  }
  auto names = io::FileSystem::Default()->ListDir(dir.path() + "/snapshots");
  ASSERT_TRUE(names.ok());
  ASSERT_EQ(names->size(), 1u);
  const std::string path = dir.path() + "/snapshots/" + names->front();
  auto bytes = io::ReadFileToString(io::FileSystem::Default(), path);
  ASSERT_TRUE(bytes.ok());
  // Version 2 at offset 8, with the header checksum recomputed: a file a
  // newer build wrote, not a damaged one.
  std::string b = *bytes;
  const uint32_t header_bytes = format::DecodeFixed32(b.data() + 12);
  format::EncodeFixed16(b.data() + 8, 2);
  format::EncodeFixed64(b.data() + header_bytes - 8,
                        format::Checksum64(std::string_view(b).substr(0, header_bytes - 8)));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << b;
  auto s = DiskStorage::Open(dir.path(), testutil::ScratchLogOptions());
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsNotSupported()) << s.status().ToString();
  EXPECT_NE(s.status().message().find(names->front()), std::string::npos) << s.status().ToString();
}

// A commit index above the log's end (its entries were lost in a crash) is
// capped on open, and stays capped when the log grows past it again.
TEST(OpenGuardTest, CommitCappedOnOpenIsWrittenBack) {
  testutil::TempDir dir("open-guard");
  {
    auto s = DiskStorage::Open(dir.path(), testutil::ScratchLogOptions());
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(
        (*s)->Save(HardState{1, 1, 0}, testutil::NumberedEntries(1, 5, 1, "e"), nullptr, true)
            .ok());
    // A new term commits the HardState to LMDB at once, with a commit index
    // whose entries never make it to the log.
    ASSERT_TRUE((*s)->SetHardState(HardState{2, 1, 10}).ok());
    (*s)->Abandon();
  }
  {
    auto s = DiskStorage::Open(dir.path(), testutil::ScratchLogOptions());
    ASSERT_TRUE(s.ok());
    EXPECT_EQ((*s)->InitialState()->hard_state.commit, 5u);
    // Entries 6..12 of a new leader, with no commit index moved (the raft
    // node keeps commit 5 until it learns more).
    ASSERT_TRUE((*s)->Append(testutil::NumberedEntries(6, 7, 2, "e")).ok());
    (*s)->Abandon();
  }
  auto s = DiskStorage::Open(dir.path(), testutil::ScratchLogOptions());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->InitialState()->hard_state.commit, 5u)
      << "the commit index capped on open came back";
}

}  // namespace
}  // namespace raftlog::engine
