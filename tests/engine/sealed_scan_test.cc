// ScanSealedSegment on sealed segments the engine wrote and then damaged:
// the header, trailer and footer checks, damage classified by the entries
// it costs (compacted or lost), going on through the footer's frame table
// in a full check and stopping at the first loss otherwise.

#include "raftlog/engine/sealed_scan.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "raftlog/engine/meta_store.h"
#include "raftlog/engine/segment_reader.h"
#include "raftlog/format/layout.h"
#include "raftlog/format/record_format.h"
#include "tests/engine/log_engine_fixture.h"

namespace raftlog::engine::testing {
namespace {

class SealedScanTest : public LogEngineFixture {
 protected:
  SealedScanTest() : LogEngineFixture("sealed_scan") {
    options_.segment_bytes = 64 << 10;
    options_.prepared_segments = 0;
  }

  // Fills more than one segment (so the first is sealed) and closes; reads
  // the first segment's manifest record.
  void WriteLog() {
    auto e = Open();
    ASSERT_NE(e, nullptr);
    for (uint64_t i = 1; i <= 800; i += 10) Append(e.get(), i, 10, 1 + i / 400, 100);
    ASSERT_TRUE(e->Close().ok());
    MetaStore::OpenOptions meta_options;
    meta_options.read_only = true;
    auto meta = MetaStore::Open(dir_.path() + "/" + std::string(format::layout::kMetaFile),
                                meta_options);
    ASSERT_TRUE(meta.ok()) << meta.status().ToString();
    auto value = (*meta)->Get(format::layout::SegmentKey(1));
    ASSERT_TRUE(value.ok() && value->has_value());
    auto record = format::DecodeSegmentRecord(**value);
    ASSERT_TRUE(record.ok());
    ASSERT_EQ(record->state, format::SegmentState::kSealed);
    record_ = *record;
    path_ = SegmentsDir() + "/" + format::layout::SegmentFileName(1);
  }

  SealedScan Scan(const SealedScanOptions& options, std::vector<uint64_t>* frames = nullptr) {
    auto reader = SegmentReader::Open(io::FileSystem::Default(), path_, "seg");
    EXPECT_TRUE(reader.ok());
    SealedScanOptions o = options;
    o.on_frame = [&](const format::FrameView&, uint64_t offset) {
      if (frames != nullptr) frames->push_back(offset);
      return Status::OK();
    };
    auto scan = ScanSealedSegment(reader->get(), record_, o);
    EXPECT_TRUE(scan.ok()) << scan.status().ToString();
    return *scan;
  }

  format::SegmentRecord record_;
  std::string path_;
};

TEST_F(SealedScanTest, SoundSegmentHasItsFooterEveryFrameAndNoProblem) {
  WriteLog();
  std::vector<uint64_t> frames;
  const SealedScan scan = Scan(SealedScanOptions(), &frames);
  EXPECT_TRUE(scan.problems.empty()) << scan.problems.front().what;
  ASSERT_TRUE(scan.footer.has_value());
  EXPECT_EQ(scan.good_frames, scan.footer->frames.size());
  EXPECT_EQ(frames.size(), scan.footer->frames.size());
  EXPECT_FALSE(scan.lost());
}

TEST_F(SealedScanTest, DamagedFrameIsLossUnlessAllItsEntriesAreCompacted) {
  WriteLog();
  std::vector<uint64_t> frames;
  Scan(SealedScanOptions(), &frames);
  ASSERT_GE(frames.size(), 4u);
  WriteAt(path_, frames[1] + format::kFrameHeaderBytes + 5, "XX");

  SealedScanOptions full;
  full.stop_at_loss = false;
  SealedScan scan = Scan(full);
  ASSERT_EQ(scan.problems.size(), 1u);
  EXPECT_EQ(scan.problems[0].offset, frames[1]);
  EXPECT_EQ(scan.problems[0].first_index, 11u);  // the second batch of 10
  EXPECT_EQ(scan.problems[0].last_index, 20u);
  EXPECT_FALSE(scan.problems[0].compacted);
  EXPECT_TRUE(scan.lost());
  EXPECT_EQ(scan.good_frames, scan.footer->frames.size() - 1);  // went on after it

  SealedScanOptions compacted;
  compacted.first_index = 21;
  compacted.stop_at_loss = true;
  scan = Scan(compacted);
  ASSERT_EQ(scan.problems.size(), 1u);
  EXPECT_TRUE(scan.problems[0].compacted);
  EXPECT_FALSE(scan.lost());
  EXPECT_EQ(scan.good_frames, scan.footer->frames.size() - 1);

  SealedScanOptions reader;  // stops at the first loss
  scan = Scan(reader);
  ASSERT_EQ(scan.problems.size(), 1u);
  EXPECT_EQ(scan.good_frames, 1u);
}

TEST_F(SealedScanTest, BadTrailerIsAProblemAtTheTrailerAndAFullCheckStillWalksTheFrames) {
  WriteLog();
  WriteAt(path_, record_.file_bytes - 8, "XXXX");
  SealedScanOptions full;
  full.stop_at_loss = false;
  const SealedScan scan = Scan(full);
  ASSERT_FALSE(scan.problems.empty());
  EXPECT_EQ(scan.problems[0].offset, record_.file_bytes - format::kTrailerBytes);
  EXPECT_FALSE(scan.footer.has_value());
  EXPECT_GT(scan.good_frames, 0u);
  EXPECT_EQ(Scan(SealedScanOptions()).good_frames, 0u);  // a reader stops
}

TEST_F(SealedScanTest, ShorterFileThanTheManifestSaysIsOneProblemForTheWholeFile) {
  WriteLog();
  ASSERT_TRUE(io::FileSystem::Default()
                  ->Open(path_, io::OpenMode::kReadWrite)
                  .value()
                  ->Truncate(record_.file_bytes - 100)
                  .ok());
  const SealedScan scan = Scan(SealedScanOptions());
  ASSERT_EQ(scan.problems.size(), 1u);
  EXPECT_FALSE(scan.problems[0].offset.has_value());
  EXPECT_NE(scan.problems[0].what.find("truncated"), std::string::npos);
}

TEST_F(SealedScanTest, SeeksThroughTheFooterToTheFrameHoldingFromIndex) {
  WriteLog();
  std::vector<uint64_t> all, some;
  Scan(SealedScanOptions(), &all);
  SealedScanOptions seek;
  seek.from_index = 35;  // in the fourth frame (31 .. 40)
  const SealedScan scan = Scan(seek, &some);
  EXPECT_TRUE(scan.problems.empty());
  ASSERT_FALSE(some.empty());
  EXPECT_EQ(some.front(), all[3]);
  EXPECT_EQ(some.size(), all.size() - 3);
}

TEST_F(SealedScanTest, SegmentFilesDescribeThemselvesAsTheManifestDoes) {
  WriteLog();
  auto reader = SegmentReader::Open(io::FileSystem::Default(), path_, "seg");
  ASSERT_TRUE(reader.ok());
  auto sealed = DescribeSegmentFile(reader->get(), 1);
  ASSERT_TRUE(sealed.ok() && sealed->has_value());
  EXPECT_EQ((*sealed)->state, format::SegmentState::kSealed);
  EXPECT_EQ((*sealed)->base_index, record_.base_index);
  EXPECT_EQ((*sealed)->generation, record_.generation);
  EXPECT_EQ((*sealed)->footer_offset, record_.footer_offset);
  EXPECT_EQ((*sealed)->file_bytes, record_.file_bytes);
  EXPECT_EQ((*sealed)->last_index, record_.last_index);
  auto other = DescribeSegmentFile(reader->get(), 7);  // the header names segment 1
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());

  auto active_reader = SegmentReader::Open(
      io::FileSystem::Default(), SegmentsDir() + "/" + format::layout::SegmentFileName(2), "seg");
  ASSERT_TRUE(active_reader.ok());
  auto active = DescribeSegmentFile(active_reader->get(), 2);
  ASSERT_TRUE(active.ok() && active->has_value());
  EXPECT_EQ((*active)->state, format::SegmentState::kActive);
  EXPECT_EQ((*active)->base_index, record_.last_index + 1);
}

}  // namespace
}  // namespace raftlog::engine::testing
