// Segment files freed by compaction are reused as the next spares
// (Options::recycled_segments): the log reads back exactly what was
// appended through recycled files, before and after a reopen; stale frames
// left in a recycled file never surface; a file a reader still views is
// never reused; and a recycled file's preparation that fails falls back to a
// fresh file without failing the log.

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "raftlog/engine/log_engine.h"
#include "raftlog/format/layout.h"
#include "raftlog/format/segment_header.h"
#include "tests/engine/log_engine_fixture.h"
#include "tests/testutil/fault_file_system.h"

namespace raftlog::engine::testing {
namespace {

constexpr size_t kEntryBytes = 1000;

class RecycleTest : public LogEngineFixture {
 protected:
  RecycleTest() : LogEngineFixture("recycle") {
    options_.segment_bytes = 64 << 10;
    options_.prepared_segments = 1;
    options_.recycled_segments = 4;
  }

  // Appends entries [next_, next_ + count) in batches of 4 (term 1).
  void AppendMore(LogEngine* e, uint64_t count) {
    for (uint64_t k = 0; k < count; k += 4) {
      Append(e, next_, 4, 1, kEntryBytes);
      next_ += 4;
    }
  }

  // Every entry in [first, last] holds what Batch wrote for it.
  static void ExpectEntries(const LogEngine& e, uint64_t first, uint64_t last) {
    ASSERT_EQ(e.FirstIndex(), first);
    ASSERT_EQ(e.LastIndex(), last);
    uint64_t expected = first;
    const Status s = e.ReadShared(first, last + 1, [&](const format::EntryView& v, Bytes data) {
      EXPECT_EQ(v.index, expected);
      EXPECT_EQ(data.view(), Batch::Payload(v.index, kEntryBytes)) << "entry " << v.index;
      ++expected;
      return true;
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(expected, last + 1);
  }

  // Appends until `stats.segments_recycled` reaches `want` (the preallocator
  // reuses a freed file when it prepares the next spare, in the background).
  void AppendUntilRecycled(LogEngine* e, uint64_t want) {
    for (int round = 0; round < 200 && e->GetStats().segments_recycled < want; ++round) {
      AppendMore(e, 64);
    }
    ASSERT_GE(e->GetStats().segments_recycled, want);
  }

  std::vector<std::string> ListSegments() {
    auto names = io::FileSystem::Default()->ListDir(SegmentsDir());
    EXPECT_TRUE(names.ok()) << names.status().ToString();
    return names.ok() ? std::move(*names) : std::vector<std::string>{};
  }

  // The segment header of the active segment's file: the newest file whose
  // header decodes (prepared spares have an all-zero header).
  format::SegmentHeader ActiveHeader(const LogEngine&) {
    std::vector<std::string> names = ListSegments();
    std::sort(names.rbegin(), names.rend());
    for (const std::string& name : names) {
      if (!format::layout::ParseSegmentFileName(name).has_value()) continue;
      const std::string bytes = ReadAll(SegmentsDir() + "/" + name).substr(0, 64);
      auto header = format::DecodeSegmentHeader(bytes, name);
      if (header.ok()) return *header;
    }
    ADD_FAILURE() << "no segment with a header";
    return format::SegmentHeader{};
  }

  // The largest segment id among the files in segments/.
  uint64_t MaxSegmentId() {
    uint64_t max = 0;
    const std::vector<std::string> names = ListSegments();
    for (const std::string& name : names) {
      auto id = format::layout::ParseSegmentFileName(name);
      if (id.has_value()) max = std::max(max, *id);
    }
    return max;
  }

  uint64_t next_ = 1;
};

TEST_F(RecycleTest, CompactedFilesBecomeTheNextSegmentsAndTheLogReadsBack) {
  auto e = Open();
  ASSERT_NE(e, nullptr);
  AppendMore(e.get(), 400);  // several 64 KiB segments
  ASSERT_TRUE(e->TruncatePrefix(next_ - 20, {}).ok());
  const uint64_t first = next_ - 20;
  AppendUntilRecycled(e.get(), 2);
  ExpectEntries(*e, first, next_ - 1);
  // Written into a recycled file: the header says its tail is stale.
  AppendMore(e.get(), 8);
  EXPECT_TRUE(ActiveHeader(*e).stale_tail());

  // A clean reopen finds the end of the frames at the writer's end marker:
  // no torn tail, nothing cut, every entry there.
  ASSERT_TRUE(e->Close().ok());
  e = Open();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->GetStats().torn_tail_cuts, 0u);
  ExpectEntries(*e, first, next_ - 1);
  AppendMore(e.get(), 200);
  ExpectEntries(*e, first, next_ - 1);
}

TEST_F(RecycleTest, StaleFramesOfARecycledFileNeverSurfaceAfterACrash) {
  // Compact everything, then append only a little into a recycled file whose
  // stale frames hold the same indexes' old payloads: a reopen without a
  // clean close (the log is reopened while the old instance is dropped
  // without Close) must stop at the new data.
  auto e = Open();
  ASSERT_NE(e, nullptr);
  AppendMore(e.get(), 400);
  ASSERT_TRUE(e->TruncatePrefix(next_ - 4, {}).ok());
  const uint64_t first = next_ - 4;
  AppendUntilRecycled(e.get(), 1);
  // Roll once more so that the active segment is a recycled file, and write
  // only a few entries into it.
  while (!ActiveHeader(*e).stale_tail()) AppendMore(e.get(), 4);
  const uint64_t last = next_ - 1;
  ASSERT_TRUE(e->Close().ok());
  e = Open();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->GetStats().torn_tail_cuts, 0u);
  ExpectEntries(*e, first, last);
}

TEST_F(RecycleTest, AFileAReaderStillViewsIsNotReused) {
  auto e = Open();
  ASSERT_NE(e, nullptr);
  AppendMore(e.get(), 400);
  // Hold a view of entry 1's payload, in the first segment's mapping.
  Bytes held;
  ASSERT_TRUE(e->ReadShared(1, 2, [&](const format::EntryView&, Bytes data) {
                 held = data;
                 return true;
               }).ok());
  ASSERT_TRUE(e->TruncatePrefix(next_ - 20, {}).ok());
  const uint64_t first = next_ - 20;
  AppendUntilRecycled(e.get(), 3);
  AppendMore(e.get(), 800);  // many more rolls, each into a recycled file if any
  EXPECT_EQ(held.view(), Batch::Payload(1, kEntryBytes));
  ExpectEntries(*e, first, next_ - 1);
}

// With a cap above what a compaction frees, every freed file becomes a later
// segment (no fresh file is made while they last), and the files waiting for
// reuse never make the directory hold more than the log held at its peak.
TEST_F(RecycleTest, EveryFreedFileIsReusedWithinTheLogsPeakFootprint) {
  options_.recycled_segments = 64;
  auto e = Open();
  ASSERT_NE(e, nullptr);
  AppendMore(e.get(), 800);  // about 13 segments of 64 KiB
  const engine::Stats grown = e->GetStats();
  ASSERT_GT(grown.segments, 8u);
  // The live segments and the prepared spare (ready or being made).
  const size_t peak_files = grown.segments + options_.prepared_segments;
  ASSERT_TRUE(e->TruncatePrefix(next_ - 4, {}).ok());
  const uint64_t first = next_ - 4;
  const uint64_t freed = grown.segments - e->GetStats().segments;
  ASSERT_GT(freed, 4u);  // more than the old default cap of 4
  EXPECT_LE(ListSegments().size(), peak_files);
  // Grow the log by as many segments as were freed: each roll takes a
  // recycled file, and no fresh file is prepared meanwhile.
  const engine::Stats compacted = e->GetStats();
  while (e->GetStats().segments_recycled < compacted.segments_recycled + freed) {
    AppendMore(e.get(), 8);
    ASSERT_LE(ListSegments().size(), peak_files);
    ASSERT_LT(next_, 20000u) << "freed files were not all reused";
  }
  EXPECT_EQ(e->GetStats().segments_prepared, compacted.segments_prepared);
  ExpectEntries(*e, first, next_ - 1);
}

// Freed files wait for reuse only up to the log's own peak: a truncation
// that frees segments of a log that never held more than that keeps the
// directory within the peak even with a large cap.
TEST_F(RecycleTest, RecyclingNeverGrowsTheFootprintPastThePeak) {
  options_.recycled_segments = 64;
  auto e = Open();
  ASSERT_NE(e, nullptr);
  AppendMore(e.get(), 400);
  const size_t peak_files = e->GetStats().segments + options_.prepared_segments;
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(e->TruncatePrefix(next_ - 4, {}).ok());
    EXPECT_LE(ListSegments().size(), peak_files) << "round " << round;
    AppendMore(e.get(), 200);  // fewer segments than the peak
    EXPECT_LE(ListSegments().size(), peak_files) << "round " << round;
  }
  ExpectEntries(*e, next_ - 204, next_ - 1);
}

TEST_F(RecycleTest, NoRecyclingWhenDisabled) {
  options_.recycled_segments = 0;
  auto e = Open();
  ASSERT_NE(e, nullptr);
  AppendMore(e.get(), 400);
  ASSERT_TRUE(e->TruncatePrefix(next_ - 20, {}).ok());
  AppendMore(e.get(), 400);
  EXPECT_EQ(e->GetStats().segments_recycled, 0u);
  EXPECT_GT(e->GetStats().segments_prepared, 0u);
  EXPECT_FALSE(ActiveHeader(*e).stale_tail());
}

// Fresh spares are written with zeros while synced appends are small (a
// cheaper fdatasync), and only reserved once they are large (the disk's
// bandwidth is the limit, and zeros would double the bytes it takes). Either
// way the log reads back what was appended, before and after a reopen.
TEST_F(RecycleTest, FreshSparesAreZeroFilledOnlyWhileSyncedAppendsAreSmall) {
  options_.recycled_segments = 0;
  options_.segment_bytes = 1 << 20;
  auto e = Open();
  ASSERT_NE(e, nullptr);
  AppendMore(e.get(), 2000);  // 4 KiB per synced append: small
  const engine::Stats small = e->GetStats();
  EXPECT_GT(small.segments_prepared, 0u);
  EXPECT_EQ(small.segments_zero_filled, small.segments_prepared);
  // 200 entries of 1000 bytes per synced append (~200 KiB): large.
  for (int k = 0; k < 60; ++k) {
    Append(e.get(), next_, 200, 1, kEntryBytes);
    next_ += 200;
  }
  const engine::Stats large = e->GetStats();
  EXPECT_GT(large.segments_prepared - small.segments_prepared, 2u);
  EXPECT_LT(large.segments_zero_filled - small.segments_zero_filled,
            large.segments_prepared - small.segments_prepared);
  ExpectEntries(*e, 1, next_ - 1);
  ASSERT_TRUE(e->Close().ok());
  e = Open();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->GetStats().torn_tail_cuts, 0u);
  ExpectEntries(*e, 1, next_ - 1);
}

TEST_F(RecycleTest, CloseDeletesFilesThatWaitedForReuse) {
  auto e = Open();
  ASSERT_NE(e, nullptr);
  AppendMore(e.get(), 400);
  const size_t before = ListSegments().size();
  ASSERT_TRUE(e->TruncatePrefix(next_ - 4, {}).ok());
  ASSERT_TRUE(e->Close().ok());
  // What is left: the segments still listed and the prepared spares, no file
  // that waited for reuse (a stray to the next open and to verify).
  e = Open();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->GetStats().stray_files_found, 0u);
  EXPECT_LT(ListSegments().size(), before);
}

TEST_F(RecycleTest, AFailedReuseFallsBackToAFreshFile) {
  testutil::FaultFileSystem faults(io::FileSystem::Default());
  options_.file_system = &faults;
  auto e = Open();
  ASSERT_NE(e, nullptr);
  AppendMore(e.get(), 400);
  ASSERT_TRUE(e->TruncatePrefix(next_ - 20, {}).ok());
  const uint64_t first = next_ - 20;
  // Renaming any of the freed files fails: the first step of reusing one.
  // (Fresh spares get ids above every file present now.)
  for (uint64_t id = 1; id < MaxSegmentId(); ++id) {
    faults.FailAlways(testutil::FsOp::kRename, EIO, format::layout::SegmentFileName(id));
  }
  AppendMore(e.get(), 400);
  EXPECT_EQ(e->GetStats().segments_recycled, 0u);
  ExpectEntries(*e, first, next_ - 1);
  ASSERT_TRUE(e->Close().ok());
  e = Open();
  ASSERT_NE(e, nullptr);
  ExpectEntries(*e, first, next_ - 1);
}

}  // namespace
}  // namespace raftlog::engine::testing
