#include "raftlog/format/record_format.h"

#include <gtest/gtest.h>

#include <string>

#include "raftlog/format/checksum.h"
#include "raftlog/format/coding.h"

namespace raftlog::format {
namespace {

TEST(FrameSeedTest, IsXxh3OfIdAndGeneration) {
  std::string buf;
  PutFixed64(&buf, 0xa1);
  PutFixed64(&buf, 3);
  EXPECT_EQ(FrameSeed(0xa1, 3), Checksum64(buf, 0));
  EXPECT_NE(FrameSeed(1, 2), FrameSeed(2, 1));
  EXPECT_NE(FrameSeed(0, 0), 0u);
}

TEST(FrameBytesTest, RoundsUpToTheAlignment) {
  EXPECT_EQ(FrameBytes(0), 56u);
  EXPECT_EQ(FrameBytes(1), 64u);
  EXPECT_EQ(FrameBytes(8), 64u);
  EXPECT_EQ(FrameBytes(9), 72u);
  EXPECT_EQ(FrameBytes(kMaxFramePayloadBytes), 56u + kMaxFramePayloadBytes);
}

TEST(RecordFormatTest, ConstantsMatchTheLayout) {
  EXPECT_EQ(kSegmentMagic.size(), 8u);
  EXPECT_EQ(kFrameMagic.size(), 4u);
  EXPECT_EQ(kTrailerMagic.size(), 8u);
  EXPECT_EQ(kSegmentHeaderBytes % kFrameAlignment, 0u);  // the first frame is aligned
  EXPECT_EQ(kMaxFramePayloadBytes, 1u << 30);
  EXPECT_EQ(static_cast<int>(FrameType::kEntries), 1);
  EXPECT_EQ(static_cast<int>(FrameType::kFooter), 2);
  EXPECT_EQ(kKnownFrameFlags, kFrameFlagZstd);
}

}  // namespace
}  // namespace raftlog::format
