#include "raftlog/format/segment_header.h"

#include <gtest/gtest.h>

#include <string>

#include "raftlog/format/checksum.h"
#include "raftlog/format/coding.h"
#include "raftlog/format/record_format.h"
#include "tests/format/format_test_util.h"

namespace raftlog::format {
namespace {

using testing::FlipBit;
using testing::SetFixed16;
using testing::SetFixed32;

constexpr std::string_view kFile = "00000000000000a1.seg";

SegmentHeader Sample() {
  SegmentHeader h;
  h.segment_id = 0xa1;
  h.base_index = 100;
  h.generation = 3;
  h.segment_bytes = 64 << 20;
  h.created_unix_ns = 1700000000123456789;
  return h;
}

// Recomputes the header checksum after a field was changed on purpose.
void FixChecksum(std::string* bytes) {
  EncodeFixed64(bytes->data() + 56, Checksum64(std::string_view(*bytes).substr(0, 56), 0));
}

Status DecodeStatus(std::string_view bytes) { return DecodeSegmentHeader(bytes, kFile).status(); }

TEST(SegmentHeaderTest, RoundTrip) {
  for (SegmentHeader h : {Sample(), SegmentHeader{}}) {
    const std::string bytes = EncodeSegmentHeader(h);
    ASSERT_EQ(bytes.size(), kSegmentHeaderBytes);
    EXPECT_EQ(bytes.substr(0, 8), "RAFTLSEG");
    Result<SegmentHeader> r = DecodeSegmentHeader(bytes, kFile);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, h);
  }
  SegmentHeader max;
  max.segment_id = max.base_index = max.generation = max.segment_bytes = max.created_unix_ns =
      UINT64_MAX;
  EXPECT_EQ(*DecodeSegmentHeader(EncodeSegmentHeader(max), kFile), max);
}

TEST(SegmentHeaderTest, SeedBindsSegmentAndGeneration) {
  SegmentHeader h = Sample();
  EXPECT_EQ(h.seed(), FrameSeed(0xa1, 3));
  SegmentHeader other = h;
  other.generation = 4;
  EXPECT_NE(other.seed(), h.seed());
  other = h;
  other.segment_id = 0xa2;
  EXPECT_NE(other.seed(), h.seed());
}

TEST(SegmentHeaderTest, ReadsOnlyTheFirst64Bytes) {
  const std::string bytes = EncodeSegmentHeader(Sample()) + "RLFR and the rest of the file";
  EXPECT_EQ(*DecodeSegmentHeader(bytes, kFile), Sample());
}

TEST(SegmentHeaderTest, TruncationAtEveryLengthIsCorruption) {
  const std::string bytes = EncodeSegmentHeader(Sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    const Status s = DecodeStatus(bytes.substr(0, n));
    EXPECT_TRUE(s.IsCorruption()) << n;
    EXPECT_EQ(s.message(), std::string(kFile) + ": segment header: truncated: " +
                               std::to_string(n) + " of 64 bytes");
  }
}

TEST(SegmentHeaderTest, EverySingleBitFlipIsDetected) {
  const std::string bytes = EncodeSegmentHeader(Sample());
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    std::string bad = bytes;
    FlipBit(&bad, bit);
    const Status s = DecodeStatus(bad);
    const bool version_bit = bit / 8 == 8 || bit / 8 == 9;
    // A flip that raises the version reads as a newer format: the version is
    // checked before the checksum, whose placement a newer version may change.
    if (version_bit && DecodeFixed16(bad.data() + 8) > kFormatVersion) {
      EXPECT_TRUE(s.IsNotSupported()) << bit;
    } else {
      EXPECT_TRUE(s.IsCorruption()) << bit << ": " << s.ToString();
    }
  }
}

TEST(SegmentHeaderTest, NotASegment) {
  Status s = DecodeStatus(std::string(64, 'x'));
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(),
            std::string(kFile) + ": segment header: not a raftlog segment (bad magic)");
  s = DecodeStatus(std::string(64, '\0'));
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(), std::string(kFile) +
                             ": segment header: not a raftlog segment (the header is all zeros: "
                             "the file was never written)");
}

TEST(SegmentHeaderTest, ChecksumMismatch) {
  std::string bytes = EncodeSegmentHeader(Sample());
  bytes[30] ^= 1;  // the generation
  const Status s = DecodeStatus(bytes);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(), std::string(kFile) + ": segment header: checksum mismatch");
}

TEST(SegmentHeaderTest, NewerVersionIsNotSupported) {
  std::string bytes = EncodeSegmentHeader(Sample());
  SetFixed16(&bytes, 8, kFormatVersion + 1);
  Status s = DecodeStatus(bytes);  // even with a checksum that no longer holds
  EXPECT_TRUE(s.IsNotSupported());
  EXPECT_EQ(s.message(),
            std::string(kFile) + ": segment format version " + std::to_string(kFormatVersion + 1) +
                " is newer than the newest supported (" + std::to_string(kFormatVersion) + ")");
  FixChecksum(&bytes);
  EXPECT_TRUE(DecodeStatus(bytes).IsNotSupported());
}

TEST(SegmentHeaderTest, VersionZeroHeaderSizeAndFlagsAreCorruption) {
  struct Case {
    size_t offset;
    int width;
    uint32_t value;
    const char* message;
  };
  const Case cases[] = {
      {8, 2, 0, "invalid format version 0"},           {10, 2, 128, "header size 128, expected 64"},
      {10, 2, 0, "header size 0, expected 64"},        {12, 4, 2, "unknown flags 2"},
      {12, 4, 0x80000000, "unknown flags 2147483648"},
  };
  for (const Case& c : cases) {
    std::string bytes = EncodeSegmentHeader(Sample());
    if (c.width == 2) {
      SetFixed16(&bytes, c.offset, static_cast<uint16_t>(c.value));
    } else {
      SetFixed32(&bytes, c.offset, c.value);
    }
    FixChecksum(&bytes);
    const Status s = DecodeStatus(bytes);
    EXPECT_TRUE(s.IsCorruption()) << c.message;
    EXPECT_EQ(s.message(), std::string(kFile) + ": segment header: " + c.message);
  }
}

TEST(SegmentHeaderTest, StaleTailFlagRoundTrips) {
  SegmentHeader h = Sample();
  EXPECT_FALSE(h.stale_tail());
  h.flags = kSegmentFlagStaleTail;
  auto decoded = DecodeSegmentHeader(EncodeSegmentHeader(h), kFile);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(decoded->stale_tail());
  EXPECT_EQ(*decoded, h);
}

}  // namespace
}  // namespace raftlog::format
