// ScanSegment's classification of how an active segment's frames end, on
// segments the engine wrote and then damaged; and RecoveryVerdict, the
// policy recovery applies to it. Each scan is made twice, through the
// mapping-style reader recovery uses and through the pread reader the tool
// uses, which must agree.

#include "raftlog/engine/segment_scan.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "raftlog/engine/segment_reader.h"
#include "raftlog/format/layout.h"
#include "raftlog/format/record_format.h"
#include "raftlog/format/segment_header.h"
#include "tests/engine/log_engine_fixture.h"

namespace raftlog::engine::testing {
namespace {

class SegmentScanTest : public LogEngineFixture {
 protected:
  SegmentScanTest() : LogEngineFixture("segment_scan") { options_.prepared_segments = 0; }

  // Writes `batches` synced appends of 4 entries each (term 1), closes.
  void WriteLog(int batches) {
    auto e = Open();
    ASSERT_NE(e, nullptr);
    for (int b = 0; b < batches; ++b) Append(e.get(), 1 + 4 * b, 4, 1, 100);
    ASSERT_TRUE(e->Close().ok());
    path_ = SegmentsDir() + "/" + format::layout::SegmentFileName(1);
    const std::string bytes = ReadAll(path_);
    auto header = format::DecodeSegmentHeader(std::string_view(bytes).substr(0, 64), "seg");
    ASSERT_TRUE(header.ok()) << header.status().ToString();
    record_.segment_id = header->segment_id;
    record_.base_index = header->base_index;
    record_.generation = header->generation;
    record_.state = format::SegmentState::kActive;
  }

  // Scans the file through both readers; they must agree.
  SegmentScan Scan(const format::SegmentRecord& record) {
    const std::string bytes = ReadAll(path_);
    const std::string name = format::layout::SegmentFileName(record.segment_id);
    auto mapped = SegmentReader::FromBytes(bytes, name);
    auto a = ScanSegment(mapped.get(), record);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    auto file = SegmentReader::Open(io::FileSystem::Default(), path_, name);
    EXPECT_TRUE(file.ok());
    auto b = ScanSegment(file->get(), record);
    EXPECT_TRUE(b.ok());
    EXPECT_EQ(a->finding, b->finding);
    EXPECT_EQ(a->good_end, b->good_end);
    EXPECT_EQ(a->last_index, b->last_index);
    EXPECT_EQ(a->damage_offset, b->damage_offset);
    EXPECT_EQ(a->valid_after, b->valid_after);
    EXPECT_EQ(a->damage.ToString(), b->damage.ToString());
    EXPECT_EQ(a->refusal.ToString(), b->refusal.ToString());
    return *a;
  }
  SegmentScan Scan() { return Scan(record_); }

  // The offsets of the frames, from a clean scan.
  std::vector<uint64_t> FrameOffsets() {
    std::vector<uint64_t> offsets;
    const std::string bytes = ReadAll(path_);
    auto reader = SegmentReader::FromBytes(bytes, "seg");
    ScanOptions options;
    options.on_frame = [&](const format::FrameView&, uint64_t offset) {
      offsets.push_back(offset);
      return Status::OK();
    };
    EXPECT_TRUE(ScanSegment(reader.get(), record_, options).ok());
    return offsets;
  }

  // Makes the file a recycled one: the header says its tail may hold stale
  // bytes, and an all-zero frame header ends the frames whatever follows,
  // unless a later frame of the segment proves that the zeros were durable
  // frames.
  void MarkStaleTail() {
    const std::string bytes = ReadAll(path_);
    auto header = format::DecodeSegmentHeader(std::string_view(bytes).substr(0, 64), "seg");
    ASSERT_TRUE(header.ok()) << header.status().ToString();
    header->flags = format::kSegmentFlagStaleTail;
    WriteAt(path_, 0, format::EncodeSegmentHeader(*header));
  }

  std::string path_;
  format::SegmentRecord record_;
};

TEST_F(SegmentScanTest, CleanSegmentEndsAtZerosAndEveryPolicyOpensIt) {
  WriteLog(3);
  const SegmentScan scan = Scan();
  EXPECT_EQ(scan.finding, SegmentFinding::kClean);
  EXPECT_EQ(scan.good_frames, 3u);
  EXPECT_EQ(scan.last_index, 12u);
  EXPECT_EQ(scan.last_term, 1u);
  EXPECT_FALSE(scan.refused());
  EXPECT_FALSE(scan.damaged());
  for (auto policy : {RecoveryPolicy::kTolerateTornTail, RecoveryPolicy::kAbsoluteConsistency,
                      RecoveryPolicy::kTolerateCorruptedTail}) {
    EXPECT_TRUE(RecoveryVerdict(scan, "seg", policy).ok());
  }
}

TEST_F(SegmentScanTest, DamagedLastFrameIsATornWriteOnlyAbsoluteConsistencyRefuses) {
  WriteLog(3);
  const std::vector<uint64_t> frames = FrameOffsets();
  ASSERT_EQ(frames.size(), 3u);
  WriteAt(path_, frames[2] + format::kFrameHeaderBytes + 10, "XX");
  const SegmentScan scan = Scan();
  EXPECT_EQ(scan.finding, SegmentFinding::kTornWrite);
  EXPECT_EQ(scan.damage_offset, frames[2]);
  EXPECT_EQ(scan.good_end, frames[2]);
  EXPECT_EQ(scan.last_index, 8u);
  EXPECT_FALSE(scan.valid_after.has_value());
  EXPECT_GT(scan.damage_end, scan.damage_offset);
  EXPECT_TRUE(RecoveryVerdict(scan, "seg", RecoveryPolicy::kTolerateTornTail).ok());
  EXPECT_TRUE(RecoveryVerdict(scan, "seg", RecoveryPolicy::kTolerateCorruptedTail).ok());
  const Status strict = RecoveryVerdict(scan, "seg", RecoveryPolicy::kAbsoluteConsistency);
  EXPECT_TRUE(strict.IsCorruption());
  EXPECT_NE(strict.ToString().find("torn write"), std::string::npos) << strict.ToString();
}

TEST_F(SegmentScanTest, DamageBeforeAFrameThatProvesItDurableIsLostAcknowledgedData) {
  WriteLog(3);
  const std::vector<uint64_t> frames = FrameOffsets();
  ASSERT_EQ(frames.size(), 3u);
  // The third frame was written after the first was synced: it proves it.
  WriteAt(path_, frames[0] + format::kFrameHeaderBytes + 10, "XX");
  const SegmentScan scan = Scan();
  EXPECT_EQ(scan.finding, SegmentFinding::kLostAcknowledged);
  EXPECT_EQ(scan.damage_offset, frames[0]);
  EXPECT_EQ(scan.good_frames, 0u);
  ASSERT_TRUE(scan.valid_after.has_value());
  EXPECT_GT(*scan.valid_after, frames[0]);
  EXPECT_GE(scan.valid_frames_after, 1u);
  const Status s = RecoveryVerdict(scan, "seg", RecoveryPolicy::kTolerateTornTail);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.ToString().find("not a torn write"), std::string::npos) << s.ToString();
  EXPECT_TRUE(RecoveryVerdict(scan, "seg", RecoveryPolicy::kTolerateCorruptedTail).ok());
}

TEST_F(SegmentScanTest, BytesAfterTheZerosAreDamageNotACleanEnd) {
  WriteLog(2);
  const SegmentScan clean = Scan();
  WriteAt(path_, clean.good_end + 4096, "garbage");
  const SegmentScan scan = Scan();
  EXPECT_EQ(scan.finding, SegmentFinding::kTornWrite);
  EXPECT_EQ(scan.damage_offset, clean.good_end);
  EXPECT_EQ(scan.damage_end, clean.good_end + 4096 + 7);
  EXPECT_NE(scan.damage.ToString().find("followed by non-zero bytes"), std::string::npos);
}

TEST_F(SegmentScanTest, InARecycledFileStaleBytesAfterTheEndMarkerAreACleanEnd) {
  WriteLog(2);
  const SegmentScan clean = Scan();
  // Stale bytes of an earlier segment: garbage, and a frame of another seed.
  std::string stale(8192, '\x5a');
  const std::string other = ReadAll(path_).substr(format::kSegmentHeaderBytes,
                                                  clean.good_end - format::kSegmentHeaderBytes);
  WriteAt(path_, clean.good_end + format::kFrameHeaderBytes, stale + other);
  EXPECT_EQ(Scan().finding, SegmentFinding::kTornWrite);  // without the flag: damage
  MarkStaleTail();
  const SegmentScan scan = Scan();
  EXPECT_EQ(scan.finding, SegmentFinding::kClean);
  EXPECT_EQ(scan.good_end, clean.good_end);
  EXPECT_EQ(scan.last_index, clean.last_index);
}

TEST_F(SegmentScanTest, InARecycledFileAZeroedFrameBeforeAFrameThatProvesItIsLostData) {
  WriteLog(3);
  const std::vector<uint64_t> frames = FrameOffsets();
  ASSERT_EQ(frames.size(), 3u);
  MarkStaleTail();
  WriteAt(path_, frames[1], std::string(format::kFrameHeaderBytes, '\0'));
  const SegmentScan scan = Scan();
  EXPECT_EQ(scan.finding, SegmentFinding::kLostAcknowledged);
  EXPECT_EQ(scan.damage_offset, frames[1]);
  ASSERT_TRUE(scan.valid_after.has_value());
  EXPECT_EQ(*scan.valid_after, frames[2]);
  EXPECT_TRUE(RecoveryVerdict(scan, "seg", RecoveryPolicy::kTolerateTornTail).IsCorruption());
}

TEST_F(SegmentScanTest, InARecycledFileATornLastFrameIsCutAtItsHeader) {
  WriteLog(3);
  const std::vector<uint64_t> frames = FrameOffsets();
  ASSERT_EQ(frames.size(), 3u);
  MarkStaleTail();
  WriteAt(path_, frames[2] + format::kFrameHeaderBytes + 10, "XX");
  const SegmentScan scan = Scan();
  EXPECT_EQ(scan.finding, SegmentFinding::kTornWrite);
  EXPECT_EQ(scan.damage_offset, frames[2]);
  // What follows may be stale bytes of unknown extent: a cut zeroes the
  // frame header at the damage, which then ends the frames.
  EXPECT_EQ(scan.damage_end, frames[2] + format::kFrameHeaderBytes);
  WriteAt(path_, frames[2], std::string(format::kFrameHeaderBytes, '\0'));
  const SegmentScan cut = Scan();
  EXPECT_EQ(cut.finding, SegmentFinding::kClean);
  EXPECT_EQ(cut.last_index, 8u);
}

TEST_F(SegmentScanTest, ARecordOfAnotherGenerationIsAHeaderMismatchEveryPolicyRefuses) {
  WriteLog(1);
  format::SegmentRecord other = record_;
  other.generation++;
  const SegmentScan scan = Scan(other);
  EXPECT_EQ(scan.finding, SegmentFinding::kHeaderMismatch);
  EXPECT_TRUE(scan.refused());
  EXPECT_TRUE(RecoveryVerdict(scan, "seg", RecoveryPolicy::kTolerateCorruptedTail).IsCorruption());
}

TEST_F(SegmentScanTest, AShortenedFileWithoutAFooterWasCut) {
  WriteLog(2);
  const SegmentScan clean = Scan();
  ASSERT_TRUE(io::FileSystem::Default()
                  ->Open(path_, io::OpenMode::kReadWrite)
                  .value()
                  ->Truncate(clean.good_end + 64)
                  .ok());
  const SegmentScan scan = Scan();
  EXPECT_EQ(scan.finding, SegmentFinding::kCutFile);
  EXPECT_NE(scan.refusal.ToString().find("the file was cut"), std::string::npos);
  ASSERT_TRUE(
      io::FileSystem::Default()->Open(path_, io::OpenMode::kReadWrite).value()->Truncate(10).ok());
  EXPECT_EQ(Scan().finding, SegmentFinding::kShortFile);
}

TEST_F(SegmentScanTest, AZeroHeaderWithNothingAfterItIsUnwritten) {
  WriteLog(1);
  WriteAt(path_, 0, std::string(format::kSegmentHeaderBytes, '\0'));
  // The frame after the header still decodes (its seed is the record's):
  // the header was lost, and that frame does not prove the loss durable,
  // so the whole segment is a torn write.
  SegmentScan scan = Scan();
  EXPECT_EQ(scan.finding, SegmentFinding::kTornWrite);
  EXPECT_EQ(scan.damage_offset, 0u);
  // With the frames zeroed too, nothing was ever written.
  WriteAt(path_, 0, std::string(4096, '\0'));
  scan = Scan();
  EXPECT_EQ(scan.finding, SegmentFinding::kUnwritten);
  EXPECT_TRUE(scan.header_zero);
  EXPECT_FALSE(scan.refused());
}

TEST_F(SegmentScanTest, StopsAfterTheFrameHoldingMaxIndex) {
  WriteLog(3);
  const std::string bytes = ReadAll(path_);
  auto reader = SegmentReader::FromBytes(bytes, "seg");
  ScanOptions options;
  options.max_index = 6;
  auto scan = ScanSegment(reader.get(), record_, options);
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(scan->finding, SegmentFinding::kStopped);
  EXPECT_EQ(scan->last_index, 8u);
  EXPECT_EQ(scan->good_frames, 2u);
  // What follows the stop is not judged: not even a file shorter than its
  // header says (beside a live writer, a seal's footer may be past it).
  auto shorter = SegmentReader::FromBytes(std::string_view(bytes).substr(0, 4096), "seg");
  scan = ScanSegment(shorter.get(), record_, options);
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(scan->finding, SegmentFinding::kStopped);
}

}  // namespace
}  // namespace raftlog::engine::testing
