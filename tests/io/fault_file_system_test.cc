#include "tests/testutil/fault_file_system.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "raftlog/io/file_system.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::testutil {
namespace {

#define ASSERT_OK(expr)                                                  \
  do {                                                                   \
    const ::raftlog::Status assert_ok_status_ = (expr);                  \
    ASSERT_TRUE(assert_ok_status_.ok()) << assert_ok_status_.ToString(); \
  } while (0)

constexpr std::string_view kDeadHandle = "file handle from before simulated power loss";

io::FileSystem* Real() { return io::FileSystem::Default(); }

// The real contents of a file, bypassing the fault layer; nullopt if missing.
std::optional<std::string> ReadReal(const std::string& path) {
  Result<std::string> got = io::ReadFileToString(Real(), path);
  if (!got.ok()) return std::nullopt;
  return *got;
}

Status WriteAt(io::File* file, uint64_t offset, std::string_view bytes) {
  std::string_view pieces[] = {bytes};
  return file->PWrite(offset, pieces);
}

class FaultFileSystemTest : public ::testing::Test {
 protected:
  std::string P(std::string_view name) const { return dir_.Sub(name); }

  std::unique_ptr<io::File> Open(const std::string& path,
                                 io::OpenMode mode = io::OpenMode::kReadWrite) {
    Result<std::unique_ptr<io::File>> file = fs_.Open(path, mode);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    return file.ok() ? std::move(*file) : nullptr;
  }

  // Creates `name` with `contents`, its data synced and its entry durable.
  void MakeDurableFile(std::string_view name, std::string_view contents) {
    std::unique_ptr<io::File> file = Open(P(name), io::OpenMode::kCreate);
    ASSERT_NE(file, nullptr);
    ASSERT_OK(WriteAt(file.get(), 0, contents));
    ASSERT_OK(file->Sync());
    ASSERT_OK(fs_.SyncDir(dir_.path()));
  }

  std::vector<std::string> List(const std::string& dir) {
    Result<std::vector<std::string>> names = fs_.ListDir(dir);
    EXPECT_TRUE(names.ok()) << names.status().ToString();
    return names.ok() ? *names : std::vector<std::string>{};
  }

  // Every real entry, trash included.
  std::vector<std::string> ListReal(const std::string& dir) {
    Result<std::vector<std::string>> names = Real()->ListDir(dir);
    EXPECT_TRUE(names.ok()) << names.status().ToString();
    return names.ok() ? *names : std::vector<std::string>{};
  }

  TempDir dir_{"faultfs"};
  FaultFileSystem fs_;  // after dir_, so destroyed before it
};

// ---------------------------------------------------------------------------
// Fault injection

// Performs call(1..4) with the third failing, and checks the error's shape.
void ExpectOnlyThirdCallFails(FaultFileSystem& fs, FsOp op, const std::function<Status(int)>& call,
                              const std::function<std::string(int)>& context) {
  SCOPED_TRACE(std::string(FsOpName(op)));
  fs.Reset();
  fs.FailNth(op, 3, ENOSPC);
  for (int i = 1; i <= 4; ++i) {
    Status s = call(i);
    if (i == 3) {
      EXPECT_TRUE(s.IsIOError()) << s.ToString();
      EXPECT_EQ(s.errno_value(), ENOSPC);
      EXPECT_NE(s.message().find(context(i) + ": "), std::string::npos) << s.ToString();
      EXPECT_NE(s.message().find("No space left on device"), std::string::npos) << s.ToString();
    } else {
      EXPECT_TRUE(s.ok()) << "call " << i << ": " << s.ToString();
    }
  }
  EXPECT_EQ(fs.calls(op), 4u);
  EXPECT_EQ(fs.faults_fired(), 1u);
}

TEST_F(FaultFileSystemTest, EachKindFailsExactlyOnTheNthCall) {
  MakeDurableFile("f", "0123456789");
  ASSERT_OK(fs_.CreateDir(P("d")));
  std::unique_ptr<io::File> file = Open(P("f"));
  const std::string f = P("f");
  auto fixed = [](std::string ctx) { return [ctx](int) { return ctx; }; };
  auto fresh_file = [&](int i) {
    const std::string path = P("tmp" + std::to_string(i));
    EXPECT_TRUE(Real()->Open(path, io::OpenMode::kCreate).ok());
    return path;
  };
  char scratch[16];

  ExpectOnlyThirdCallFails(
      fs_, FsOp::kOpen, [&](int) { return fs_.Open(f, io::OpenMode::kReadOnly).status(); },
      fixed("open " + f));
  ExpectOnlyThirdCallFails(
      fs_, FsOp::kCreate, [&](int) { return fs_.Open(f, io::OpenMode::kCreate).status(); },
      fixed("open " + f));
  ExpectOnlyThirdCallFails(
      fs_, FsOp::kPWrite, [&](int) { return WriteAt(file.get(), 0, "x"); }, fixed("pwritev " + f));
  ExpectOnlyThirdCallFails(
      fs_, FsOp::kPRead, [&](int) { return file->PRead(0, 4, scratch).status(); },
      fixed("pread " + f));
  ExpectOnlyThirdCallFails(
      fs_, FsOp::kSync, [&](int) { return file->Sync(); }, fixed("fdatasync " + f));
  ExpectOnlyThirdCallFails(
      fs_, FsOp::kAllocate, [&](int) { return file->Allocate(0, 20); }, fixed("fallocate " + f));
  ExpectOnlyThirdCallFails(
      fs_, FsOp::kTruncate, [&](int) { return file->Truncate(20); }, fixed("ftruncate " + f));
  ExpectOnlyThirdCallFails(
      fs_, FsOp::kSize, [&](int) { return file->Size().status(); }, fixed("fstat " + f));
  ExpectOnlyThirdCallFails(
      fs_, FsOp::kMap, [&](int) { return file->Map(0, 4).status(); }, fixed("mmap " + f));
  ExpectOnlyThirdCallFails(
      fs_, FsOp::kCreateDir, [&](int) { return fs_.CreateDir(P("d")); }, fixed("mkdir " + P("d")));
  ExpectOnlyThirdCallFails(
      fs_, FsOp::kSyncDir, [&](int) { return fs_.SyncDir(dir_.path()); },
      fixed("fsync directory " + dir_.path()));
  ExpectOnlyThirdCallFails(
      fs_, FsOp::kListDir, [&](int) { return fs_.ListDir(dir_.path()).status(); },
      fixed("opendir " + dir_.path()));
  ExpectOnlyThirdCallFails(
      fs_, FsOp::kRename,
      [&](int i) { return fs_.Rename(fresh_file(i), P("renamed" + std::to_string(i))); },
      [&](int i) {
        return "rename " + P("tmp" + std::to_string(i)) + " to " + P("renamed" + std::to_string(i));
      });
  ExpectOnlyThirdCallFails(
      fs_, FsOp::kRemove, [&](int i) { return fs_.Remove(fresh_file(10 + i)); },
      [&](int i) { return "unlink " + P("tmp" + std::to_string(10 + i)); });
  ExpectOnlyThirdCallFails(
      fs_, FsOp::kRemoveDir,
      [&](int i) {
        const std::string d = P("rd" + std::to_string(i));
        EXPECT_TRUE(Real()->CreateDir(d).ok());
        return fs_.RemoveDir(d);
      },
      [&](int i) { return "rmdir " + P("rd" + std::to_string(i)); });
  ExpectOnlyThirdCallFails(
      fs_, FsOp::kStat, [&](int) { return fs_.IsDirectory(P("d")).status(); },
      fixed("stat " + P("d")));
  ExpectOnlyThirdCallFails(
      fs_, FsOp::kLock, [&](int) { return fs_.Lock(P("LOCK")).status(); },
      fixed("open lock file " + P("LOCK")));

  // The failed calls did nothing: tmp13 was neither renamed nor removed.
  EXPECT_TRUE(Real()->Exists(P("tmp3")));
  EXPECT_FALSE(Real()->Exists(P("renamed3")));
  EXPECT_TRUE(Real()->Exists(P("tmp13")));
  EXPECT_TRUE(Real()->Exists(P("rd3")));
}

TEST_F(FaultFileSystemTest, PathFilterRestrictsWhichCallsCountAndFail) {
  std::unique_ptr<io::File> seg = Open(P("000001.seg"), io::OpenMode::kCreate);
  std::unique_ptr<io::File> meta = Open(P("meta"), io::OpenMode::kCreate);
  fs_.FailNth(FsOp::kPWrite, 2, EIO, ".seg");
  ASSERT_OK(WriteAt(meta.get(), 0, "m"));
  ASSERT_OK(WriteAt(seg.get(), 0, "s"));  // first matching call
  ASSERT_OK(WriteAt(meta.get(), 0, "m"));
  Status s = WriteAt(seg.get(), 1, "t");  // second matching call
  EXPECT_TRUE(s.IsIOError());
  EXPECT_EQ(s.errno_value(), EIO);
  EXPECT_NE(s.message().find("pwritev " + P("000001.seg")), std::string::npos);
  ASSERT_OK(WriteAt(seg.get(), 1, "u"));  // the rule is spent
  EXPECT_EQ(ReadReal(P("000001.seg")), "su");

  // For a rename, either path may match.
  ASSERT_OK(fs_.Rename(P("meta"), P("meta2")));
  fs_.FailAlways(FsOp::kRename, EIO, "000001");
  EXPECT_FALSE(fs_.Rename(P("000001.seg"), P("x")).ok());
  EXPECT_FALSE(fs_.Rename(P("meta2"), P("000001.seg")).ok());
  ASSERT_OK(fs_.Rename(P("meta2"), P("meta")));
}

TEST_F(FaultFileSystemTest, StickyFaultFailsEveryCallFromTheNthOn) {
  std::unique_ptr<io::File> file = Open(P("f"), io::OpenMode::kCreate);
  Fault fault;
  fault.op = FsOp::kSync;
  fault.nth = 2;
  fault.sticky = true;
  fault.error = EROFS;
  fs_.Inject(fault);
  EXPECT_TRUE(file->Sync().ok());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(file->Sync().errno_value(), EROFS);
  EXPECT_EQ(fs_.faults_fired(), 5u);
  fs_.ClearFaults();
  EXPECT_TRUE(file->Sync().ok());
}

TEST_F(FaultFileSystemTest, AnyKindCountsEveryStepSoEachCanBeFailedInTurn) {
  // A small "operation": write a file atomically (temp, sync, rename, syncdir).
  auto operation = [&]() -> Status {
    RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<io::File> file,
                             fs_.Open(P("x.tmp"), io::OpenMode::kCreate));
    RAFTLOG_RETURN_IF_ERROR(WriteAt(file.get(), 0, "payload"));
    RAFTLOG_RETURN_IF_ERROR(file->Sync());
    RAFTLOG_RETURN_IF_ERROR(fs_.Rename(P("x.tmp"), P("x")));
    return fs_.SyncDir(dir_.path());
  };
  ASSERT_OK(operation());
  const uint64_t steps = fs_.calls(FsOp::kAny);
  EXPECT_EQ(steps, 5u);
  EXPECT_EQ(fs_.calls(FsOp::kCreate), 1u);
  EXPECT_EQ(fs_.calls(FsOp::kRename), 1u);
  for (uint64_t step = 1; step <= steps; ++step) {
    fs_.Reset();
    fs_.FailNth(FsOp::kAny, step, EIO);
    EXPECT_FALSE(operation().ok()) << "step " << step;
    EXPECT_EQ(fs_.calls(FsOp::kAny), step);  // it stopped at the failed step
    EXPECT_EQ(fs_.faults_fired(), 1u);
  }
}

TEST_F(FaultFileSystemTest, InjectedEnoentLooksLikeTheRealNotFound) {
  fs_.FailNth(FsOp::kOpen, 1, ENOENT);
  MakeDurableFile("f", "x");
  Status s = fs_.Open(P("f"), io::OpenMode::kReadOnly).status();
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_EQ(s, Real()->Open(P("missing"), io::OpenMode::kReadOnly).status());
}

TEST_F(FaultFileSystemTest, ShortWriteWritesAPrefixThenFails) {
  std::unique_ptr<io::File> file = Open(P("f"), io::OpenMode::kCreate);
  fs_.ShortWriteNth(2, 7);
  ASSERT_OK(WriteAt(file.get(), 0, "AB"));
  std::vector<std::string_view> pieces = {"hello", ", ", "world"};
  Status s = file->PWrite(2, pieces);
  EXPECT_TRUE(s.IsIOError());
  EXPECT_EQ(s.errno_value(), ENOSPC);
  EXPECT_EQ(ReadReal(P("f")), "ABhello, ");
  // A prefix longer than the write writes it all and still fails.
  fs_.ShortWriteNth(1, 1000, EIO);
  EXPECT_EQ(WriteAt(file.get(), 0, "xyz").errno_value(), EIO);
  EXPECT_EQ(ReadReal(P("f")), "xyzello, ");
  // The partial bytes are un-synced like any others.
  ASSERT_OK(fs_.SyncDir(dir_.path()));
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_EQ(ReadReal(P("f")), "");
}

TEST_F(FaultFileSystemTest, CountersCountCallsAndReset) {
  std::unique_ptr<io::File> file = Open(P("f"), io::OpenMode::kCreate);
  for (int i = 0; i < 3; ++i) ASSERT_OK(WriteAt(file.get(), 0, "x"));
  ASSERT_OK(file->Sync());
  fs_.FailNth(FsOp::kSync, 1);
  EXPECT_FALSE(file->Sync().ok());
  EXPECT_EQ(fs_.calls(FsOp::kCreate), 1u);
  EXPECT_EQ(fs_.calls(FsOp::kPWrite), 3u);
  EXPECT_EQ(fs_.calls(FsOp::kSync), 2u);  // failed calls count too
  EXPECT_EQ(fs_.calls(FsOp::kRename), 0u);
  EXPECT_EQ(fs_.calls(FsOp::kAny), 6u);
  EXPECT_EQ(fs_.faults_fired(), 1u);
  fs_.ResetCounters();
  EXPECT_EQ(fs_.calls(FsOp::kAny), 0u);
  EXPECT_EQ(fs_.faults_fired(), 0u);
}

// ---------------------------------------------------------------------------
// Power loss: file data

TEST_F(FaultFileSystemTest, PowerLossDropsUnsyncedWritesAndKeepsSyncedOnes) {
  MakeDurableFile("f", "synced");
  std::unique_ptr<io::File> file = Open(P("f"));
  ASSERT_OK(WriteAt(file.get(), 6, "+more"));
  EXPECT_EQ(fs_.UnsyncedPaths(), std::vector<std::string>{P("f")});
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_EQ(ReadReal(P("f")), "synced");
  EXPECT_TRUE(fs_.UnsyncedPaths().empty());

  // Synced appends survive.
  file = Open(P("f"));
  ASSERT_OK(WriteAt(file.get(), 6, "+more"));
  ASSERT_OK(file->Sync());
  ASSERT_OK(WriteAt(file.get(), 11, "+lost"));
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_EQ(ReadReal(P("f")), "synced+more");
}

TEST_F(FaultFileSystemTest, UnsyncedOverwriteOfSyncedBytesBringsTheOldBytesBack) {
  MakeDurableFile("f", "AAAAAAAAAA");
  std::unique_ptr<io::File> file = Open(P("f"));
  ASSERT_OK(WriteAt(file.get(), 2, "bbb"));
  ASSERT_OK(WriteAt(file.get(), 3, "cccccccccccc"));  // overlaps, extends
  ASSERT_OK(WriteAt(file.get(), 0, "d"));
  EXPECT_EQ(ReadReal(P("f")), "dAbcccccccccccc");
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_EQ(ReadReal(P("f")), "AAAAAAAAAA");
}

TEST_F(FaultFileSystemTest, SyncThroughAnyHandleCoversWritesThroughEvery) {
  MakeDurableFile("f", "");
  std::unique_ptr<io::File> a = Open(P("f"));
  std::unique_ptr<io::File> b = Open(P("f"));
  ASSERT_OK(WriteAt(a.get(), 0, "aaa"));
  ASSERT_OK(WriteAt(b.get(), 3, "bbb"));
  ASSERT_OK(b->Sync());  // fdatasync is per inode
  ASSERT_OK(WriteAt(a.get(), 0, "x"));
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_EQ(ReadReal(P("f")), "aaabbb");
}

TEST_F(FaultFileSystemTest, SyncedSizeIsKeptAndUnsyncedTruncateAndAllocateAreReverted) {
  MakeDurableFile("shrunk", "0123456789");
  MakeDurableFile("grown", "0123456789");
  MakeDurableFile("allocated", "0123456789");
  MakeDurableFile("synced_truncate", "0123456789");
  std::unique_ptr<io::File> shrunk = Open(P("shrunk"));
  ASSERT_OK(shrunk->Truncate(3));
  ASSERT_OK(WriteAt(shrunk.get(), 5, "zz"));  // refills part of the cut with a gap
  std::unique_ptr<io::File> grown = Open(P("grown"));
  ASSERT_OK(grown->Truncate(100));
  std::unique_ptr<io::File> allocated = Open(P("allocated"));
  ASSERT_OK(allocated->Allocate(0, 4096));
  ASSERT_OK(allocated->Allocate(0, 5));  // inside the file: no change
  EXPECT_EQ(*allocated->Size(), 4096u);
  std::unique_ptr<io::File> synced = Open(P("synced_truncate"));
  ASSERT_OK(synced->Truncate(4));
  ASSERT_OK(synced->Sync());
  ASSERT_OK(synced->Allocate(0, 50));
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_EQ(ReadReal(P("shrunk")), "0123456789");
  EXPECT_EQ(ReadReal(P("grown")), "0123456789");
  EXPECT_EQ(ReadReal(P("allocated")), "0123456789");
  EXPECT_EQ(ReadReal(P("synced_truncate")), "0123");
}

TEST_F(FaultFileSystemTest, PreallocatedSegmentKeepsSyncedFramesAndLosesTheRest) {
  // The engine's pattern: preallocate and sync once, then append in place
  // (fdatasync need not update the size), and cut the tail when sealing.
  constexpr uint64_t kSegmentBytes = 1 << 20;
  std::unique_ptr<io::File> seg = Open(P("1.seg"), io::OpenMode::kCreateExclusive);
  ASSERT_OK(seg->Allocate(0, kSegmentBytes));
  ASSERT_OK(seg->Sync());
  ASSERT_OK(fs_.SyncDir(dir_.path()));
  const std::string frame1(3000, '1'), frame2(5000, '2'), frame3(7000, '3');
  ASSERT_OK(WriteAt(seg.get(), 0, frame1));
  ASSERT_OK(WriteAt(seg.get(), 3000, frame2));
  ASSERT_OK(seg->Sync());
  ASSERT_OK(WriteAt(seg.get(), 8000, frame3));
  ASSERT_OK(seg->Truncate(15000));  // sealing, not synced
  ASSERT_OK(fs_.SimulatePowerLoss());
  std::string want(kSegmentBytes, '\0');
  want.replace(0, 3000, frame1);
  want.replace(3000, 5000, frame2);
  EXPECT_TRUE(ReadReal(P("1.seg")) == want);
}

TEST_F(FaultFileSystemTest, FailedSyncMakesNothingDurableAndPoisonsEarlierWrites) {
  MakeDurableFile("f", "base|");
  std::unique_ptr<io::File> file = Open(P("f"));
  ASSERT_OK(WriteAt(file.get(), 5, "lost|"));
  fs_.FailNth(FsOp::kSync, 1, EIO);
  EXPECT_EQ(file->Sync().errno_value(), EIO);
  // Readers still see the bytes (the page cache), but a retry that succeeds
  // does not make them durable: Linux may have dropped the dirty pages.
  EXPECT_EQ(ReadReal(P("f")), "base|lost|");
  ASSERT_OK(file->Sync());
  EXPECT_EQ(fs_.UnsyncedPaths(), std::vector<std::string>{P("f")});
  // Writes after the failure become durable normally.
  ASSERT_OK(WriteAt(file.get(), 10, "kept"));
  ASSERT_OK(file->Sync());
  ASSERT_OK(WriteAt(file.get(), 14, "|unsynced"));
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_EQ(ReadReal(P("f")), std::string("base|\0\0\0\0\0kept", 14));
}

TEST_F(FaultFileSystemTest, WithoutPoisoningAFailedSyncCanBeRetried) {
  fs_.set_failed_sync_loses_data(false);
  MakeDurableFile("f", "base|");
  std::unique_ptr<io::File> file = Open(P("f"));
  ASSERT_OK(WriteAt(file.get(), 5, "retried"));
  fs_.FailNth(FsOp::kSync, 1, EIO);
  EXPECT_FALSE(file->Sync().ok());
  EXPECT_EQ(fs_.UnsyncedPaths(), std::vector<std::string>{P("f")});  // nothing durable
  ASSERT_OK(file->Sync());
  EXPECT_TRUE(fs_.UnsyncedPaths().empty());
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_EQ(ReadReal(P("f")), "base|retried");
}

TEST_F(FaultFileSystemTest, HandlesFromBeforePowerLossAreDead) {
  MakeDurableFile("f", "data");
  std::unique_ptr<io::File> file = Open(P("f"));
  ASSERT_OK(fs_.SimulatePowerLoss());
  fs_.ResetCounters();
  char scratch[8];
  std::vector<Status> results = {WriteAt(file.get(), 0, "x"),
                                 file->PRead(0, 4, scratch).status(),
                                 file->Sync(),
                                 file->Allocate(0, 10),
                                 file->Truncate(0),
                                 file->Size().status(),
                                 file->Map(0, 4).status()};
  for (const Status& s : results) {
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
    EXPECT_NE(s.message().find(kDeadHandle), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find(P("f")), std::string::npos) << s.ToString();
  }
  file->AdviseDontNeed(0, 4);  // ignored
  EXPECT_EQ(fs_.calls(FsOp::kAny), 0u);
  EXPECT_EQ(ReadReal(P("f")), "data");
  // A new handle works.
  std::unique_ptr<io::File> fresh = Open(P("f"));
  EXPECT_EQ(*fresh->PRead(0, 8, scratch), "data");
}

// ---------------------------------------------------------------------------
// Power loss: directories

TEST_F(FaultFileSystemTest, NewFileWithoutDirSyncVanishesEvenIfItsDataWasSynced) {
  std::unique_ptr<io::File> file = Open(P("new"), io::OpenMode::kCreateExclusive);
  ASSERT_OK(WriteAt(file.get(), 0, "content"));
  ASSERT_OK(file->Sync());
  EXPECT_EQ(fs_.UnsyncedPaths(), std::vector<std::string>{dir_.path()});
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_FALSE(Real()->Exists(P("new")));

  file = Open(P("new"), io::OpenMode::kCreateExclusive);
  ASSERT_OK(WriteAt(file.get(), 0, "content"));
  ASSERT_OK(fs_.SyncDir(dir_.path()));  // entry durable, data not
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_EQ(ReadReal(P("new")), "");
}

TEST_F(FaultFileSystemTest, UnsyncedRenameIsReversedAndSyncedRenameKept) {
  MakeDurableFile("a", "A");
  MakeDurableFile("b", "B");
  ASSERT_OK(fs_.Rename(P("a"), P("c")));
  ASSERT_OK(fs_.Rename(P("b"), P("a")));  // replaces nothing: a is gone
  EXPECT_EQ(List(dir_.path()), (std::vector<std::string>{"a", "c"}));
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_EQ(List(dir_.path()), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ReadReal(P("a")), "A");
  EXPECT_EQ(ReadReal(P("b")), "B");

  ASSERT_OK(fs_.Rename(P("a"), P("c")));
  ASSERT_OK(fs_.SyncDir(dir_.path()));
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_EQ(List(dir_.path()), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(ReadReal(P("c")), "A");
}

TEST_F(FaultFileSystemTest, UnsyncedRenameOverAFileBringsTheReplacedFileBack) {
  // The atomic-replace pattern: write temp, sync, rename over, but no SyncDir.
  MakeDurableFile("current", "old");
  std::unique_ptr<io::File> tmp = Open(P("current.tmp"), io::OpenMode::kCreate);
  ASSERT_OK(WriteAt(tmp.get(), 0, "new"));
  ASSERT_OK(tmp->Sync());
  ASSERT_OK(fs_.Rename(P("current.tmp"), P("current")));
  EXPECT_EQ(ReadReal(P("current")), "new");
  EXPECT_EQ(List(dir_.path()), std::vector<std::string>{"current"});  // trash hidden
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_EQ(ReadReal(P("current")), "old");
  EXPECT_EQ(ListReal(dir_.path()), std::vector<std::string>{"current"});  // trash gone

  // With the SyncDir it is the new file, and the old one is really deleted.
  tmp = Open(P("current.tmp"), io::OpenMode::kCreate);
  ASSERT_OK(WriteAt(tmp.get(), 0, "new"));
  ASSERT_OK(tmp->Sync());
  ASSERT_OK(fs_.Rename(P("current.tmp"), P("current")));
  ASSERT_OK(fs_.SyncDir(dir_.path()));
  EXPECT_EQ(ListReal(dir_.path()), std::vector<std::string>{"current"});
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_EQ(ReadReal(P("current")), "new");
}

TEST_F(FaultFileSystemTest, UnsyncedRemoveIsRestoredWithItsSyncedContents) {
  MakeDurableFile("victim", "precious");
  std::unique_ptr<io::File> file = Open(P("victim"));
  ASSERT_OK(WriteAt(file.get(), 0, "PRE"));  // un-synced: dropped
  ASSERT_OK(fs_.Remove(P("victim")));
  EXPECT_FALSE(fs_.Exists(P("victim")));
  EXPECT_TRUE(List(dir_.path()).empty());
  EXPECT_TRUE(fs_.Remove(P("victim")).IsNotFound());
  // The handle still works, as on an unlinked file.
  ASSERT_OK(WriteAt(file.get(), 8, "!"));
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_EQ(ReadReal(P("victim")), "precious");

  ASSERT_OK(fs_.Remove(P("victim")));
  ASSERT_OK(fs_.SyncDir(dir_.path()));
  EXPECT_TRUE(ListReal(dir_.path()).empty());  // really deleted at SyncDir
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_FALSE(Real()->Exists(P("victim")));
}

TEST_F(FaultFileSystemTest, CreateThenRemoveWithoutSyncLeavesNothing) {
  std::unique_ptr<io::File> file = Open(P("ephemeral"), io::OpenMode::kCreate);
  ASSERT_OK(WriteAt(file.get(), 0, "x"));
  ASSERT_OK(fs_.Remove(P("ephemeral")));
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_TRUE(ListReal(dir_.path()).empty());
}

TEST_F(FaultFileSystemTest, DirectoryCreationAndRemovalNeedTheParentSynced) {
  ASSERT_OK(fs_.CreateDir(P("sub")));
  std::unique_ptr<io::File> file = Open(P("sub/f"), io::OpenMode::kCreate);
  ASSERT_OK(WriteAt(file.get(), 0, "x"));
  ASSERT_OK(file->Sync());
  ASSERT_OK(fs_.SyncDir(P("sub")));  // f's entry durable, but sub's is not
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_FALSE(Real()->Exists(P("sub")));

  ASSERT_OK(fs_.CreateDir(P("sub")));
  ASSERT_OK(fs_.SyncDir(dir_.path()));
  file = Open(P("sub/f"), io::OpenMode::kCreate);
  ASSERT_OK(WriteAt(file.get(), 0, "x"));
  ASSERT_OK(file->Sync());
  ASSERT_OK(fs_.SyncDir(P("sub")));
  EXPECT_EQ(fs_.RemoveDir(P("sub")).errno_value(), ENOTEMPTY);
  ASSERT_OK(fs_.Remove(P("sub/f")));
  ASSERT_OK(fs_.RemoveDir(P("sub")));  // only trash inside: allowed
  EXPECT_FALSE(fs_.Exists(P("sub")));
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_EQ(ReadReal(P("sub/f")), "x");  // both removals undone

  ASSERT_OK(fs_.Remove(P("sub/f")));
  ASSERT_OK(fs_.RemoveDir(P("sub")));
  ASSERT_OK(fs_.SyncDir(dir_.path()));  // sub's removal durable, and f with it
  EXPECT_TRUE(ListReal(dir_.path()).empty());
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_FALSE(Real()->Exists(P("sub")));
}

TEST_F(FaultFileSystemTest, CrossDirectoryRenameIsDurableOnlyWithBothDirectoriesSynced) {
  ASSERT_OK(fs_.CreateDir(P("from")));
  ASSERT_OK(fs_.CreateDir(P("to")));
  ASSERT_OK(fs_.SyncDir(dir_.path()));
  auto make = [&] {
    std::unique_ptr<io::File> f = Open(P("from/f"), io::OpenMode::kCreate);
    ASSERT_OK(WriteAt(f.get(), 0, "F"));
    ASSERT_OK(f->Sync());
    ASSERT_OK(fs_.SyncDir(P("from")));
  };
  make();
  ASSERT_OK(fs_.Rename(P("from/f"), P("to/f")));
  ASSERT_OK(fs_.SyncDir(P("to")));
  ASSERT_OK(fs_.SimulatePowerLoss());
  // The model treats the two entries independently: the file is in both.
  EXPECT_EQ(ReadReal(P("from/f")), "F");
  EXPECT_EQ(ReadReal(P("to/f")), "F");

  ASSERT_OK(fs_.Remove(P("to/f")));
  ASSERT_OK(fs_.SyncDir(P("to")));
  ASSERT_OK(fs_.Rename(P("from/f"), P("to/f")));
  ASSERT_OK(fs_.SyncDir(P("from")));
  ASSERT_OK(fs_.SyncDir(P("to")));
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_FALSE(Real()->Exists(P("from/f")));
  EXPECT_EQ(ReadReal(P("to/f")), "F");
}

TEST_F(FaultFileSystemTest, LockFileCreationIsAnEntryChange) {
  {
    Result<std::unique_ptr<io::FileLock>> lock = fs_.Lock(P("LOCK"));
    ASSERT_TRUE(lock.ok());
    EXPECT_TRUE(fs_.Lock(P("LOCK")).status().IsBusy());
  }
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_FALSE(Real()->Exists(P("LOCK")));
}

TEST_F(FaultFileSystemTest, MarkAllDurableKeepsTheCurrentState) {
  std::unique_ptr<io::File> file = Open(P("f"), io::OpenMode::kCreate);
  ASSERT_OK(WriteAt(file.get(), 0, "kept"));
  MakeDurableFile("g", "g");
  ASSERT_OK(fs_.Remove(P("g")));
  fs_.MarkAllDurable();
  EXPECT_TRUE(fs_.UnsyncedPaths().empty());
  EXPECT_EQ(ListReal(dir_.path()), std::vector<std::string>{"f"});
  ASSERT_OK(WriteAt(file.get(), 4, "!"));  // the handle stays usable
  ASSERT_OK(fs_.SimulatePowerLoss());
  EXPECT_EQ(ReadReal(P("f")), "kept");
}

// Forwards to the POSIX FS but makes fdatasync and directory fsync free, so
// thousands of sequences run in a few seconds; the model under test is in
// FaultFileSystem, which sees the calls succeed as usual.
class NoSyncFileSystem final : public io::FileSystem {
 public:
  class NoSyncFile final : public io::File {
   public:
    explicit NoSyncFile(std::unique_ptr<io::File> base) : base_(std::move(base)) {}
    const std::string& path() const override { return base_->path(); }
    Status PWrite(uint64_t offset, std::span<const std::string_view> pieces) override {
      return base_->PWrite(offset, pieces);
    }
    Result<std::string_view> PRead(uint64_t offset, size_t n, char* scratch) const override {
      return base_->PRead(offset, n, scratch);
    }
    Status Sync() override { return Status::OK(); }
    Status Allocate(uint64_t offset, uint64_t len) override { return base_->Allocate(offset, len); }
    Status Truncate(uint64_t size) override { return base_->Truncate(size); }
    Result<uint64_t> Size() const override { return base_->Size(); }
    Result<std::unique_ptr<io::MappedRegion>> Map(uint64_t offset, uint64_t len) const override {
      return base_->Map(offset, len);
    }

   private:
    std::unique_ptr<io::File> base_;
  };

  Result<std::unique_ptr<io::File>> Open(const std::string& path, io::OpenMode mode) override {
    RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<io::File> file, Real()->Open(path, mode));
    return std::unique_ptr<io::File>(std::make_unique<NoSyncFile>(std::move(file)));
  }
  Status CreateDir(const std::string& path) override { return Real()->CreateDir(path); }
  Status SyncDir(const std::string&) override { return Status::OK(); }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return Real()->ListDir(path);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return Real()->Rename(from, to);
  }
  Status Remove(const std::string& path) override { return Real()->Remove(path); }
  Status RemoveDir(const std::string& path) override { return Real()->RemoveDir(path); }
  Result<bool> IsDirectory(const std::string& path) override { return Real()->IsDirectory(path); }
  bool Exists(const std::string& path) override { return Real()->Exists(path); }
  Result<std::unique_ptr<io::FileLock>> Lock(const std::string& path) override {
    return Real()->Lock(path);
  }
};

// A temporary directory on tmpfs when there is one. The model test makes
// about 100k metadata changes, which cost milliseconds each on ext4 (a close
// after a truncate flushes, rmdir commits the journal) and nothing in memory;
// the FaultFileSystem under test doesn't care where the files are.
class ScratchDir {
 public:
  ScratchDir() {
    std::string templ = "/dev/shm/raftlog-faultfs-model-XXXXXX";
    if (::mkdtemp(templ.data()) != nullptr) {
      path_ = templ;
    } else {
      fallback_.emplace("faultfs-model");
      path_ = fallback_->path();
    }
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!fallback_) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(std::string_view name) const { return io::JoinPath(path_, name); }

 private:
  std::optional<TempDir> fallback_;
  std::string path_;
};

// ---------------------------------------------------------------------------
// Torn and garbled power loss

constexpr uint64_t kBlock = 4096;

// Three synced blocks of 'a', overwritten with 'b' and followed by a fourth
// block of 'c', un-synced; then power loss. Returns the file afterwards.
std::string TornOutcome(uint64_t seed) {
  NoSyncFileSystem no_sync;
  ScratchDir dir;
  FaultFileSystem fs(&no_sync);
  const std::string path = dir.Sub("f");
  std::unique_ptr<io::File> file = *fs.Open(path, io::OpenMode::kCreate);
  EXPECT_TRUE(WriteAt(file.get(), 0, std::string(3 * kBlock, 'a')).ok());
  EXPECT_TRUE(file->Sync().ok());
  EXPECT_TRUE(fs.SyncDir(dir.path()).ok());
  EXPECT_TRUE(WriteAt(file.get(), 0, std::string(3 * kBlock, 'b')).ok());
  EXPECT_TRUE(WriteAt(file.get(), 3 * kBlock, std::string(kBlock, 'c')).ok());
  EXPECT_TRUE(fs.SimulatePowerLoss(PowerLossMode::kTornUnsynced, seed).ok());
  return ReadReal(path).value_or("<missing>");
}

TEST(FaultFileSystemTornTest, TornPowerLossKeepsWholeBlocksAndIsReproducible) {
  std::set<std::string> outcomes;
  bool saw_old = false, saw_new = false, saw_short = false, saw_long = false;
  for (uint64_t seed = 0; seed < 24; ++seed) {
    const std::string got = TornOutcome(seed);
    EXPECT_EQ(got, TornOutcome(seed)) << "seed " << seed;
    ASSERT_TRUE(got.size() == 3 * kBlock || got.size() == 4 * kBlock) << got.size();
    (got.size() == 3 * kBlock ? saw_short : saw_long) = true;
    for (uint64_t b = 0; b * kBlock < got.size(); ++b) {
      const std::string block = got.substr(b * kBlock, kBlock);
      const char first = block[0];
      EXPECT_EQ(block, std::string(kBlock, first)) << "seed " << seed << " block " << b;
      if (b < 3) {
        EXPECT_TRUE(first == 'a' || first == 'b') << "seed " << seed << " block " << b;
        (first == 'a' ? saw_old : saw_new) = true;
      } else {
        EXPECT_TRUE(first == 'c' || first == '\0') << "seed " << seed;
      }
    }
    outcomes.insert(got);
  }
  EXPECT_GT(outcomes.size(), 4u);
  EXPECT_TRUE(saw_old && saw_new && saw_short && saw_long);
}

TEST(FaultFileSystemTornTest, TornPowerLossKeepsAPrefixOfEachDirectorysChanges) {
  std::set<std::vector<std::string>> outcomes;
  for (uint64_t seed = 0; seed < 16; ++seed) {
    TempDir dir("faultfs-torn");
    FaultFileSystem fs;
    for (const char* name : {"1", "2", "3"}) {
      ASSERT_TRUE(fs.Open(dir.Sub(name), io::OpenMode::kCreate).ok());
    }
    ASSERT_TRUE(fs.Remove(dir.Sub("1")).ok());
    ASSERT_TRUE(fs.SimulatePowerLoss(PowerLossMode::kTornUnsynced, seed).ok());
    Result<std::vector<std::string>> names = Real()->ListDir(dir.path());
    ASSERT_TRUE(names.ok());
    const std::vector<std::vector<std::string>> prefixes = {
        {}, {"1"}, {"1", "2"}, {"1", "2", "3"}, {"2", "3"}};
    EXPECT_NE(std::find(prefixes.begin(), prefixes.end(), *names), prefixes.end());
    outcomes.insert(*names);
  }
  EXPECT_GT(outcomes.size(), 2u);
}

TEST_F(FaultFileSystemTest, GarbledPowerLossGarblesOnlyUnsyncedBytesReproducibly) {
  auto run = [&](uint64_t seed) {
    MakeDurableFile("f", std::string(8192, 'A'));
    MakeDurableFile("cut", std::string(1000, 'K'));
    std::unique_ptr<io::File> file = Open(P("f"));
    EXPECT_TRUE(WriteAt(file.get(), 100, std::string(100, 'B')).ok());
    EXPECT_TRUE(WriteAt(file.get(), 8192, std::string(50, 'C')).ok());
    std::unique_ptr<io::File> cut = Open(P("cut"));
    EXPECT_TRUE(cut->Truncate(10).ok());
    EXPECT_TRUE(fs_.SimulatePowerLoss(PowerLossMode::kGarbleUnsynced, seed).ok());
    return std::make_pair(*ReadReal(P("f")), *ReadReal(P("cut")));
  };
  const auto [f1, cut1] = run(7);
  const auto [f2, cut2] = run(7);
  const auto [f3, cut3] = run(8);
  EXPECT_EQ(f1, f2);
  EXPECT_EQ(cut1, cut2);
  EXPECT_NE(f1, f3);
  ASSERT_EQ(f1.size(), 8242u);  // the larger size
  EXPECT_EQ(f1.substr(0, 100), std::string(100, 'A'));
  EXPECT_EQ(f1.substr(200, 8192 - 200), std::string(8192 - 200, 'A'));
  EXPECT_NE(f1.substr(100, 100), std::string(100, 'B'));
  EXPECT_NE(f1.substr(100, 100), std::string(100, 'A'));
  EXPECT_NE(f1.substr(8192), std::string(50, 'C'));
  ASSERT_EQ(cut1.size(), 1000u);
  EXPECT_EQ(cut1.substr(0, 10), std::string(10, 'K'));
  EXPECT_NE(cut1.substr(10), std::string(990, 'K'));
}

// ---------------------------------------------------------------------------
// Random operation sequences against a model of the durable state

// The durable state as a test would reason about it: per directory, the
// entries as of its last SyncDir; per file, its contents as of its last Sync.
class Model {
 public:
  struct File {
    std::string current;
    std::string durable;
    // Ranges changed since the last Sync (as FaultFileSystem computes them).
    std::vector<std::pair<uint64_t, uint64_t>> pending;
    // Ranges covered by a failed Sync: never durable (until power loss).
    std::vector<std::pair<uint64_t, uint64_t>> poisoned_ranges;
    bool poisoned = false;

    void Change(uint64_t lo, uint64_t hi) { pending.emplace_back(lo, hi); }
    void Write(uint64_t offset, std::string_view bytes, uint64_t full_len) {
      const uint64_t size = current.size();
      Change(std::min(offset, size), offset + full_len);
      if (offset + bytes.size() > current.size()) current.resize(offset + bytes.size(), '\0');
      current.replace(offset, bytes.size(), bytes);
    }
    void Resize(uint64_t size) {
      Change(std::min<uint64_t>(size, current.size()), std::max<uint64_t>(size, current.size()));
      current.resize(size, '\0');
    }
    void Synced(bool ok) {
      if (!ok) {
        if (!pending.empty()) poisoned = true;
        poisoned_ranges.insert(poisoned_ranges.end(), pending.begin(), pending.end());
        pending.clear();
        return;
      }
      if (!poisoned) {
        durable = current;
      } else if (!pending.empty()) {  // with nothing new, nothing is made durable
        durable.resize(current.size(), '\0');
        for (auto [lo, hi] : pending) {
          hi = std::min<uint64_t>(hi, current.size());
          if (lo < hi) durable.replace(lo, hi - lo, current.substr(lo, hi - lo));
        }
      }
      pending.clear();
    }
    // Whether byte i may differ between the disk and what readers saw.
    bool Unsynced(uint64_t i) const {
      for (const auto& ranges : {pending, poisoned_ranges}) {
        for (auto [lo, hi] : ranges) {
          if (lo <= i && i < hi) return true;
        }
      }
      return false;
    }
  };

  std::map<int, File> files;
  // [dir][name] -> file id: now, and as of each directory's last SyncDir.
  std::map<int, std::map<std::string, int>> now, durable;
  int next_id = 0;
};

TEST(FaultFileSystemModelTest, RandomSequencesMatchAModelOfDurableState) {
  constexpr int kSequences = 1500;
  constexpr int kRounds = 2;  // power losses per sequence
  constexpr int kOpsPerRound = 24;
  const std::vector<std::string> names = {"a", "b", "c", "d"};
  NoSyncFileSystem no_sync;
  std::mt19937_64 rng(20240601);
  auto rand = [&](uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng); };

  for (int seq = 0; seq < kSequences; ++seq) {
    SCOPED_TRACE("sequence " + std::to_string(seq));
    ScratchDir root;
    const std::vector<std::string> dirs = {root.Sub("d0"), root.Sub("d1")};
    for (const std::string& d : dirs) ASSERT_TRUE(Real()->CreateDir(d).ok());
    FaultFileSystem fs(&no_sync);
    Model m;
    std::map<int, std::unique_ptr<io::File>> handles;
    std::string trace;  // the operations so far, printed on failure
    auto log = [&](const std::string& line) { trace += line + "\n"; };
    auto path_of = [&](int d, const std::string& name) { return io::JoinPath(dirs[d], name); };
    auto handle = [&](int d, const std::string& name) -> io::File* {
      const int id = m.now[d][name];
      if (handles.count(id) == 0) {
        handles[id] = *fs.Open(path_of(d, name), io::OpenMode::kReadWrite);
      }
      return handles[id].get();
    };
    // A random existing entry, if any.
    auto pick = [&]() -> std::optional<std::pair<int, std::string>> {
      std::vector<std::pair<int, std::string>> all;
      for (auto& [d, entries] : m.now) {
        for (auto& [name, id] : entries) all.emplace_back(d, name);
      }
      if (all.empty()) return std::nullopt;
      return all[rand(all.size())];
    };

    for (int round = 0; round < kRounds; ++round) {
      for (int op = 0; op < kOpsPerRound; ++op) {
        const int d = static_cast<int>(rand(2));
        const std::string name = names[rand(names.size())];
        switch (rand(10)) {
          case 0: {  // create
            if (m.now[d].count(name) > 0) break;
            Result<std::unique_ptr<io::File>> f =
                fs.Open(path_of(d, name), io::OpenMode::kCreateExclusive);
            ASSERT_TRUE(f.ok()) << f.status().ToString();
            const int id = m.next_id++;
            m.files[id];
            m.now[d][name] = id;
            handles[id] = std::move(*f);
            log("create d" + std::to_string(d) + "/" + name + " #" + std::to_string(id));
            break;
          }
          case 1:
          case 2: {  // write, sometimes failing or short
            auto e = pick();
            if (!e) break;
            Model::File& mf = m.files[m.now[e->first][e->second]];
            const uint64_t offset = rand(mf.current.size() + 3000);
            std::string bytes(1 + rand(rand(2) ? 100 : 6000), '\0');
            for (char& c : bytes) c = static_cast<char>('a' + rand(26));
            const uint64_t how = rand(20);
            io::File* f = handle(e->first, e->second);
            log("write d" + std::to_string(e->first) + "/" + e->second + " @" +
                std::to_string(offset) + "+" + std::to_string(bytes.size()) + " how " +
                std::to_string(how));
            if (how == 0) {
              fs.FailNth(FsOp::kPWrite, 1);
              ASSERT_FALSE(WriteAt(f, offset, bytes).ok());
            } else if (how == 1) {
              const uint64_t keep = rand(bytes.size());
              log("  short " + std::to_string(keep));
              fs.ShortWriteNth(1, keep);
              ASSERT_FALSE(WriteAt(f, offset, bytes).ok());
              mf.Write(offset, std::string_view(bytes).substr(0, keep), bytes.size());
            } else {
              ASSERT_TRUE(WriteAt(f, offset, bytes).ok());
              mf.Write(offset, bytes, bytes.size());
            }
            break;
          }
          case 3: {  // truncate or allocate
            auto e = pick();
            if (!e) break;
            Model::File& mf = m.files[m.now[e->first][e->second]];
            io::File* f = handle(e->first, e->second);
            if (rand(2)) {
              const uint64_t size = rand(mf.current.size() + 5000);
              log("truncate d" + std::to_string(e->first) + "/" + e->second + " " +
                  std::to_string(size));
              ASSERT_TRUE(f->Truncate(size).ok());
              mf.Resize(size);
            } else {
              const uint64_t offset = rand(mf.current.size() + 5000);
              const uint64_t len = 1 + rand(5000);
              log("allocate d" + std::to_string(e->first) + "/" + e->second + " @" +
                  std::to_string(offset) + "+" + std::to_string(len));
              ASSERT_TRUE(f->Allocate(offset, len).ok());
              if (offset + len > mf.current.size()) mf.Resize(offset + len);
            }
            break;
          }
          case 4:
          case 5: {  // sync a file, sometimes failing
            auto e = pick();
            if (!e) break;
            Model::File& mf = m.files[m.now[e->first][e->second]];
            io::File* f = handle(e->first, e->second);
            const bool fail = rand(6) == 0;
            if (fail) fs.FailNth(FsOp::kSync, 1);
            log("sync d" + std::to_string(e->first) + "/" + e->second + (fail ? " FAIL" : ""));
            ASSERT_EQ(f->Sync().ok(), !fail);
            mf.Synced(!fail);
            break;
          }
          case 6: {  // sync a directory, sometimes failing
            const bool fail = rand(6) == 0;
            if (fail) fs.FailNth(FsOp::kSyncDir, 1);
            log("syncdir d" + std::to_string(d) + (fail ? " FAIL" : ""));
            ASSERT_EQ(fs.SyncDir(dirs[d]).ok(), !fail);
            if (!fail) m.durable[d] = m.now[d];
            break;
          }
          case 7:
          case 8: {  // rename, within or across directories, maybe replacing
            auto e = pick();
            if (!e || (e->first == d && e->second == name)) break;
            log("rename d" + std::to_string(e->first) + "/" + e->second + " d" + std::to_string(d) +
                "/" + name);
            ASSERT_TRUE(fs.Rename(path_of(e->first, e->second), path_of(d, name)).ok());
            m.now[d][name] = m.now[e->first][e->second];
            m.now[e->first].erase(e->second);
            break;
          }
          case 9: {  // remove
            auto e = pick();
            if (!e) break;
            log("remove d" + std::to_string(e->first) + "/" + e->second);
            ASSERT_TRUE(fs.Remove(path_of(e->first, e->second)).ok());
            m.now[e->first].erase(e->second);
            break;
          }
        }
      }

      log("power loss");
      ASSERT_TRUE(fs.SimulatePowerLoss(PowerLossMode::kDropUnsynced).ok());
      // Every handle is dead; check one.
      if (!handles.empty()) {
        EXPECT_NE(handles.begin()->second->Sync().message().find(kDeadHandle), std::string::npos);
      }
      handles.clear();
      // The disk must hold exactly the durable state. Each surviving entry is
      // its own file from here on (a cross-directory rename may have left one
      // file under two names).
      Model next;
      for (int dd = 0; dd < 2; ++dd) {
        std::vector<std::string> want;
        for (auto& [nm, id] : m.durable[dd]) {
          want.push_back(nm);
          const std::string& contents = m.files[id].durable;
          const std::optional<std::string> got = ReadReal(path_of(dd, nm));
          ASSERT_TRUE(got == contents)
              << path_of(dd, nm) << ": " << (got ? std::to_string(got->size()) : "missing")
              << " bytes, want " << contents.size() << "\n"
              << trace;
          const int new_id = next.next_id++;
          next.files[new_id].current = next.files[new_id].durable = contents;
          next.now[dd][nm] = next.durable[dd][nm] = new_id;
        }
        ASSERT_EQ(*fs.ListDir(dirs[dd]), want) << trace;
        ASSERT_EQ(*Real()->ListDir(dirs[dd]), want) << trace;  // no trash left behind
      }
      m = std::move(next);
    }
  }
}

TEST(FaultFileSystemModelTest, RandomDataChangesTornOrGarbledStayWithinTheModel) {
  constexpr int kSequences = 600;
  constexpr int kFiles = 3;
  constexpr int kOps = 16;
  NoSyncFileSystem no_sync;
  std::mt19937_64 rng(77);
  auto rand = [&](uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng); };

  for (int seq = 0; seq < kSequences; ++seq) {
    SCOPED_TRACE("sequence " + std::to_string(seq));
    ScratchDir root;
    FaultFileSystem fs(&no_sync);
    std::vector<Model::File> model(kFiles);
    std::vector<std::unique_ptr<io::File>> files;
    for (int i = 0; i < kFiles; ++i) {
      files.push_back(*fs.Open(root.Sub(std::to_string(i)), io::OpenMode::kCreate));
    }
    ASSERT_OK(fs.SyncDir(root.path()));
    for (int op = 0; op < kOps; ++op) {
      const int i = static_cast<int>(rand(kFiles));
      Model::File& mf = model[i];
      io::File* f = files[i].get();
      switch (rand(5)) {
        case 0:
        case 1: {
          const uint64_t offset = rand(mf.current.size() + 6000);
          std::string bytes(1 + rand(9000), static_cast<char>('a' + rand(26)));
          if (rand(8) == 0) {
            const uint64_t keep = rand(bytes.size());
            fs.ShortWriteNth(1, keep);
            ASSERT_FALSE(WriteAt(f, offset, bytes).ok());
            mf.Write(offset, std::string_view(bytes).substr(0, keep), bytes.size());
          } else {
            ASSERT_OK(WriteAt(f, offset, bytes));
            mf.Write(offset, bytes, bytes.size());
          }
          break;
        }
        case 2: {
          const uint64_t size = rand(mf.current.size() + 9000);
          if (rand(2)) {
            ASSERT_OK(f->Truncate(size));
            mf.Resize(size);
          } else {
            ASSERT_OK(f->Allocate(0, size + 1));
            if (size + 1 > mf.current.size()) mf.Resize(size + 1);
          }
          break;
        }
        default: {
          const bool fail = rand(5) == 0;
          if (fail) fs.FailNth(FsOp::kSync, 1);
          ASSERT_EQ(f->Sync().ok(), !fail);
          mf.Synced(!fail);
          break;
        }
      }
    }

    const bool torn = seq % 2 == 0;
    ASSERT_OK(fs.SimulatePowerLoss(
        torn ? PowerLossMode::kTornUnsynced : PowerLossMode::kGarbleUnsynced, seq));
    for (int i = 0; i < kFiles; ++i) {
      SCOPED_TRACE("file " + std::to_string(i));
      const Model::File& mf = model[i];
      const std::optional<std::string> got = ReadReal(root.Sub(std::to_string(i)));
      ASSERT_TRUE(got.has_value());
      const std::string& durable = mf.durable;
      const std::string& current = mf.current;
      if (torn) {
        // The size is the old or the new one; each 4 KiB block reads as it
        // was synced, or as readers last saw it.
        ASSERT_TRUE(got->size() == durable.size() || got->size() == current.size())
            << got->size() << " vs " << durable.size() << "/" << current.size();
        std::string reverted = durable;
        reverted.resize(got->size(), '\0');
        std::string kept = reverted;
        const size_t n = std::min(current.size(), got->size());
        kept.replace(0, n, current.substr(0, n));
        for (uint64_t b = 0; b < got->size(); b += kBlock) {
          const std::string block = got->substr(b, kBlock);
          ASSERT_TRUE(block == reverted.substr(b, kBlock) || block == kept.substr(b, kBlock))
              << "block at " << b;
        }
      } else {
        // The larger size; every byte not touched since the last good Sync
        // is intact.
        ASSERT_EQ(got->size(), std::max(durable.size(), current.size()));
        for (uint64_t b = 0; b < got->size(); ++b) {
          if (mf.Unsynced(b)) continue;
          ASSERT_EQ((*got)[b], b < durable.size() ? durable[b] : '\0') << "byte " << b;
        }
      }
    }
  }
}

TEST_F(FaultFileSystemTest, ConcurrentWritersReadersAndSyncsKeepEverySyncedRecord) {
  constexpr int kWriters = 3;
  constexpr int kRecords = 120;
  constexpr size_t kRecordBytes = 64;
  std::vector<std::unique_ptr<io::File>> files;
  for (int w = 0; w < kWriters; ++w) {
    files.push_back(Open(P("w" + std::to_string(w)), io::OpenMode::kCreate));
  }
  ASSERT_OK(fs_.SyncDir(dir_.path()));
  std::vector<int> synced(kWriters, 0);  // records known durable, per writer
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int r = 0; r < kRecords; ++r) {
        const std::string record(kRecordBytes, static_cast<char>('A' + r % 26));
        EXPECT_TRUE(WriteAt(files[w].get(), r * kRecordBytes, record).ok());
        if (r % 10 == 9) {
          EXPECT_TRUE(files[w]->Sync().ok());
          synced[w] = r + 1;
        }
      }
    });
  }
  threads.emplace_back([&] {  // a reader on every file, all along
    std::vector<char> scratch(kRecordBytes);
    while (!done.load()) {
      for (const auto& f : files) EXPECT_TRUE(f->PRead(0, scratch.size(), scratch.data()).ok());
    }
  });
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  done = true;
  threads.back().join();
  ASSERT_OK(fs_.SimulatePowerLoss());
  for (int w = 0; w < kWriters; ++w) {
    const std::optional<std::string> got = ReadReal(P("w" + std::to_string(w)));
    ASSERT_TRUE(got.has_value());
    ASSERT_EQ(got->size(), synced[w] * kRecordBytes);
    for (int r = 0; r < synced[w]; ++r) {
      EXPECT_EQ(got->substr(r * kRecordBytes, kRecordBytes),
                std::string(kRecordBytes, static_cast<char>('A' + r % 26)));
    }
  }
}

}  // namespace
}  // namespace raftlog::testutil
