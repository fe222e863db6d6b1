#include "raftlog/format/status.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <string>

#include "raftlog/format/result.h"

namespace raftlog {
namespace {

TEST(StatusTest, OkIsCheapAndDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(sizeof(Status), sizeof(void*));
}

TEST(StatusTest, CodesMessagesAndContext) {
  Status s = Status::Corruption("bad checksum in 00000001.seg at offset 4096");
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.ToString(), "Corruption: bad checksum in 00000001.seg at offset 4096");
  Status c = s.WithContext("open /data/log");
  EXPECT_EQ(c.message(), "open /data/log: bad checksum in 00000001.seg at offset 4096");
  EXPECT_TRUE(c.IsCorruption());
  EXPECT_TRUE(Status::OK().WithContext("x").ok());
}

TEST(StatusTest, RaftErrorsCarryEtcdTexts) {
  EXPECT_EQ(Status::Compacted().message(), "requested index is unavailable due to compaction");
  EXPECT_EQ(Status::Unavailable().message(), "requested entry at index is unavailable");
  EXPECT_EQ(Status::SnapshotOutOfDate().message(),
            "requested index is older than the existing snapshot");
  EXPECT_EQ(Status::SnapshotTemporarilyUnavailable().message(),
            "snapshot is temporarily unavailable");
  EXPECT_EQ(Status::Compacted("index 3 < first 4").message(), "index 3 < first 4");
  // Equality is by code, as etcd compares sentinel errors by identity.
  EXPECT_EQ(Status::Compacted(), Status::Compacted("other text"));
}

TEST(StatusTest, FromErrnoKeepsTheErrno) {
  Status s = Status::FromErrno("fdatasync 00000002.seg", ENOSPC);
  EXPECT_TRUE(s.IsIOError());
  EXPECT_EQ(s.errno_value(), ENOSPC);
  EXPECT_NE(s.message().find("No space left on device"), std::string::npos);
}

TEST(StatusTest, CopyAndMove) {
  Status a = Status::IOError("x");
  Status b = a;
  EXPECT_EQ(b.message(), "x");
  Status c = std::move(a);
  EXPECT_EQ(c.message(), "x");
  b = Status::OK();
  EXPECT_TRUE(b.ok());
}

Result<int> Half(int v) {
  if (v % 2 != 0) return Status::InvalidArgument("odd");
  return v / 2;
}

Result<int> Quarter(int v) {
  RAFTLOG_ASSIGN_OR_RETURN(int h, Half(v));
  RAFTLOG_ASSIGN_OR_RETURN(h, Half(h));
  return h;
}

Status CheckEven(int v) {
  RAFTLOG_RETURN_IF_ERROR(Half(v).status());
  return Status::OK();
}

TEST(ResultTest, ValueOrError) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_TRUE(Quarter(6).status().IsInvalidArgument());
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_FALSE(CheckEven(3).ok());
  EXPECT_EQ(Half(3).value_or(-1), -1);
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 5);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Result<int> r = Status::NotFound("no such segment");
  EXPECT_DEATH((void)r.value(), "no such segment");
  EXPECT_DEATH((void)Result<int>(Status::OK()), "Result constructed from an OK Status");
}

}  // namespace
}  // namespace raftlog
