#include "raftlog/format/record.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "raftlog/format/coding.h"
#include "raftlog/format/record_format.h"
#include "tests/format/allocation_counter.h"
#include "tests/format/format_test_util.h"

namespace raftlog::format {
namespace {

using testing::AllocationCounter;
using testing::BuildFrame;
using testing::Classify;
using testing::CompressibleData;
using testing::DecodeEntries;
using testing::FixFrameChecksum;
using testing::FlipBit;
using testing::Join;
using testing::MakeEntries;
using testing::OwnedEntry;
using testing::RandomData;
using testing::SetByte;
using testing::SetFixed16;
using testing::SetFixed32;
using testing::SetFixed64;
using testing::Views;

const uint64_t kSeed = FrameSeed(0xa1, 3);

CompressionOptions Compress(size_t min_payload_bytes = 64, double min_saving = 0.10) {
  CompressionOptions o;
  o.enabled = true;
  o.min_payload_bytes = min_payload_bytes;
  o.min_saving = min_saving;
  return o;
}

// --- Round trips -------------------------------------------------------------

struct RoundTripCase {
  size_t count;
  size_t data_bytes;
  bool compressible;
  bool compress;
};

class FrameRoundTripTest : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(FrameRoundTripTest, DecodesWhatWasBuilt) {
  const RoundTripCase c = GetParam();
  std::vector<OwnedEntry> entries = MakeEntries(100, 7, c.count, c.data_bytes);
  if (c.compressible) {
    for (OwnedEntry& e : entries) e.data = CompressibleData(c.data_bytes);
  }
  FrameBuilder builder(c.compress ? Compress() : CompressionOptions{});
  const std::string frame = BuildFrame(&builder, kSeed, 42, entries);

  const FrameHeader& h = builder.header();
  EXPECT_EQ(frame.size(), builder.frame_bytes());
  EXPECT_EQ(frame.size() % kFrameAlignment, 0u);
  EXPECT_EQ(frame.size(), FrameBytes(h.stored_bytes));
  EXPECT_EQ(h.type, FrameType::kEntries);
  EXPECT_EQ(h.first_index, 100u);
  EXPECT_EQ(h.end_index(), 100u + c.count);
  EXPECT_EQ(h.term, 7u);
  EXPECT_EQ(h.commit, 42u);
  EXPECT_EQ(h.entry_count, c.count);
  EXPECT_EQ(h.raw_bytes, 5 * c.count + c.count * c.data_bytes);
  const bool expect_compressed = c.compress && c.compressible && h.raw_bytes >= 64;
  EXPECT_EQ(h.compressed(), expect_compressed);
  if (!h.compressed()) {
    EXPECT_EQ(h.stored_bytes, h.raw_bytes);
  } else {
    EXPECT_LT(h.stored_bytes, h.raw_bytes * 0.9);
  }

  FrameError error = FrameError::kBadMagic;
  Result<FrameView> view = DecodeFrame(frame, kSeed, "t", &error);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(error, FrameError::kNone);
  EXPECT_EQ(view->frame_bytes, frame.size());
  EXPECT_EQ(view->header.checksum, h.checksum);
  EXPECT_EQ(view->payload.data(), frame.data() + kFrameHeaderBytes);
  EXPECT_EQ(DecodeEntries(frame, kSeed), entries);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, FrameRoundTripTest,
    ::testing::Values(RoundTripCase{1, 0, false, false}, RoundTripCase{1, 1, false, false},
                      RoundTripCase{1, 100, false, false}, RoundTripCase{2, 3, false, false},
                      RoundTripCase{7, 0, false, false}, RoundTripCase{16, 1024, false, false},
                      RoundTripCase{1000, 10, false, false},
                      RoundTripCase{1, 1 << 20, false, false}, RoundTripCase{1, 0, true, true},
                      RoundTripCase{1, 100, true, true}, RoundTripCase{16, 1024, true, true},
                      RoundTripCase{16, 1024, false, true}, RoundTripCase{256, 128, true, true},
                      RoundTripCase{1, 1 << 20, true, true},
                      RoundTripCase{1, 1 << 20, false, true}));

TEST(FrameBuilderTest, AllTypeValuesSurvive) {
  std::vector<OwnedEntry> entries = MakeEntries(1, 1, 256, 3);
  for (size_t k = 0; k < entries.size(); ++k) entries[k].type = static_cast<uint8_t>(k);
  EXPECT_EQ(DecodeEntries(BuildFrame(kSeed, 0, entries), kSeed), entries);
  EXPECT_EQ(DecodeEntries(BuildFrame(kSeed, 0, entries, Compress()), kSeed), entries);
}

TEST(FrameBuilderTest, EmptyAndNonEmptyDataMix) {
  std::vector<OwnedEntry> entries = MakeEntries(5, 2, 6, 0);
  entries[1].data = "a";
  entries[4].data = RandomData(777);
  EXPECT_EQ(DecodeEntries(BuildFrame(kSeed, 0, entries), kSeed), entries);
}

TEST(FrameBuilderTest, UncompressedPiecesPointIntoTheCallersData) {
  std::vector<OwnedEntry> entries = MakeEntries(10, 3, 4, 100);
  entries[2].data.clear();  // empty entries contribute no piece
  const std::vector<EntryView> views = Views(entries);
  FrameBuilder builder;
  builder.BuildEntries(kSeed, 0, views);
  const auto pieces = builder.pieces();
  // header, table, 3 data pieces; 5*4 + 300 = 320 payload bytes need no padding
  ASSERT_EQ(pieces.size(), 5u);
  EXPECT_EQ(pieces[0].size(), kFrameHeaderBytes);
  EXPECT_EQ(pieces[1].size(), 5u * 4);
  EXPECT_EQ(pieces[2].data(), entries[0].data.data());
  EXPECT_EQ(pieces[3].data(), entries[1].data.data());
  EXPECT_EQ(pieces[4].data(), entries[3].data.data());
}

TEST(FrameBuilderTest, PaddingIsTheLastPieceAndZero) {
  const std::vector<OwnedEntry> entries = MakeEntries(1, 1, 1, 2);  // 7 payload bytes
  FrameBuilder builder;
  builder.BuildEntries(kSeed, 0, Views(entries));
  ASSERT_EQ(builder.pieces().size(), 4u);
  EXPECT_EQ(builder.pieces().back(), std::string_view("\0", 1));
  EXPECT_EQ(builder.frame_bytes(), 64u);
}

TEST(FrameBuilderTest, ChecksumCoversHeaderPrefixThenPayload) {
  const std::vector<OwnedEntry> entries = MakeEntries(1, 1, 3, 10);
  const std::string frame = BuildFrame(kSeed, 9, entries);
  const uint32_t stored = DecodeFixed32(frame.data() + 8);
  const std::string covered = frame.substr(0, 48) + frame.substr(kFrameHeaderBytes, stored);
  EXPECT_EQ(DecodeFixed64(frame.data() + 48), Checksum64(covered, kSeed));
}

TEST(FrameBuilderTest, BelowMinPayloadBytesIsStoredRaw) {
  std::vector<OwnedEntry> entries = MakeEntries(1, 1, 1, 0);
  entries[0].data = CompressibleData(995);  // raw payload: 5 + 995 = 1000 bytes
  FrameBuilder builder(Compress(/*min_payload_bytes=*/1001));
  BuildFrame(&builder, kSeed, 0, entries);
  EXPECT_FALSE(builder.header().compressed());
  builder.set_options(Compress(/*min_payload_bytes=*/1000));
  BuildFrame(&builder, kSeed, 0, entries);
  EXPECT_TRUE(builder.header().compressed());
}

TEST(FrameBuilderTest, InsufficientSavingIsStoredRawAsOnePiece) {
  std::vector<OwnedEntry> entries = MakeEntries(1, 1, 4, 0);
  for (size_t k = 0; k < entries.size(); ++k)
    entries[k].data = RandomData(2003, 100 + k);  // 20 + 8012 bytes: no padding
  FrameBuilder builder(Compress());
  const std::string frame = BuildFrame(&builder, kSeed, 0, entries);
  EXPECT_FALSE(builder.header().compressed());
  EXPECT_EQ(builder.pieces().size(), 2u);  // header + the copied raw payload; no padding
  EXPECT_EQ(DecodeEntries(frame, kSeed), entries);
}

TEST(FrameBuilderTest, MinSavingDecidesOnTheRatio) {
  // Half compressible, half random: saves a bit under 50%.
  std::vector<OwnedEntry> entries = MakeEntries(1, 1, 1, 0);
  entries[0].data = CompressibleData(8000) + RandomData(8000);
  FrameBuilder builder(Compress(64, /*min_saving=*/0.30));
  BuildFrame(&builder, kSeed, 0, entries);
  EXPECT_TRUE(builder.header().compressed());
  builder.set_options(Compress(64, /*min_saving=*/0.60));
  BuildFrame(&builder, kSeed, 0, entries);
  EXPECT_FALSE(builder.header().compressed());
}

TEST(FrameBuilderTest, DisabledCompressionNeverCompresses) {
  std::vector<OwnedEntry> entries = MakeEntries(1, 1, 1, 0);
  entries[0].data = CompressibleData(1 << 16);
  CompressionOptions o = Compress();
  o.enabled = false;
  FrameBuilder builder(o);
  BuildFrame(&builder, kSeed, 0, entries);
  EXPECT_FALSE(builder.header().compressed());
}

TEST(FrameBuilderTest, FooterFrame) {
  FrameBuilder builder;
  const std::string payload = RandomData(21);
  builder.BuildFooter(kSeed, payload);
  const std::string frame = Join(builder.pieces());
  EXPECT_EQ(frame.size(), 80u);
  Result<FrameView> v = DecodeFrame(frame, kSeed, "t");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->header.type, FrameType::kFooter);
  EXPECT_EQ(v->header.entry_count, 0u);
  EXPECT_EQ(v->payload, payload);
}

TEST(FrameBuilderTest, SteadyStateAllocatesNothing) {
  std::vector<OwnedEntry> big = MakeEntries(1, 1, 64, 200);
  std::vector<OwnedEntry> small = MakeEntries(65, 1, 16, 50);
  const std::vector<EntryView> big_views = Views(big);
  const std::vector<EntryView> small_views = Views(small);
  FrameBuilder builder;
  builder.BuildEntries(kSeed, 0, big_views);  // grows the buffers
  AllocationCounter counter;
  for (int k = 0; k < 10; ++k) {
    builder.BuildEntries(kSeed, 1, small_views);
    builder.BuildEntries(kSeed, 2, big_views);
  }
  EXPECT_EQ(counter.allocations(), 0u);
}

TEST(FrameBuilderTest, CompressedSteadyStateAllocatesNothing) {
  std::vector<OwnedEntry> entries = MakeEntries(1, 1, 16, 0);
  for (OwnedEntry& e : entries) e.data = CompressibleData(1024);
  const std::vector<EntryView> views = Views(entries);
  FrameBuilder builder(Compress());
  builder.BuildEntries(kSeed, 0, views);
  ASSERT_TRUE(builder.header().compressed());
  AllocationCounter counter;
  for (int k = 0; k < 10; ++k) builder.BuildEntries(kSeed, 0, views);
  EXPECT_EQ(counter.allocations(), 0u);
}

TEST(FrameBuilderDeathTest, ViolatedPreconditionsAbort) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  FrameBuilder builder;
  std::vector<OwnedEntry> gap = MakeEntries(1, 1, 3, 1);
  gap[2].index = 9;
  std::vector<OwnedEntry> terms = MakeEntries(1, 1, 3, 1);
  terms[1].term = 2;
  EXPECT_DEATH(builder.BuildEntries(kSeed, 0, {}), "no entries");
  EXPECT_DEATH(builder.BuildEntries(kSeed, 0, Views(gap)), "not consecutive");
  EXPECT_DEATH(builder.BuildEntries(kSeed, 0, Views(terms)), "different terms");
}

// --- Decoding: classification of bad input ------------------------------------

class FrameCorruptionTest : public ::testing::Test {
 protected:
  // 3 entries of 10 bytes: 45 payload bytes, 3 bytes of padding.
  std::string Frame() { return BuildFrame(kSeed, 5, MakeEntries(20, 4, 3, 10)); }
  std::string CompressedFrame() {
    std::vector<OwnedEntry> entries = MakeEntries(20, 4, 8, 0);
    for (OwnedEntry& e : entries) e.data = CompressibleData(300);
    std::string f = BuildFrame(kSeed, 5, entries, Compress());
    EXPECT_NE(f[5], 0) << "expected a compressed frame";
    return f;
  }
  std::string FooterFrame() {
    FrameBuilder b;
    b.BuildFooter(kSeed, "0123456789abc");
    return Join(b.pieces());
  }
  static FrameError ClassifyFixed(std::string frame) {
    FixFrameChecksum(&frame, kSeed);
    return Classify(frame, kSeed);
  }
};

TEST_F(FrameCorruptionTest, TruncationAtEveryOffsetIsTruncated) {
  for (const std::string& frame : {Frame(), CompressedFrame(), FooterFrame()}) {
    ASSERT_EQ(Classify(frame, kSeed), FrameError::kNone);
    for (size_t n = 0; n < frame.size(); ++n) {
      Status s;
      const FrameError e = Classify(std::string_view(frame).substr(0, n), kSeed, &s);
      // Only the empty range is the end of data: a prefix of a frame starts
      // with the (non-zero) magic.
      EXPECT_EQ(e, n == 0 ? FrameError::kEndOfData : FrameError::kTruncated) << "length " << n;
      EXPECT_TRUE(s.IsCorruption());
      EXPECT_NE(s.message().find("f.seg at offset 64"), std::string::npos) << s.message();
    }
  }
}

// DecodeVerifiedFrame skips only the checksum: a frame the reader verified
// before decodes without hashing, and every bounds and field check remains.
TEST_F(FrameCorruptionTest, VerifiedDecodeSkipsOnlyTheChecksum) {
  const std::string frame = Frame();
  auto full = DecodeFrame(frame, kSeed, "f");
  ASSERT_TRUE(full.ok());
  auto quick = DecodeVerifiedFrame(frame, "f");
  ASSERT_TRUE(quick.ok());
  EXPECT_EQ(quick->payload, full->payload);
  EXPECT_EQ(quick->frame_bytes, full->frame_bytes);
  EXPECT_EQ(quick->header.first_index, full->header.first_index);
  // A changed payload byte is not noticed (that is the point)...
  std::string flipped = frame;
  flipped[kFrameHeaderBytes] ^= 1;
  EXPECT_TRUE(DecodeVerifiedFrame(flipped, "f").ok());
  EXPECT_FALSE(DecodeFrame(flipped, kSeed, "f").ok());
  // ...but truncation and impossible fields still are.
  for (size_t n = 1; n < frame.size(); ++n) {
    EXPECT_FALSE(DecodeVerifiedFrame(std::string_view(frame).substr(0, n), "f").ok()) << n;
  }
  std::string bad_flags = frame;
  bad_flags[5] = static_cast<char>(0x80);
  const auto s = DecodeVerifiedFrame(bad_flags, "f").status();
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("flag"), std::string::npos) << s.message();
}

TEST_F(FrameCorruptionTest, TruncationMessagesSayWhatIsMissing) {
  const std::string frame = Frame();
  Status s;
  Classify(std::string_view(frame).substr(0, 20), kSeed, &s);
  EXPECT_EQ(s.message(), "f.seg at offset 64: truncated frame header: 20 of 56 bytes");
  Classify(std::string_view(frame).substr(0, 100), kSeed, &s);
  EXPECT_EQ(s.message(),
            "f.seg at offset 64: truncated frame: header, 45-byte payload and padding need 104 "
            "bytes, only 100 remain");
}

TEST_F(FrameCorruptionTest, EverySingleBitFlipIsDetected) {
  for (const std::string& frame : {Frame(), CompressedFrame(), FooterFrame()}) {
    for (size_t bit = 0; bit < frame.size() * 8; ++bit) {
      std::string bad = frame;
      FlipBit(&bad, bit);
      const size_t byte = bit / 8;
      const FrameError e = Classify(bad, kSeed);
      if (byte < kFrameMagic.size()) {
        EXPECT_EQ(e, FrameError::kBadMagic) << "bit " << bit;
      } else if (byte >= testing::kFrameStoredAt && byte < testing::kFrameStoredAt + 4) {
        // The stored size is used before the checksum can be: a flip makes
        // the frame too long for the range, over the limit, or checksum a
        // different byte range.
        EXPECT_TRUE(e == FrameError::kTruncated || e == FrameError::kBadHeader ||
                    e == FrameError::kBadChecksum)
            << "bit " << bit << ": " << FrameErrorName(e);
      } else {
        // Every other header field, the payload and the padding.
        EXPECT_EQ(e, FrameError::kBadChecksum) << "bit " << bit;
      }
    }
  }
}

TEST_F(FrameCorruptionTest, AllZeroHeaderIsEndOfData) {
  for (size_t n : {size_t{1}, size_t{7}, kFrameHeaderBytes - 1, kFrameHeaderBytes, size_t{4096}}) {
    Status s;
    EXPECT_EQ(Classify(std::string(n, '\0'), kSeed, &s), FrameError::kEndOfData) << n;
    EXPECT_TRUE(s.IsCorruption());
  }
  EXPECT_EQ(Classify("", kSeed), FrameError::kEndOfData);
}

TEST_F(FrameCorruptionTest, ZerosInTheMagicOfANonZeroHeaderAreBadMagic) {
  // E.g. a torn write that lost the first sector but not the next one.
  std::string frame = Frame();
  frame.replace(0, 4, 4, '\0');
  EXPECT_EQ(Classify(frame, kSeed), FrameError::kBadMagic);
  std::string header(kFrameHeaderBytes, '\0');
  header[50] = 1;
  EXPECT_EQ(Classify(header, kSeed), FrameError::kBadMagic);
  // A short non-zero range that is not the start of a frame is not a frame.
  EXPECT_EQ(Classify(std::string_view("\0\0X", 3), kSeed), FrameError::kBadMagic);
}

TEST_F(FrameCorruptionTest, BadMagic) {
  std::string frame = Frame();
  frame[3] = 'X';
  Status s;
  EXPECT_EQ(Classify(frame, kSeed, &s), FrameError::kBadMagic);
  EXPECT_EQ(s.message(),
            "f.seg at offset 64: bad frame magic: bytes 524c4658, expected 524c4652 (\"RLFR\")");
  EXPECT_EQ(Classify(RandomData(100), kSeed), FrameError::kBadMagic);
  // The segment header is not a frame either.
  EXPECT_EQ(Classify("RAFTLSEG" + std::string(56, '\1'), kSeed), FrameError::kBadMagic);
}

TEST_F(FrameCorruptionTest, WrongSeedIsBadChecksum) {
  const std::string frame = Frame();
  for (uint64_t seed : {FrameSeed(0xa1, 4), FrameSeed(0xa2, 3), FrameSeed(3, 0xa1), uint64_t{0}}) {
    Status s;
    EXPECT_EQ(Classify(frame, seed, &s), FrameError::kBadChecksum);
    EXPECT_NE(s.message().find("frame checksum mismatch"), std::string::npos) << s.message();
  }
}

TEST_F(FrameCorruptionTest, UnknownTypeIsBadHeaderOnceTheChecksumHolds) {
  std::string frame = Frame();
  SetByte(&frame, testing::kFrameTypeAt, 9);
  EXPECT_EQ(Classify(frame, kSeed), FrameError::kBadChecksum);
  FixFrameChecksum(&frame, kSeed);
  Status s;
  EXPECT_EQ(Classify(frame, kSeed, &s), FrameError::kBadHeader);
  EXPECT_EQ(s.message(), "f.seg at offset 64: unknown frame type 9");
  SetByte(&frame, testing::kFrameTypeAt, 0);
  EXPECT_EQ(ClassifyFixed(frame), FrameError::kBadHeader);
}

TEST_F(FrameCorruptionTest, UnknownFlagBitsAreBadHeader) {
  for (int bit = 1; bit < 8; ++bit) {
    std::string frame = Frame();
    SetByte(&frame, testing::kFrameFlagsAt, static_cast<uint8_t>(1 << bit));
    EXPECT_EQ(ClassifyFixed(frame), FrameError::kBadHeader) << bit;
  }
}

TEST_F(FrameCorruptionTest, NonZeroReservedBitsAreBadHeader) {
  for (size_t at = 0; at < 2; ++at) {
    std::string frame = Frame();
    const size_t offset = testing::kFrameReserved1At + at;
    SetByte(&frame, offset, 0x80);
    Status s;
    FixFrameChecksum(&frame, kSeed);
    EXPECT_EQ(Classify(frame, kSeed, &s), FrameError::kBadHeader) << offset;
    EXPECT_NE(s.message().find("reserved"), std::string::npos) << s.message();
  }
}

// Bytes 36..39 (reserved in version 1, always written as 0 there) hold the
// durable offset / 8 since version 2: any value decodes.
TEST(FrameBuilderDurableOffsetTest, DurableOffsetRoundTrips) {
  for (uint64_t durable :
       {uint64_t{0}, uint64_t{64}, uint64_t{4096 + 8}, uint64_t{UINT32_MAX} * kFrameAlignment}) {
    FrameBuilder builder;
    builder.set_durable_offset(durable);
    const std::string data = "entry";
    const std::vector<EntryView> entries = {EntryView{5, 2, 0, data}};
    builder.BuildEntries(kSeed, 3, entries);
    std::string frame;
    for (std::string_view p : builder.pieces()) frame.append(p);
    EXPECT_EQ(DecodeFixed32(frame.data() + testing::kFrameDurableOffsetAt),
              static_cast<uint32_t>(durable / kFrameAlignment));
    auto view = DecodeFrame(frame, kSeed, "frame");
    ASSERT_TRUE(view.ok()) << view.status().ToString();
    EXPECT_EQ(view->header.durable_offset, durable);
    builder.BuildFooter(kSeed, "");
    frame.clear();
    for (std::string_view p : builder.pieces()) frame.append(p);
    auto footer = DecodeFrame(frame, kSeed, "footer");
    ASSERT_TRUE(footer.ok()) << footer.status().ToString();
    EXPECT_EQ(footer->header.durable_offset, durable);
  }
}

TEST_F(FrameCorruptionTest, ImpossibleCountsAndSizesAreBadHeader) {
  struct Case {
    const char* name;
    void (*sabotage)(std::string*);
    const char* message;
  };
  const Case cases[] = {
      {"no entries", [](std::string* f) { SetFixed32(f, testing::kFrameCountAt, 0); },
       "entries frame with no entries"},
      {"table larger than payload",
       [](std::string* f) { SetFixed32(f, testing::kFrameCountAt, 10); },
       "entries frame of 10 entries has a raw size of only 45 bytes"},
      {"huge count", [](std::string* f) { SetFixed32(f, testing::kFrameCountAt, 0xffffffff); },
       "entries frame of 4294967295 entries"},
      {"index overflow",
       [](std::string* f) { SetFixed64(f, testing::kFrameFirstIndexAt, UINT64_MAX - 1); },
       "index range overflows"},
      {"raw != stored", [](std::string* f) { SetFixed32(f, testing::kFrameRawAt, 46); },
       "uncompressed frame with raw size 46 != stored size 45"},
      {"raw too large",
       [](std::string* f) {
         SetByte(f, testing::kFrameFlagsAt, kFrameFlagZstd);
         SetFixed32(f, testing::kFrameRawAt, kMaxFramePayloadBytes + 1);
       },
       "frame raw size 1073741825 exceeds the limit of 1073741824"},
      {"footer with entries", [](std::string* f) { SetByte(f, testing::kFrameTypeAt, 2); },
       "footer frame with non-zero entry count"},
  };
  for (const Case& c : cases) {
    std::string frame = Frame();
    c.sabotage(&frame);
    FixFrameChecksum(&frame, kSeed);
    Status s;
    EXPECT_EQ(Classify(frame, kSeed, &s), FrameError::kBadHeader) << c.name;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << c.name << ": " << s.message();
  }
}

TEST_F(FrameCorruptionTest, FooterRules) {
  std::string compressed = FooterFrame();
  SetByte(&compressed, testing::kFrameFlagsAt, kFrameFlagZstd);
  EXPECT_EQ(ClassifyFixed(compressed), FrameError::kBadHeader);
  for (size_t field :
       {testing::kFrameFirstIndexAt, testing::kFrameTermAt, testing::kFrameCommitAt}) {
    std::string f = FooterFrame();
    SetFixed64(&f, field, 1);
    EXPECT_EQ(ClassifyFixed(f), FrameError::kBadHeader) << field;
  }
}

TEST_F(FrameCorruptionTest, OversizedStoredLengthIsRejectedBeforeUse) {
  std::string frame = Frame();
  SetFixed32(&frame, testing::kFrameStoredAt, kMaxFramePayloadBytes + 1);
  Status s;
  AllocationCounter counter;
  const FrameError e = Classify(frame, kSeed, &s);
  const size_t largest = counter.largest();
  EXPECT_EQ(e, FrameError::kBadHeader);
  EXPECT_LT(largest, 1000u);  // only the message
  EXPECT_NE(s.message().find("stored size 1073741825 exceeds the limit"), std::string::npos);
  SetFixed32(&frame, testing::kFrameStoredAt, 0xffffffff);
  EXPECT_EQ(Classify(frame, kSeed), FrameError::kBadHeader);
  // Within the limit but beyond the range: the frame cannot be complete.
  SetFixed32(&frame, testing::kFrameStoredAt, kMaxFramePayloadBytes);
  EXPECT_EQ(Classify(frame, kSeed), FrameError::kTruncated);
}

TEST_F(FrameCorruptionTest, NonZeroPaddingIsDetected) {
  std::string frame = Frame();
  ASSERT_EQ(frame.size(), 104u);  // 56 + 45 + 3 bytes of padding
  frame[103] = 1;
  Status s;
  EXPECT_EQ(Classify(frame, kSeed, &s), FrameError::kBadChecksum);
  EXPECT_NE(s.message().find("non-zero frame padding 000001"), std::string::npos) << s.message();
}

TEST_F(FrameCorruptionTest, TrailingBytesAfterTheFrameAreNotPartOfIt) {
  const std::string frame = Frame();
  Result<FrameView> v = DecodeFrame(frame + RandomData(100), kSeed, "t");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->frame_bytes, frame.size());
}

TEST_F(FrameCorruptionTest, SuccessfulDecodeAllocatesNothing) {
  const std::string frame = Frame();
  ASSERT_TRUE(DecodeFrame(frame, kSeed, "t").ok());  // the thread's checksum state
  AllocationCounter counter;
  for (int k = 0; k < 10; ++k) ASSERT_TRUE(DecodeFrame(frame, kSeed, "t").ok());
  EXPECT_EQ(counter.allocations(), 0u);
}

TEST(FrameErrorNameTest, NamesEveryError) {
  EXPECT_EQ(FrameErrorName(FrameError::kNone), "none");
  EXPECT_EQ(FrameErrorName(FrameError::kEndOfData), "end of data");
  EXPECT_EQ(FrameErrorName(FrameError::kTruncated), "truncated");
  EXPECT_EQ(FrameErrorName(FrameError::kBadMagic), "bad magic");
  EXPECT_EQ(FrameErrorName(FrameError::kBadHeader), "bad header");
  EXPECT_EQ(FrameErrorName(FrameError::kBadChecksum), "bad checksum");
}

// --- Payloads -------------------------------------------------------------------

TEST(RawPayloadTest, CorruptZstdBehindAValidChecksumIsCorruption) {
  std::vector<OwnedEntry> entries = MakeEntries(1, 1, 4, 0);
  for (OwnedEntry& e : entries) e.data = CompressibleData(500);
  std::string frame = BuildFrame(kSeed, 0, entries, Compress());
  ASSERT_EQ(frame[testing::kFrameFlagsAt], kFrameFlagZstd);
  // Keep the zstd magic; garble the rest. (A flipped bit inside a literal
  // would decode to other bytes of the same size: zstd frames carry no
  // checksum of their own, the frame checksum is what catches that.)
  const uint32_t stored = DecodeFixed32(frame.data() + testing::kFrameStoredAt);
  for (size_t k = 4; k < stored; ++k) frame[kFrameHeaderBytes + k] = '\xff';
  FixFrameChecksum(&frame, kSeed);
  Result<FrameView> v = DecodeFrame(frame, kSeed, "f.seg at offset 64");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  Decompressor d;
  std::string scratch;
  Result<std::string_view> raw = RawPayload(*v, &d, &scratch, "f.seg at offset 64");
  ASSERT_FALSE(raw.ok());
  EXPECT_TRUE(raw.status().IsCorruption());
  EXPECT_EQ(raw.status().message().rfind("f.seg at offset 64: ", 0), 0u) << raw.status().message();
}

TEST(RawPayloadTest, UncompressedPayloadIsReturnedInPlace) {
  const std::string frame = BuildFrame(kSeed, 0, MakeEntries(1, 1, 2, 8));
  Result<FrameView> v = DecodeFrame(frame, kSeed, "t");
  ASSERT_TRUE(v.ok());
  Decompressor d;
  std::string scratch;
  Result<std::string_view> raw = RawPayload(*v, &d, &scratch, "t");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->data(), frame.data() + kFrameHeaderBytes);
  EXPECT_TRUE(scratch.empty());
}

std::string Payload(std::string_view types, std::vector<uint32_t> ends, std::string_view data) {
  std::string p(types);
  for (uint32_t e : ends) PutFixed32(&p, e);
  p += data;
  return p;
}

TEST(EntriesPayloadTest, ParsesAValidTable) {
  const std::string p = Payload(std::string("\x00\x02\xff", 3), {2, 2, 5}, "abcde");
  Result<EntriesPayload> r = EntriesPayload::Parse(p, 3, "t");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 3u);
  EXPECT_EQ(r->type(0), 0);
  EXPECT_EQ(r->type(1), 2);
  EXPECT_EQ(r->type(2), 255);
  EXPECT_EQ(r->data(0), "ab");
  EXPECT_EQ(r->data(1), "");
  EXPECT_EQ(r->data(2), "cde");
}

TEST(EntriesPayloadTest, MalformedTablesAreCorruption) {
  struct Case {
    const char* name;
    std::string payload;
    uint32_t count;
    const char* message;
  };
  const Case cases[] = {
      {"no entries", "", 0, "t: entries payload: no entries"},
      {"table beyond payload", Payload("ab", {1}, ""), 2,
       "t: entries payload: the table of 2 entries needs 10 bytes, the payload has 6"},
      {"huge count", "xyz", 0xffffffff,
       "t: entries payload: the table of 4294967295 entries needs 21474836475 bytes"},
      {"decreasing ends", Payload("ab", {3, 2}, "abc"), 2,
       "t: entries payload: end offset 2 of entry 1 is below the end offset 3 of entry 0"},
      {"ends short of the data", Payload("ab", {1, 2}, "abc"), 2,
       "t: entries payload: the last entry ends at 2 but the data area has 3 bytes"},
      {"ends beyond the data", Payload("ab", {1, 4}, "abc"), 2,
       "t: entries payload: the last entry ends at 4 but the data area has 3 bytes"},
  };
  for (const Case& c : cases) {
    AllocationCounter counter;
    Result<EntriesPayload> r = EntriesPayload::Parse(c.payload, c.count, "t");
    EXPECT_LT(counter.largest(), 1000u) << c.name;
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_TRUE(r.status().IsCorruption());
    EXPECT_EQ(r.status().message().rfind(c.message, 0), 0u)
        << c.name << ": " << r.status().message();
  }
}

// --- FrameIterator --------------------------------------------------------------

class FrameIteratorTest : public ::testing::Test {
 protected:
  // A segment image: 64 header bytes (content irrelevant here), `frames`
  // frames of 2 entries each from index 1 on, then `zeros` zero bytes.
  std::string Segment(int frames, size_t zeros, uint64_t seed = kSeed) {
    std::string s(kSegmentHeaderBytes, 'H');
    for (int k = 0; k < frames; ++k) {
      offsets_.push_back(s.size());
      s += BuildFrame(seed, 0, MakeEntries(1 + 2 * k, 1, 2, 10 + k));
    }
    s.append(zeros, '\0');
    return s;
  }
  std::vector<uint64_t> Walk(FrameIterator* it) {
    std::vector<uint64_t> seen;
    while (it->Next()) {
      seen.push_back(it->offset());
      EXPECT_EQ(it->error(), FrameError::kNone);
    }
    return seen;
  }
  std::vector<uint64_t> offsets_;
};

TEST_F(FrameIteratorTest, WalksToTheZeros) {
  const std::string seg = Segment(3, 4096);
  FrameIterator it(seg, kSegmentHeaderBytes, kSeed, "00000000000000a1.seg");
  EXPECT_EQ(Walk(&it), offsets_);
  EXPECT_EQ(it.error(), FrameError::kEndOfData);
  EXPECT_TRUE(it.status().ok());
  EXPECT_EQ(it.offset(), seg.size() - 4096);
  EXPECT_FALSE(it.Next());
  EXPECT_EQ(it.error(), FrameError::kEndOfData);
}

TEST_F(FrameIteratorTest, ExactEndAndShortZeroTailAreEndOfData) {
  for (size_t zeros : {size_t{0}, size_t{8}, size_t{48}}) {
    const std::string seg = Segment(2, zeros);
    FrameIterator it(seg, kSegmentHeaderBytes, kSeed, "x.seg");
    EXPECT_EQ(Walk(&it).size(), 2u);
    EXPECT_EQ(it.error(), FrameError::kEndOfData) << zeros;
    EXPECT_EQ(it.offset(), seg.size() - zeros);
  }
}

TEST_F(FrameIteratorTest, TornTailIsTruncated) {
  std::string seg = Segment(3, 0);
  seg.resize(seg.size() - 9);
  FrameIterator it(seg, kSegmentHeaderBytes, kSeed, "00000000000000a1.seg");
  EXPECT_EQ(Walk(&it).size(), 2u);
  EXPECT_EQ(it.error(), FrameError::kTruncated);
  EXPECT_EQ(it.offset(), offsets_[2]);
  EXPECT_EQ(it.status().message().rfind(
                "00000000000000a1.seg at offset " + std::to_string(offsets_[2]) + ": truncated", 0),
            0u)
      << it.status().message();
}

TEST_F(FrameIteratorTest, StopsAtTheFirstBadFrameAndNeverSkips) {
  std::string seg = Segment(3, 1024);
  seg[offsets_[1] + kFrameHeaderBytes + 3] ^= 1;  // payload of the middle frame
  FrameIterator it(seg, kSegmentHeaderBytes, kSeed, "s.seg");
  EXPECT_EQ(Walk(&it), std::vector<uint64_t>{offsets_[0]});
  EXPECT_EQ(it.error(), FrameError::kBadChecksum);
  EXPECT_EQ(it.offset(), offsets_[1]);
  EXPECT_TRUE(it.status().IsCorruption());
  EXPECT_EQ(it.status().message().rfind(
                "s.seg at offset " + std::to_string(offsets_[1]) + ": frame checksum mismatch", 0),
            0u);
  EXPECT_FALSE(it.Next());
  EXPECT_EQ(it.error(), FrameError::kBadChecksum);
}

TEST_F(FrameIteratorTest, StaleFramesOfAnotherGenerationDoNotValidate) {
  // A recycled file: frames written under generation 3, read under 4.
  const std::string seg = Segment(2, 0);
  FrameIterator it(seg, kSegmentHeaderBytes, FrameSeed(0xa1, 4), "s.seg");
  EXPECT_TRUE(Walk(&it).empty());
  EXPECT_EQ(it.error(), FrameError::kBadChecksum);
  EXPECT_EQ(it.offset(), kSegmentHeaderBytes);
}

TEST_F(FrameIteratorTest, FooterEndsTheWalk) {
  std::string seg = Segment(2, 0);
  FrameBuilder b;
  b.BuildFooter(kSeed, "footer payload");
  const uint64_t footer_offset = seg.size();
  seg += Join(b.pieces());
  const uint64_t trailer_offset = seg.size();
  seg += "RLTRAILR" + std::string(24, '\x7f');  // not a frame
  FrameIterator it(seg, kSegmentHeaderBytes, kSeed, "s.seg");
  std::vector<uint64_t> seen = Walk(&it);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[2], footer_offset);
  EXPECT_EQ(it.error(), FrameError::kEndOfData);
  EXPECT_TRUE(it.status().ok());
  EXPECT_EQ(it.offset(), trailer_offset);
}

TEST_F(FrameIteratorTest, StartBeyondTheEndIsTruncated) {
  const std::string seg = Segment(1, 0);
  FrameIterator it(seg, seg.size() + 8, kSeed, "s.seg");
  EXPECT_FALSE(it.Next());
  EXPECT_EQ(it.error(), FrameError::kTruncated);
  EXPECT_TRUE(it.status().IsCorruption());
}

TEST_F(FrameIteratorTest, GarbageAfterFramesIsBadMagic) {
  std::string seg = Segment(2, 0);
  seg += RandomData(200);
  FrameIterator it(seg, kSegmentHeaderBytes, kSeed, "s.seg");
  EXPECT_EQ(Walk(&it).size(), 2u);
  EXPECT_EQ(it.error(), FrameError::kBadMagic);
}

TEST_F(FrameIteratorTest, NextAllocatesNothing) {
  const std::string seg = Segment(20, 64);
  {
    FrameIterator warm(seg, kSegmentHeaderBytes, kSeed, "s.seg");
    Walk(&warm);
  }
  FrameIterator it(seg, kSegmentHeaderBytes, kSeed, "s.seg");
  AllocationCounter counter;
  size_t n = 0;
  while (it.Next()) ++n;
  EXPECT_EQ(n, 20u);
  EXPECT_EQ(counter.allocations(), 0u);
}

}  // namespace
}  // namespace raftlog::format
