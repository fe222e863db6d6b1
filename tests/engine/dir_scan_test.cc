// ClassifyLogDirectory: every kind of entry of a log directory, by name, the
// manifest and the size, and the repair side file names it recognizes.

#include "raftlog/engine/dir_scan.h"

#include <gtest/gtest.h>

#include <span>
#include <string>
#include <utility>

#include "raftlog/format/layout.h"
#include "tests/engine/log_engine_fixture.h"

namespace raftlog::engine {
namespace {

namespace layout = format::layout;

TEST(DirScanTest, ClassifiesEveryNameOfTheLogDirectory) {
  for (std::string_view name : {"LOCK", "meta.mdb", "meta.mdb-lock", "segments", "snapshots"}) {
    EXPECT_EQ(ClassifyTopEntry(name).kind, DirEntryKind::kLogFile) << name;
  }
  EXPECT_EQ(ClassifyTopEntry("creating.tmp").kind, DirEntryKind::kInterruptedCreation);
  const std::string side = layout::RepairSideFileName(layout::SegmentFileName(3), 1764000000);
  EXPECT_EQ(ClassifyTopEntry(side).kind, DirEntryKind::kRepairSideFile) << side;
  for (std::string_view name : {"notes.txt", "repair-x-0000000000000003.seg.cut",
                                "repair-20261122T062914Z-3.seg.cut", "meta.mdb.bak"}) {
    EXPECT_EQ(ClassifyTopEntry(name).kind, DirEntryKind::kForeign) << name;
  }
}

// A segment listed compressed is its <id>-<generation>.zseg; its raw file
// and rewrites of other generations are strays (an interrupted compression).
TEST(DirScanTest, ClassifiesCompressedSegmentsByGeneration) {
  DirScanInput input;
  input.listed = {3, 4};
  input.compressed = {{3, 9}};
  input.next_segment_id = 6;
  auto kind = [&](std::string_view name) { return ClassifySegmentsEntry(name, input).kind; };
  EXPECT_EQ(kind(layout::CompressedSegmentFileName(3, 9)), DirEntryKind::kListedSegment);
  EXPECT_EQ(kind(layout::SegmentFileName(3)), DirEntryKind::kStraySegment);
  EXPECT_EQ(kind(layout::CompressedSegmentFileName(3, 8)), DirEntryKind::kStraySegment);
  EXPECT_EQ(kind(layout::CompressedSegmentFileName(4, 9)), DirEntryKind::kStraySegment);
  EXPECT_EQ(kind(layout::SegmentFileName(4)), DirEntryKind::kListedSegment);
  EXPECT_EQ(ClassifySegmentsEntry(layout::CompressedSegmentFileName(3, 9), input).segment_id, 3u);
  // Missing: named by the file the manifest expects.
  testutil::TempDir dir("dirscan-z");
  ASSERT_TRUE(io::FileSystem::Default()->CreateDir(dir.Sub("segments")).ok());
  auto entries = ClassifyLogDirectory(io::FileSystem::Default(), dir.path(), input);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  std::vector<std::string> missing;
  for (const DirEntry& e : *entries) {
    if (e.kind == DirEntryKind::kMissingSegment) missing.push_back(e.name);
  }
  EXPECT_EQ(missing, (std::vector<std::string>{"segments/" + layout::CompressedSegmentFileName(3, 9),
                                               "segments/" + layout::SegmentFileName(4)}));
}

TEST(DirScanTest, ClassifiesEveryNameInSegments) {
  DirScanInput input;
  input.listed = {3, 4};
  input.next_segment_id = 6;
  auto kind = [&](std::string_view name) { return ClassifySegmentsEntry(name, input).kind; };
  EXPECT_EQ(kind(layout::SegmentFileName(3)), DirEntryKind::kListedSegment);
  EXPECT_EQ(kind(layout::SegmentFileName(2)), DirEntryKind::kStraySegment);
  EXPECT_EQ(kind(layout::SegmentFileName(5)), DirEntryKind::kStraySegment);
  EXPECT_EQ(kind(layout::SegmentFileName(6)), DirEntryKind::kSpareSegment);
  EXPECT_EQ(kind(layout::SpareTempFileName(7)), DirEntryKind::kInterruptedSpare);
  EXPECT_EQ(kind("notes.txt"), DirEntryKind::kForeign);
  EXPECT_EQ(kind("00000000000000AB.seg"), DirEntryKind::kForeign);  // upper case: not ours
  const DirEntry e = ClassifySegmentsEntry(layout::SegmentFileName(6), input);
  EXPECT_EQ(e.name, "segments/" + layout::SegmentFileName(6));
  EXPECT_TRUE(e.in_segments);
  EXPECT_EQ(e.segment_id, 6u);
  // Without the manifest any unlisted segment may be a spare.
  input.next_segment_id.reset();
  EXPECT_EQ(kind(layout::SegmentFileName(2)), DirEntryKind::kSpareSegment);
}

class DirScanLogTest : public testing::LogEngineFixture {
 protected:
  DirScanLogTest() : LogEngineFixture("dir-scan") {}
};

TEST_F(DirScanLogTest, ClassifiesARealDirectoryWithSizesAndMissingSegments) {
  {
    auto e = Open();
    ASSERT_NE(e, nullptr);
    Append(e.get(), 1, 100, 1, 1000);  // several segments
    ASSERT_TRUE(e->Close().ok());
  }
  const std::string seg_dir = dir_.path() + "/segments";
  for (const auto& [name, bytes] : {std::pair<std::string, std::string>{layout::SegmentFileName(1000), "0123"},
                                    {"notes.txt", "x"}}) {
    auto f = io::FileSystem::Default()->Open(seg_dir + "/" + name, io::OpenMode::kCreate);
    ASSERT_TRUE(f.ok());
    std::string_view view = bytes;
    ASSERT_TRUE((*f)->PWrite(0, std::span<const std::string_view>(&view, 1)).ok());
  }
  DirScanInput input;
  input.listed = {1, 2, 999};
  input.next_segment_id = 100;
  auto entries = ClassifyLogDirectory(io::FileSystem::Default(), dir_.path(), input);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  bool saw_meta = false, saw_spare = false, saw_missing = false, saw_foreign = false;
  for (const DirEntry& e : *entries) {
    if (e.name == "meta.mdb") saw_meta = e.kind == DirEntryKind::kLogFile && !e.in_segments;
    if (e.segment_id == 1000u) saw_spare = e.kind == DirEntryKind::kSpareSegment && e.size == 4u;
    if (e.segment_id == 999u) saw_missing = e.kind == DirEntryKind::kMissingSegment;
    if (e.name == "segments/notes.txt") saw_foreign = e.kind == DirEntryKind::kForeign;
    if (e.segment_id == 1u) {
      EXPECT_EQ(e.kind, DirEntryKind::kListedSegment);
    }
  }
  EXPECT_TRUE(saw_meta);
  EXPECT_TRUE(saw_spare);
  EXPECT_TRUE(saw_missing);
  EXPECT_TRUE(saw_foreign);
}

}  // namespace
}  // namespace raftlog::engine
