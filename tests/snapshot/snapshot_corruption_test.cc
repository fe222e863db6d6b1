// Damaged snapshot files: every truncation and every bit flip of a small file
// is Corruption naming the file and the offset; crafted files with valid
// checksums but impossible fields are caught by the structural checks; a
// newer format version is NotSupported; garbage named like a snapshot never
// makes List fail.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "raftlog/format/checksum.h"
#include "raftlog/format/coding.h"
#include "raftlog/snapshot/snapshot_format.h"
#include "raftlog/snapshot/snapshot_store.h"
#include "tests/snapshot/snapshot_test_util.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::snapshot {
namespace {

using test_support::IsCorruptionAt;
using test_support::OffsetInMessage;

constexpr uint32_t kBlock = 4;
const SnapshotMeta kMeta{/*index=*/5, /*term=*/2, /*conf_state=*/"cs"};
constexpr std::string_view kData = "hello world!!";  // 13 bytes: blocks of 4, 4, 4, 1

class SnapshotCorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SnapshotStore::Open(io::FileSystem::Default(), tmp_.path(),
                                     {.keep = 10, .block_bytes = kBlock});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Write(kMeta, kData).ok());
    good_ = test_support::ReadFile(path_);
    ASSERT_EQ(good_.size(),
              kHeaderBytes + 3 * (kBlockHeaderBytes + 4) + kBlockHeaderBytes + 1 + kTrailerBytes);
  }

  // Replaces the snapshot file with `bytes` and returns Verify's status,
  // after checking that Scan reports the file as damaged with the same code
  // and that List leaves it out without failing.
  Status Sabotage(std::string_view bytes) {
    test_support::WriteFile(path_, bytes);
    Status verify = store_->Verify(name_);
    auto scan = store_->Scan();
    EXPECT_TRUE(scan.ok()) << scan.status().ToString();
    auto listed = store_->List();
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    if (scan.ok() && listed.ok()) {
      // Flips in the data are found only by reading it: Scan reads headers
      // and trailers, so it may still count the file as valid then.
      const bool scan_damaged = scan->damaged.size() == 1;
      EXPECT_EQ(scan_damaged, scan->snapshots.empty());
      EXPECT_EQ(listed->size(), scan->snapshots.size());
      if (scan_damaged) {
        EXPECT_EQ(scan->damaged[0].name, name_);
        EXPECT_EQ(scan->damaged[0].status.code(), verify.code())
            << scan->damaged[0].status.ToString() << " vs " << verify.ToString();
      }
    }
    return verify;
  }

  static constexpr size_t kHeaderBytes = kHeaderFixedBytes + 2;
  testutil::TempDir tmp_{"snapshot-corrupt"};
  std::unique_ptr<SnapshotStore> store_;
  const std::string name_ = SnapshotFileName(kMeta.term, kMeta.index);
  const std::string path_ = io::JoinPath(tmp_.path(), name_);
  std::string good_;
};

TEST_F(SnapshotCorruptionTest, IntactFileVerifies) {
  EXPECT_TRUE(Sabotage(good_).ok());
  EXPECT_EQ(store_->Load(name_)->second, kData);
}

// A file cut at any offset (the usual shape of a torn copy) is Corruption,
// found already when the reader opens it (the trailer is missing).
TEST_F(SnapshotCorruptionTest, TruncationAtEveryOffsetIsCorruption) {
  for (size_t len = 0; len < good_.size(); ++len) {
    SCOPED_TRACE("truncated to " + std::to_string(len) + " bytes");
    const Status s = Sabotage(std::string_view(good_).substr(0, len));
    EXPECT_TRUE(IsCorruptionAt(s, path_));
    EXPECT_LE(OffsetInMessage(s.message()), static_cast<int64_t>(good_.size()));
    EXPECT_TRUE(store_->OpenReader(name_).status().IsCorruption());
  }
}

TEST_F(SnapshotCorruptionTest, TrailingBytesAreCorruption) {
  const Status s = Sabotage(good_ + std::string(1, '\0'));
  EXPECT_TRUE(IsCorruptionAt(s, path_));
  EXPECT_TRUE(IsCorruptionAt(Sabotage(good_ + good_), path_));
}

// Every single-bit flip anywhere in the file is Corruption (never
// NotSupported, not even in the version field: the header checksum is
// checked before the version), reported at the damaged structure: within
// the header, at the start of the damaged block, or within the trailer.
TEST_F(SnapshotCorruptionTest, EveryBitFlipIsCorruptionAtItsStructure) {
  const int64_t trailer_offset = static_cast<int64_t>(good_.size() - kTrailerBytes);
  for (size_t byte = 0; byte < good_.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      SCOPED_TRACE("byte " + std::to_string(byte) + " bit " + std::to_string(bit));
      std::string bad = good_;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      const Status s = Sabotage(bad);
      ASSERT_TRUE(IsCorruptionAt(s, path_));
      const int64_t at = OffsetInMessage(s.message());
      const auto b = static_cast<int64_t>(byte);
      if (b < static_cast<int64_t>(kHeaderBytes)) {
        // A flip in the header-bytes field moves the header's end: past the
        // file's end it is a truncated header (reported at the file's end),
        // otherwise the checksum is looked for, and missed, where that size
        // puts it.
        const bool size_field = byte >= 12 && byte < 16;
        EXPECT_TRUE(
            at < static_cast<int64_t>(kHeaderBytes) ||
            (size_field && at == static_cast<int64_t>(good_.size())) ||
            (size_field && s.message().find("header checksum mismatch") != std::string_view::npos))
            << s.ToString();
      } else if (b < trailer_offset) {
        const int64_t block = (b - static_cast<int64_t>(kHeaderBytes)) /
                              static_cast<int64_t>(kBlockHeaderBytes + kBlock);
        EXPECT_EQ(at, static_cast<int64_t>(kHeaderBytes) +
                          block * static_cast<int64_t>(kBlockHeaderBytes + kBlock))
            << s.ToString();
      } else {
        EXPECT_GE(at, trailer_offset) << s.ToString();
      }
    }
  }
}

// Blocks carry their number in their checksum seed: two equal-sized blocks
// swapped (each valid on its own) are caught.
TEST_F(SnapshotCorruptionTest, SwappedBlocksAreCorruption) {
  std::string bad = good_;
  const size_t block = kBlockHeaderBytes + kBlock;
  bad.replace(kHeaderBytes, block, good_, kHeaderBytes + block, block);
  bad.replace(kHeaderBytes + block, block, good_, kHeaderBytes, block);
  const Status s = Sabotage(bad);
  EXPECT_TRUE(IsCorruptionAt(s, path_));
  EXPECT_EQ(OffsetInMessage(s.message()), static_cast<int64_t>(kHeaderBytes));
  EXPECT_NE(s.message().find("block 0 checksum mismatch"), std::string_view::npos) << s.ToString();
}

TEST_F(SnapshotCorruptionTest, WrongMagicIsCorruption) {
  std::string bad = good_;
  bad.replace(0, 8, "NOTASNAP");
  const Status s = Sabotage(bad);
  EXPECT_TRUE(IsCorruptionAt(s, path_));
  EXPECT_EQ(OffsetInMessage(s.message()), 0);
  EXPECT_NE(s.message().find("bad magic"), std::string_view::npos) << s.ToString();
}

// Rewrites header field bytes at `offset` and recomputes the header checksum,
// as a writer of that content would have.
std::string WithHeaderField(std::string file, size_t offset, std::string_view bytes,
                            size_t header_bytes) {
  file.replace(offset, bytes.size(), bytes);
  const uint64_t sum = format::Checksum64(std::string_view(file).substr(0, header_bytes - 8));
  format::EncodeFixed64(file.data() + header_bytes - 8, sum);
  return file;
}

std::string Fixed16(uint16_t v) {
  std::string s;
  format::PutFixed16(&s, v);
  return s;
}
std::string Fixed32(uint32_t v) {
  std::string s;
  format::PutFixed32(&s, v);
  return s;
}

TEST_F(SnapshotCorruptionTest, NewerVersionIsNotSupported) {
  const std::string newer = WithHeaderField(good_, 8, Fixed16(kFormatVersion + 1), kHeaderBytes);
  const Status s = Sabotage(newer);
  EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
  EXPECT_NE(s.message().find(path_), std::string_view::npos) << s.ToString();
  EXPECT_NE(s.message().find("version 2"), std::string_view::npos) << s.ToString();
}

TEST_F(SnapshotCorruptionTest, VersionZeroAndUnknownFlagsAreCorruption) {
  Status s = Sabotage(WithHeaderField(good_, 8, Fixed16(0), kHeaderBytes));
  EXPECT_TRUE(IsCorruptionAt(s, path_));
  EXPECT_EQ(OffsetInMessage(s.message()), 8);
  s = Sabotage(WithHeaderField(good_, 10, Fixed16(0x0004), kHeaderBytes));
  EXPECT_TRUE(IsCorruptionAt(s, path_));
  EXPECT_EQ(OffsetInMessage(s.message()), 10);
  EXPECT_NE(s.message().find("unknown flags"), std::string_view::npos) << s.ToString();
}

// Lengths read from disk are checked before anything is allocated for them:
// a header claiming the largest allowed size in a small file, a block size
// out of range, and a conf-state length that disagrees with the header size.
TEST_F(SnapshotCorruptionTest, ImpossibleHeaderLengthsAreCorruption) {
  std::string bad = good_;
  format::EncodeFixed32(bad.data() + 12, static_cast<uint32_t>(kMaxHeaderBytes));
  Status s = Sabotage(bad);
  EXPECT_TRUE(IsCorruptionAt(s, path_));
  EXPECT_NE(s.message().find("truncated header"), std::string_view::npos) << s.ToString();

  format::EncodeFixed32(bad.data() + 12, UINT32_MAX);
  s = Sabotage(bad);
  EXPECT_TRUE(IsCorruptionAt(s, path_));
  EXPECT_EQ(OffsetInMessage(s.message()), 12);

  s = Sabotage(WithHeaderField(good_, 32, Fixed32(kMaxBlockBytes + 1), kHeaderBytes));
  EXPECT_TRUE(IsCorruptionAt(s, path_));
  EXPECT_EQ(OffsetInMessage(s.message()), 32);
  s = Sabotage(WithHeaderField(good_, 32, Fixed32(0), kHeaderBytes));
  EXPECT_TRUE(IsCorruptionAt(s, path_));

  s = Sabotage(WithHeaderField(good_, 36, Fixed32(3), kHeaderBytes));
  EXPECT_TRUE(IsCorruptionAt(s, path_));
  EXPECT_EQ(OffsetInMessage(s.message()), 36);
}

// A trailer with a valid checksum whose totals do not fit the file (e.g. a
// claim of 2^60 data bytes) is caught when the reader opens the file, so Load
// never reserves memory from it.
TEST_F(SnapshotCorruptionTest, TrailerTotalsMustFillTheFile) {
  auto header = DecodeHeader(std::string_view(good_).substr(0, kHeaderBytes), path_);
  ASSERT_TRUE(header.ok());
  const size_t trailer_offset = good_.size() - kTrailerBytes;
  const std::vector<SnapshotTrailer> lies = {
      {4, uint64_t{1} << 60, format::Checksum64(kData)},
      {UINT64_MAX, 13, format::Checksum64(kData)},
      {3, 13, format::Checksum64(kData)},
      {0, 0, format::Checksum64("")},
  };
  for (const SnapshotTrailer& lie : lies) {
    SCOPED_TRACE("blocks " + std::to_string(lie.block_count) + " bytes " +
                 std::to_string(lie.data_bytes));
    std::string bad = good_;
    bad.replace(trailer_offset, kTrailerBytes, EncodeTrailer(lie, header->checksum));
    const Status s = Sabotage(bad);
    EXPECT_TRUE(IsCorruptionAt(s, path_));
    EXPECT_EQ(OffsetInMessage(s.message()), static_cast<int64_t>(trailer_offset));
    EXPECT_TRUE(store_->Load(name_).status().IsCorruption());
  }
  // Right totals, wrong whole-data checksum: found at the end of the data.
  std::string bad = good_;
  bad.replace(trailer_offset, kTrailerBytes,
              EncodeTrailer({4, 13, format::Checksum64("other")}, header->checksum));
  const Status s = Sabotage(bad);
  EXPECT_TRUE(IsCorruptionAt(s, path_));
  EXPECT_NE(s.message().find("data checksum mismatch"), std::string_view::npos) << s.ToString();
}

// A block whose length exceeds the block size is rejected by the length
// check even if its checksum matches that length.
TEST_F(SnapshotCorruptionTest, OversizedBlockIsCorruption) {
  auto header = DecodeHeader(std::string_view(good_).substr(0, kHeaderBytes), path_);
  ASSERT_TRUE(header.ok());
  // Merge blocks 0 and 1 into one 8-byte block holding "hello wo" (then the
  // rest of the file, which no longer matters).
  std::string bad = good_.substr(0, kHeaderBytes);
  char block_header[kBlockHeaderBytes];
  EncodeBlockHeader(block_header, header->checksum, 0, "hello wo");
  bad.append(block_header, sizeof(block_header));
  bad.append("hello wo");
  bad.append(good_.substr(bad.size()));
  const Status s = Sabotage(bad);
  EXPECT_TRUE(IsCorruptionAt(s, path_));
  EXPECT_NE(s.message().find("length 8 out of range [1, 4]"), std::string_view::npos)
      << s.ToString();
}

// A valid snapshot file under another snapshot's name (copied or renamed by
// hand) is caught: the header must agree with the name.
TEST_F(SnapshotCorruptionTest, HeaderMustAgreeWithTheName) {
  const std::string other = SnapshotFileName(kMeta.term, kMeta.index + 1);
  test_support::WriteFile(io::JoinPath(tmp_.path(), other), good_);
  const Status s = store_->Verify(other);
  EXPECT_TRUE(IsCorruptionAt(s, io::JoinPath(tmp_.path(), other)));
  EXPECT_NE(s.message().find("file name says term 2 index 6"), std::string_view::npos)
      << s.ToString();
  auto scan = store_->Scan();
  ASSERT_TRUE(scan.ok());
  ASSERT_EQ(scan->damaged.size(), 1u);
  EXPECT_EQ(scan->damaged[0].name, other);
  ASSERT_EQ(scan->snapshots.size(), 1u);
  EXPECT_EQ(scan->snapshots[0].name, name_);
}

// Garbage under snapshot names (random bytes, an empty file, a bare magic)
// never makes List, Latest or Retain fail: Scan reports each in `damaged`,
// List and Latest skip them, pruning leaves them alone, Remove deletes them.
TEST_F(SnapshotCorruptionTest, GarbageNamedLikeASnapshotIsReportedNotFatal) {
  const std::vector<std::pair<std::string, std::string>> garbage = {
      {SnapshotFileName(9, 100), test_support::RandomBytes(1000, 1)},
      {SnapshotFileName(9, 101), ""},
      {SnapshotFileName(9, 102), "RAFTSNAP"},
  };
  for (const auto& [name, bytes] : garbage) {
    test_support::WriteFile(io::JoinPath(tmp_.path(), name), bytes);
  }
  auto scan = store_->Scan();
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  ASSERT_EQ(scan->damaged.size(), garbage.size());
  for (size_t i = 0; i < garbage.size(); ++i) {
    EXPECT_EQ(scan->damaged[i].name, garbage[i].first);
    EXPECT_TRUE(
        IsCorruptionAt(scan->damaged[i].status, io::JoinPath(tmp_.path(), garbage[i].first)));
  }
  auto listed = store_->List();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  auto latest = store_->Latest();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->name, name_);

  // Pruning counts valid snapshots only and never removes damaged files.
  ASSERT_TRUE(store_->Write({6, 2, "cs"}, "newer").ok());
  ASSERT_TRUE(store_->Retain(1).ok());
  scan = store_->Scan();
  ASSERT_EQ(scan->snapshots.size(), 1u);
  EXPECT_EQ(scan->snapshots[0].meta.index, 6u);
  EXPECT_EQ(scan->damaged.size(), garbage.size());

  for (const auto& [name, bytes] : garbage) EXPECT_TRUE(store_->Remove(name).ok());
  EXPECT_TRUE(store_->Scan()->damaged.empty());
}

}  // namespace
}  // namespace raftlog::snapshot
