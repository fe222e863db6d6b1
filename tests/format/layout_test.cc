#include "raftlog/format/layout.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace raftlog::format::layout {
namespace {

TEST(LayoutTest, HexIdsAreSixteenLowercaseDigitsAndParseBack) {
  EXPECT_EQ(FormatHexId(0), "0000000000000000");
  EXPECT_EQ(FormatHexId(0xabc), "0000000000000abc");
  EXPECT_EQ(FormatHexId(UINT64_MAX), "ffffffffffffffff");
  for (uint64_t id : {uint64_t{0}, uint64_t{1}, uint64_t{0xdeadbeef}, UINT64_MAX}) {
    EXPECT_EQ(ParseHexId(FormatHexId(id)), id);
  }
  for (const char* bad : {"", "000000000000000", "00000000000000000", "000000000000000A",
                          "000000000000000g", " 000000000000001", "+000000000000001"}) {
    EXPECT_FALSE(ParseHexId(bad).has_value()) << bad;
  }
}

TEST(LayoutTest, SegmentNamesRoundTripAndRejectEverythingElse) {
  EXPECT_EQ(SegmentFileName(1), "0000000000000001.seg");
  EXPECT_EQ(SegmentRelPath(0x2a), "segments/000000000000002a.seg");
  EXPECT_EQ(SpareTempFileName(3), "0000000000000003.seg.tmp");
  EXPECT_EQ(ParseSegmentFileName(SegmentFileName(0x1234)), 0x1234u);
  for (const char* bad : {"0000000000000001.seg.tmp", "0000000000000001.snap", "1.seg",
                          "000000000000000G.seg", "0000000000000001.SEG", "meta.mdb", "LOCK"}) {
    EXPECT_FALSE(ParseSegmentFileName(bad).has_value()) << bad;
  }
  EXPECT_TRUE(IsTempName(SpareTempFileName(3)));
  EXPECT_FALSE(IsTempName(".tmp"));
  EXPECT_FALSE(IsTempName(SegmentFileName(3)));
}

TEST(LayoutTest, CompressedSegmentNamesCarryTheGeneration) {
  EXPECT_EQ(CompressedSegmentFileName(0xa1, 3), "00000000000000a1-0000000000000003.zseg");
  auto parsed = ParseCompressedSegmentFileName(CompressedSegmentFileName(0x1234, 0x77));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->id, 0x1234u);
  EXPECT_EQ(parsed->generation, 0x77u);
  for (const char* bad : {"00000000000000a1.seg", "00000000000000a1-0000000000000003.seg",
                          "00000000000000a1_0000000000000003.zseg", "a1-3.zseg",
                          "00000000000000a1-000000000000000G.zseg",
                          "00000000000000a1-0000000000000003.zseg.tmp"}) {
    EXPECT_FALSE(ParseCompressedSegmentFileName(bad).has_value()) << bad;
  }
  EXPECT_FALSE(ParseSegmentFileName(CompressedSegmentFileName(1, 2)).has_value());
}

TEST(LayoutTest, SnapshotNamesSortByTermThenIndexAndParseOnlyTheirOwn) {
  EXPECT_EQ(SnapshotFileName(2, 5), "0000000000000002-0000000000000005.snap");
  auto parsed = ParseSnapshotFileName(SnapshotFileName(7, 0x99));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->term, 7u);
  EXPECT_EQ(parsed->index, 0x99u);
  EXPECT_LT(SnapshotFileName(1, 100), SnapshotFileName(2, 1));
  EXPECT_TRUE(IsSnapshotTempFileName(SnapshotTempFileName(SnapshotFileName(2, 5))));
  EXPECT_FALSE(IsSnapshotTempFileName(SnapshotFileName(2, 5)));
  EXPECT_FALSE(IsSnapshotTempFileName(SpareTempFileName(1)));
  EXPECT_FALSE(ParseSnapshotFileName(SnapshotTempFileName(SnapshotFileName(2, 5))).has_value());
}

TEST(LayoutTest, SegmentKeysRoundTripAndStateKeysCarryThePrefix) {
  EXPECT_EQ(SegmentKey(0x10), "seg/0000000000000010");
  EXPECT_EQ(ParseSegmentKey(SegmentKey(0x10)), 0x10u);
  EXPECT_FALSE(ParseSegmentKey("seg/10").has_value());
  EXPECT_FALSE(ParseSegmentKey("log/start").has_value());
  EXPECT_EQ(StateKey(kHardStateName), kHardStateKey);
  EXPECT_EQ(StateKey(kSnapshotName), kSnapshotKey);
}

TEST(LayoutTest, CreationLeftoversAreExactlyTheLockFilesAndTheStagingDirectory) {
  EXPECT_TRUE(IsCreationLeftover(kLockFile));
  EXPECT_TRUE(IsCreationLeftover(kMetaLockFile));
  EXPECT_TRUE(IsCreationLeftover(kStagingDir));
  EXPECT_FALSE(IsCreationLeftover(kMetaFile));
  EXPECT_FALSE(IsCreationLeftover(kSegmentsDir));
}

TEST(LayoutTest, RepairSideFilesNameTheTimeInUtcAndTheSegment) {
  // 2024-03-05 06:07:08 UTC.
  EXPECT_EQ(RepairSideFileName(SegmentFileName(1), 1709618828),
            "repair-20240305T060708Z-0000000000000001.seg.cut");
}

}  // namespace
}  // namespace raftlog::format::layout
