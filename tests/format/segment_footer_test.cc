#include "raftlog/format/segment_footer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "raftlog/format/checksum.h"
#include "raftlog/format/coding.h"
#include "raftlog/format/record.h"
#include "raftlog/format/record_format.h"
#include "raftlog/format/segment_header.h"
#include "tests/format/allocation_counter.h"
#include "tests/format/format_test_util.h"

namespace raftlog::format {
namespace {

using testing::AllocationCounter;
using testing::BuildFrame;
using testing::FlipBit;
using testing::Join;
using testing::MakeEntries;
using testing::SetFixed32;
using testing::SetFixed64;

const uint64_t kSeed = FrameSeed(7, 1);

FooterContents Sample() {
  FooterContents c;
  c.last_index = 149;
  c.frames = {{64, 0}, {200, 10}, {4096, 11}, {8192, 40}};
  c.term_runs = {{100, 3}, {111, 4}, {140, 6}};
  return c;
}

bool Same(const FooterContents& a, const FooterContents& b) {
  return a.last_index == b.last_index && a.frames == b.frames && a.term_runs == b.term_runs;
}

Status ParseStatus(std::string_view payload) {
  return FooterView::Parse(payload, "f.seg at offset 9000").status();
}

// --- Footer payload -------------------------------------------------------------

TEST(FooterTest, RoundTrip) {
  FooterContents empty;
  empty.last_index = 99;
  for (const FooterContents& c : {Sample(), empty}) {
    const std::string payload = EncodeFooterPayload(c);
    EXPECT_EQ(payload.size(), 16 + 8 * c.frames.size() + 16 * c.term_runs.size());
    Result<FooterView> v = FooterView::Parse(payload, "t");
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(v->last_index(), c.last_index);
    EXPECT_EQ(v->frame_count(), c.frames.size());
    EXPECT_EQ(v->term_run_count(), c.term_runs.size());
    EXPECT_TRUE(Same(v->ToContents(), c));
  }
}

TEST(FooterTest, ParseIsInPlaceAndAllocatesNothing) {
  const std::string payload = EncodeFooterPayload(Sample());
  AllocationCounter counter;
  Result<FooterView> v = FooterView::Parse(payload, "t");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->frame(2), (FrameRef{4096, 11}));
  EXPECT_EQ(v->term_run(1), (TermRun{111, 4}));
  EXPECT_EQ(v->FindFrame(12), 2u);
  EXPECT_EQ(counter.allocations(), 0u);
}

TEST(FooterTest, FindFrameAgreesWithALinearScan) {
  for (uint32_t frames : {1u, 2u, 3u, 10u, 257u}) {
    FooterContents c;
    for (uint32_t k = 0; k < frames; ++k) {
      c.frames.push_back({64 + 128 * k, 3 * k + (k > 5 ? 7 : 0)});  // uneven gaps
    }
    c.term_runs = {{1000, 1}};
    c.last_index = 1000 + c.frames.back().index_delta + 2;
    const std::string payload = EncodeFooterPayload(c);
    Result<FooterView> v = FooterView::Parse(payload, "t");
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    for (uint32_t delta = 0; delta <= c.frames.back().index_delta + 3; ++delta) {
      uint32_t expect = frames;
      for (uint32_t k = 0; k < frames; ++k) {
        if (c.frames[k].index_delta <= delta) expect = k;
      }
      EXPECT_EQ(v->FindFrame(delta), expect) << frames << " frames, delta " << delta;
    }
  }
  // A first frame that does not start at the base: deltas before it find none.
  FooterContents late;
  late.frames = {{64, 5}, {128, 9}};
  late.term_runs = {{105, 1}};
  late.last_index = 120;
  const std::string payload = EncodeFooterPayload(late);
  Result<FooterView> v = FooterView::Parse(payload, "t");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->FindFrame(0), 2u);
  EXPECT_EQ(v->FindFrame(4), 2u);
  EXPECT_EQ(v->FindFrame(5), 0u);
  EXPECT_EQ(v->FindFrame(UINT32_MAX), 1u);
  FooterContents none;
  const std::string empty = EncodeFooterPayload(none);
  EXPECT_EQ(FooterView::Parse(empty, "t")->FindFrame(0), 0u);
}

TEST(FooterTest, TruncationAtEveryLengthIsCorruption) {
  const std::string payload = EncodeFooterPayload(Sample());
  for (size_t n = 0; n < payload.size(); ++n) {
    const Status s = ParseStatus(std::string_view(payload).substr(0, n));
    EXPECT_TRUE(s.IsCorruption()) << n;
    EXPECT_EQ(s.message().rfind("f.seg at offset 9000: footer: ", 0), 0u) << s.message();
  }
}

TEST(FooterTest, HugeCountsAreRejectedBeforeUse) {
  std::string payload = EncodeFooterPayload(Sample());
  SetFixed32(&payload, 0, UINT32_MAX);
  AllocationCounter counter;
  Status s = ParseStatus(payload);
  EXPECT_LT(counter.largest(), 1000u);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(),
            "f.seg at offset 9000: footer: 4294967295 frames and 3 term runs need 34359738424 "
            "bytes, the payload has 96");
  payload = EncodeFooterPayload(Sample());
  SetFixed32(&payload, 4, UINT32_MAX);
  EXPECT_TRUE(ParseStatus(payload).IsCorruption());
}

TEST(FooterTest, TrailingBytesAreCorruption) {
  const Status s = ParseStatus(EncodeFooterPayload(Sample()) + "x");
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(),
            "f.seg at offset 9000: footer: 4 frames and 3 term runs need 96 bytes, the payload "
            "has 97");
}

TEST(FooterTest, OrderingViolationsAreCorruption) {
  struct Case {
    const char* name;
    size_t offset;  // of the u32/u64 to overwrite in the encoded Sample()
    int width;
    uint64_t value;
    const char* message;
  };
  // Frame k is at 16 + 8k (offset, then delta); term run k at 48 + 16k.
  const Case cases[] = {
      {"offset below header", 16, 4, 56, "frame 0 has an invalid offset 56"},
      {"unaligned offset", 24, 4, 204, "frame 1 has an invalid offset 204"},
      {"offsets not increasing", 32, 4, 200,
       "frame 2 (offset 200, index delta 11) does not follow frame 1 (offset 200, index delta "
       "10)"},
      {"deltas not increasing", 36, 4, 10,
       "frame 2 (offset 4096, index delta 10) does not follow frame 1 (offset 200, index delta "
       "10)"},
      {"runs not increasing", 64, 8, 100,
       "term run 1 starts at index 100, not after term run 0 (index 100)"},
      {"run after last index", 80, 8, 150,
       "term run 2 starts at index 150, after the last index 149"},
      {"frames without runs", 4, 4, 0, "4 frames but 0 term runs"},
  };
  for (const Case& c : cases) {
    std::string payload = EncodeFooterPayload(Sample());
    if (c.width == 4) {
      SetFixed32(&payload, c.offset, static_cast<uint32_t>(c.value));
    } else {
      SetFixed64(&payload, c.offset, c.value);
    }
    if (std::string_view(c.name) == "frames without runs") payload.resize(48);
    const Status s = ParseStatus(payload);
    EXPECT_TRUE(s.IsCorruption()) << c.name;
    EXPECT_EQ(s.message().rfind(std::string("f.seg at offset 9000: footer: ") + c.message, 0), 0u)
        << c.name << ": " << s.message();
  }
  FooterContents runs_only;
  runs_only.term_runs = {{5, 1}};
  runs_only.last_index = 9;
  const Status s = ParseStatus(EncodeFooterPayload(runs_only));
  EXPECT_EQ(s.message(), "f.seg at offset 9000: footer: 0 frames but 1 term runs");
}

TEST(FooterDeathTest, EncodingOutOfOrderContentsAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  FooterContents c = Sample();
  std::swap(c.frames[1], c.frames[2]);
  EXPECT_DEATH(EncodeFooterPayload(c), "frames out of order");
  c = Sample();
  std::swap(c.term_runs[0], c.term_runs[1]);
  EXPECT_DEATH(EncodeFooterPayload(c), "term runs out of order");
}

// --- Trailer --------------------------------------------------------------------

TEST(TrailerTest, RoundTrip) {
  const std::string t = EncodeTrailer(8192, 8320, kSeed);
  ASSERT_EQ(t.size(), kTrailerBytes);
  EXPECT_EQ(t.substr(0, 8), "RLTRAILR");
  Result<Trailer> r = DecodeTrailer(t, kSeed, 8320, "f.seg");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->footer_offset, 8192u);
  EXPECT_EQ(r->file_bytes, 8320u);
}

TEST(TrailerTest, EverySingleBitFlipIsDetected) {
  const std::string t = EncodeTrailer(8192, 8320, kSeed);
  for (size_t bit = 0; bit < t.size() * 8; ++bit) {
    std::string bad = t;
    FlipBit(&bad, bit);
    EXPECT_TRUE(DecodeTrailer(bad, kSeed, 8320, "f.seg").status().IsCorruption()) << bit;
  }
}

TEST(TrailerTest, MalformedTrailersAreCorruption) {
  struct Case {
    const char* name;
    std::string bytes;
    uint64_t seed;
    uint64_t actual_file_bytes;
    const char* message;
  };
  const Case cases[] = {
      {"short", EncodeTrailer(8192, 8320, kSeed).substr(1), kSeed, 8320,
       "expected 32 bytes, got 31"},
      {"not sealed", std::string(32, '\0'), kSeed, 8320, "bad magic (the segment is not sealed)"},
      {"other generation", EncodeTrailer(8192, 8320, FrameSeed(7, 0)), kSeed, 8320,
       "checksum mismatch (corrupt, or the trailer of another segment or generation)"},
      {"file size differs", EncodeTrailer(8192, 8320, kSeed), kSeed, 8328,
       "records a file size of 8320 bytes, but the file has 8328"},
      {"footer before the first frame", EncodeTrailer(56, 8320, kSeed), kSeed, 8320,
       "footer offset 56 is not a frame position inside the 8320-byte file"},
      {"unaligned footer", EncodeTrailer(8196, 8320, kSeed), kSeed, 8320,
       "footer offset 8196 is not a frame position"},
      {"no room for the footer", EncodeTrailer(8240, 8320, kSeed), kSeed, 8320,
       "footer offset 8240 is not a frame position"},
      {"footer past the end", EncodeTrailer(UINT64_MAX - 7, 8320, kSeed), kSeed, 8320,
       "footer offset 18446744073709551608 is not a frame position"},
      {"file too small", EncodeTrailer(64, 100, kSeed), kSeed, 100,
       "footer offset 64 is not a frame position inside the 100-byte file"},
  };
  for (const Case& c : cases) {
    const Status s = DecodeTrailer(c.bytes, c.seed, c.actual_file_bytes, "f.seg").status();
    EXPECT_TRUE(s.IsCorruption()) << c.name;
    EXPECT_EQ(s.message().rfind(std::string("f.seg: segment trailer: ") + c.message, 0), 0u)
        << c.name << ": " << s.message();
  }
}

// --- A whole sealed segment, in memory --------------------------------------------

TEST(SealedSegmentTest, FooterAndTrailerLocateEveryFrame) {
  SegmentHeader header;
  header.segment_id = 7;
  header.generation = 1;
  header.base_index = 100;
  std::string seg = EncodeSegmentHeader(header);
  FooterContents footer;
  uint64_t index = 100;
  for (int k = 0; k < 5; ++k) {
    const uint64_t term = k < 3 ? 2 : 5;
    footer.frames.push_back(
        {static_cast<uint32_t>(seg.size()), static_cast<uint32_t>(index - 100)});
    if (footer.term_runs.empty() || footer.term_runs.back().term != term) {
      footer.term_runs.push_back({index, term});
    }
    seg += BuildFrame(header.seed(), 0, MakeEntries(index, term, 1 + k, 20));
    index += 1 + k;
  }
  footer.last_index = index - 1;
  const std::string payload = EncodeFooterPayload(footer);
  FrameBuilder builder;
  builder.BuildFooter(header.seed(), payload);
  const uint64_t footer_offset = seg.size();
  seg += Join(builder.pieces());
  seg += EncodeTrailer(footer_offset, seg.size() + kTrailerBytes, header.seed());

  // What an opener does: header, trailer, footer frame, footer view.
  Result<SegmentHeader> h = DecodeSegmentHeader(seg, "s.seg");
  ASSERT_TRUE(h.ok());
  Result<Trailer> t = DecodeTrailer(std::string_view(seg).substr(seg.size() - kTrailerBytes),
                                    h->seed(), seg.size(), "s.seg");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  Result<FrameView> f =
      DecodeFrame(std::string_view(seg).substr(t->footer_offset), h->seed(), "s.seg footer");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->header.type, FrameType::kFooter);
  EXPECT_EQ(t->footer_offset + f->frame_bytes, seg.size() - kTrailerBytes);
  Result<FooterView> v = FooterView::Parse(f->payload, "s.seg footer");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(Same(v->ToContents(), footer));

  // Every index maps to the frame that holds it.
  for (uint64_t i = 100; i <= v->last_index(); ++i) {
    const uint32_t k = v->FindFrame(static_cast<uint32_t>(i - h->base_index));
    ASSERT_LT(k, v->frame_count());
    Result<FrameView> frame =
        DecodeFrame(std::string_view(seg).substr(v->frame(k).offset), h->seed(), "s.seg");
    ASSERT_TRUE(frame.ok());
    EXPECT_LE(frame->header.first_index, i);
    EXPECT_LT(i, frame->header.end_index());
  }

  // A walk over the frames stops at the footer, before the trailer.
  FrameIterator it(seg, kSegmentHeaderBytes, h->seed(), "s.seg");
  int frames = 0;
  while (it.Next()) ++frames;
  EXPECT_EQ(frames, 6);
  EXPECT_EQ(it.error(), FrameError::kEndOfData);
  EXPECT_EQ(it.offset(), seg.size() - kTrailerBytes);
}

}  // namespace
}  // namespace raftlog::format
