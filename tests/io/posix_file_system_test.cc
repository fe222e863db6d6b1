#include <gtest/gtest.h>

#include <span>
#include <string>
#include <vector>

#include "raftlog/io/file_system.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::io {
namespace {

class PosixFileSystemTest : public ::testing::Test {
 protected:
  FileSystem* fs_ = FileSystem::Default();
  testutil::TempDir dir_{"io"};
};

TEST_F(PosixFileSystemTest, WritePiecesReadBackAndMap) {
  auto file = fs_->Open(dir_.Sub("a"), OpenMode::kCreateExclusive);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  std::vector<std::string_view> pieces = {"hello", "", ", ", "world"};
  ASSERT_TRUE((*file)->PWrite(3, pieces).ok());
  ASSERT_TRUE((*file)->Sync().ok());
  EXPECT_EQ(*(*file)->Size(), 15u);
  char buf[32];
  auto got = (*file)->PRead(3, 100, buf);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "hello, world");
  auto region = (*file)->Map(5, 10);
  ASSERT_TRUE(region.ok());
  EXPECT_EQ((*region)->bytes(), "llo, world");
}

// O_DIRECT reads of unaligned ranges, across a block boundary and at the
// end of the file. (tmpfs has no direct I/O: NotSupported there.)
TEST_F(PosixFileSystemTest, ReadFromDeviceSeesSyncedBytes) {
  auto file = fs_->Open(dir_.Sub("direct"), OpenMode::kCreateExclusive);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  std::string data(10000, '\0');
  for (size_t k = 0; k < data.size(); ++k) data[k] = static_cast<char>('a' + k % 26);
  const std::string_view piece(data);
  ASSERT_TRUE((*file)->PWrite(0, std::span<const std::string_view>(&piece, 1)).ok());
  ASSERT_TRUE((*file)->Sync().ok());
  auto got = (*file)->ReadFromDevice(4090, 20);
  if (got.status().IsNotSupported()) GTEST_SKIP() << got.status().ToString();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, data.substr(4090, 20));
  auto tail = (*file)->ReadFromDevice(9990, 100);
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  EXPECT_EQ(*tail, data.substr(9990));
  auto past = (*file)->ReadFromDevice(20000, 10);
  ASSERT_TRUE(past.ok()) << past.status().ToString();
  EXPECT_EQ(*past, "");
}

TEST_F(PosixFileSystemTest, ManyPiecesBeyondIovMax) {
  auto file = fs_->Open(dir_.Sub("many"), OpenMode::kCreate);
  ASSERT_TRUE(file.ok());
  std::vector<std::string> storage;
  std::string want;
  for (int i = 0; i < 3000; ++i) {
    storage.push_back(std::to_string(i) + ",");
    want += storage.back();
  }
  std::vector<std::string_view> pieces(storage.begin(), storage.end());
  ASSERT_TRUE((*file)->PWrite(0, pieces).ok());
  std::string buf(want.size() + 10, '\0');
  EXPECT_EQ(*(*file)->PRead(0, buf.size(), buf.data()), want);
}

TEST_F(PosixFileSystemTest, ErrorsNameThePath) {
  auto missing = fs_->Open(dir_.Sub("nope"), OpenMode::kReadOnly);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_NE(missing.status().message().find(dir_.Sub("nope")), std::string::npos);
  ASSERT_TRUE(fs_->Open(dir_.Sub("x"), OpenMode::kCreate).ok());
  auto again = fs_->Open(dir_.Sub("x"), OpenMode::kCreateExclusive);
  EXPECT_TRUE(again.status().IsIOError()) << again.status().ToString();
  EXPECT_TRUE(fs_->Remove(dir_.Sub("nope")).IsNotFound());
}

TEST_F(PosixFileSystemTest, DirectoriesRenameAndList) {
  ASSERT_TRUE(fs_->CreateDir(dir_.Sub("d")).ok());
  ASSERT_TRUE(fs_->CreateDir(dir_.Sub("d")).ok());  // already there: fine
  ASSERT_TRUE(fs_->Open(dir_.Sub("d/b.tmp"), OpenMode::kCreate).ok());
  ASSERT_TRUE(fs_->Open(dir_.Sub("d/a"), OpenMode::kCreate).ok());
  ASSERT_TRUE(fs_->Rename(dir_.Sub("d/b.tmp"), dir_.Sub("d/b")).ok());
  ASSERT_TRUE(fs_->SyncDir(dir_.Sub("d")).ok());
  EXPECT_EQ(*fs_->ListDir(dir_.Sub("d")), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(*fs_->IsDirectory(dir_.Sub("d")));
  EXPECT_FALSE(*fs_->IsDirectory(dir_.Sub("d/a")));
  EXPECT_TRUE(fs_->IsDirectory(dir_.Sub("zz")).status().IsNotFound());
  // A file where a directory is wanted.
  EXPECT_FALSE(fs_->CreateDir(dir_.Sub("d/a")).ok());
}

TEST_F(PosixFileSystemTest, LockIsExclusive) {
  auto first = fs_->Lock(dir_.Sub("LOCK"));
  ASSERT_TRUE(first.ok());
  auto second = fs_->Lock(dir_.Sub("LOCK"));
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsBusy()) << second.status().ToString();
  first->reset();
  EXPECT_TRUE(fs_->Lock(dir_.Sub("LOCK")).ok());
}

TEST_F(PosixFileSystemTest, AllocateExtendsAndTruncateShrinks) {
  auto file = fs_->Open(dir_.Sub("seg"), OpenMode::kCreate);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Allocate(0, 1 << 20).ok());
  EXPECT_EQ(*(*file)->Size(), 1u << 20);
  ASSERT_TRUE((*file)->Truncate(4096).ok());
  EXPECT_EQ(*(*file)->Size(), 4096u);
}

TEST(JoinPathTest, ExactlyOneSlash) {
  EXPECT_EQ(JoinPath("/a/", "/b"), "/a/b");
  EXPECT_EQ(JoinPath("/a", "b"), "/a/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
  EXPECT_EQ(JoinPath("/", "b"), "/b");
}

}  // namespace
}  // namespace raftlog::io
