#include "raftlog/format/meta_records.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "raftlog/format/checksum.h"
#include "raftlog/format/coding.h"
#include "raftlog/format/record_format.h"
#include "tests/format/allocation_counter.h"

namespace raftlog::format {
namespace {

using testing::AllocationCounter;

ConfStateRecord SampleConf() {
  ConfStateRecord cs;
  cs.voters = {1, 2, 3};
  cs.learners = {4};
  cs.voters_outgoing = {1, 2, UINT64_MAX};
  cs.learners_next = {};
  cs.auto_leave = true;
  return cs;
}

SnapshotMetaRecord SampleSnapshot() {
  SnapshotMetaRecord m;
  m.index = 12345;
  m.term = 7;
  m.conf_state = SampleConf();
  m.file_name = "snap-0000000000003039-0000000000000007.snap";
  m.data_bytes = 1 << 30;
  return m;
}

SegmentRecord SampleSealed() {
  SegmentRecord r;
  r.segment_id = 0xa1;
  r.base_index = 100;
  r.generation = 3;
  r.state = SegmentState::kSealed;
  r.last_index = 5000;
  r.footer_offset = 67108000;
  r.file_bytes = 67108864;
  r.term_runs = {{100, 4}, {2000, 5}, {4999, 9}};
  return r;
}

// The version 1 encoding (no checksum) of a version 2 record: the same
// fields, version byte 1, without the trailing 8-byte checksum.
std::string AsVersion1(const std::string& v2) {
  return std::string(1, '\x01') + v2.substr(1, v2.size() - 9);
}

// The size of SampleSealed()'s version 1 encoding up to and including field 7.
size_t OldStyleSegmentRecordBytes() {
  SegmentRecord r = SampleSealed();
  r.term_runs.clear();
  return AsVersion1(EncodeSegmentRecord(r)).size() - 1;  // without the run count (one byte: 0)
}

// Every record type, for the checks that apply to all of them: the encoding of
// a sample and a decoder that reports only the status.
struct Kind {
  const char* name;
  std::string sample;
  std::function<Status(std::string_view)> decode;
};

std::vector<Kind> Kinds() {
  return {
      {"HardState record", EncodeHardState({5, 2, UINT64_MAX}),
       [](std::string_view b) { return DecodeHardState(b).status(); }},
      {"ConfState record", EncodeConfState(SampleConf()),
       [](std::string_view b) { return DecodeConfState(b).status(); }},
      {"SnapshotMeta record", EncodeSnapshotMeta(SampleSnapshot()),
       [](std::string_view b) { return DecodeSnapshotMeta(b).status(); }},
      {"SegmentRecord", EncodeSegmentRecord(SampleSealed()),
       [](std::string_view b) { return DecodeSegmentRecord(b).status(); }},
      {"log/start record", EncodeLogStart({21, 3}),
       [](std::string_view b) { return DecodeLogStart(b).status(); }},
  };
}

TEST(MetaRecordsTest, FormatVersion) {
  for (uint16_t v = 1; v <= kLogFormatVersion; ++v) {
    const std::string bytes = EncodeFormatVersion(v);
    EXPECT_EQ(bytes, std::string({static_cast<char>(v), '\0'}));
    auto decoded = DecodeFormatVersion(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, v);
  }
  // Version 0 was never written; a size other than 2 is damage.
  EXPECT_TRUE(DecodeFormatVersion(std::string(2, '\0')).status().IsCorruption());
  EXPECT_TRUE(DecodeFormatVersion(std::string("\x02", 1)).status().IsCorruption());
  EXPECT_TRUE(DecodeFormatVersion(std::string("\x02\0\0", 3)).status().IsCorruption());
  EXPECT_TRUE(DecodeFormatVersion("").status().IsCorruption());
  // A newer writer's log.
  const Status newer = DecodeFormatVersion(EncodeFormatVersion(kLogFormatVersion + 1)).status();
  EXPECT_TRUE(newer.IsNotSupported()) << newer.ToString();
}

TEST(MetaRecordsTest, HardStateRoundTrip) {
  for (HardStateRecord hs : {HardStateRecord{}, HardStateRecord{1, 1, 1},
                             HardStateRecord{UINT64_MAX, UINT64_MAX - 1, 1ull << 35}}) {
    Result<HardStateRecord> r = DecodeHardState(EncodeHardState(hs));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, hs);
  }
  // version 2, term 5, vote 2, commit 300 (varint ac 02), then the checksum
  // of those bytes (seed "state/ha").
  const std::string fields("\x02\x05\x02\xac\x02", 5);
  std::string expected = fields;
  PutFixed64(&expected, Checksum64(fields, kHardStateSeed));
  EXPECT_EQ(EncodeHardState({5, 2, 300}), expected);
}

TEST(MetaRecordsTest, ConfStateRoundTrip) {
  ConfStateRecord big;
  for (uint64_t id = 1; id <= 1000; ++id) big.voters.push_back(id * 1000003);
  for (const ConfStateRecord& cs : {ConfStateRecord{}, SampleConf(), big}) {
    Result<ConfStateRecord> r = DecodeConfState(EncodeConfState(cs));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, cs);
  }
  EXPECT_EQ(EncodeConfState(ConfStateRecord{{1, 2}, {3}, {}, {}, false}),
            std::string("\x01\x02\x01\x02\x01\x03\x00\x00\x00", 9));
}

TEST(MetaRecordsTest, SnapshotMetaRoundTrip) {
  for (const SnapshotMetaRecord& m : {SnapshotMetaRecord{}, SampleSnapshot()}) {
    Result<SnapshotMetaRecord> r = DecodeSnapshotMeta(EncodeSnapshotMeta(m));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, m);
  }
}

TEST(MetaRecordsTest, SegmentRecordRoundTrip) {
  SegmentRecord active;
  active.segment_id = 9;
  active.base_index = 100;
  active.generation = 0;
  active.last_index = 99;  // the engine may keep a hint in an active record
  for (const SegmentRecord& rec : {active, SampleSealed()}) {
    Result<SegmentRecord> r = DecodeSegmentRecord(EncodeSegmentRecord(rec));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, rec);
  }
}

// A compressed segment's record is version 3 with form and raw size; a raw
// one stays version 2, so that logs never compressed keep their encoding.
TEST(MetaRecordsTest, CompressedSegmentRecordIsVersion3AndRoundTrips) {
  EXPECT_EQ(EncodeSegmentRecord(SampleSealed())[0], 2);
  SegmentRecord c = SampleSealed();
  c.form = SegmentForm::kCompressed;
  c.raw_file_bytes = 67108864;
  c.file_bytes = 9000000;
  const std::string bytes = EncodeSegmentRecord(c);
  EXPECT_EQ(bytes[0], kCompressedSegmentRecordVersion);
  auto decoded = DecodeSegmentRecord(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, c);
  EXPECT_EQ(SegmentRecordFileName(c), "00000000000000a1-0000000000000003.zseg");
  EXPECT_EQ(SegmentRecordFileName(SampleSealed()), "00000000000000a1.seg");
  EXPECT_EQ(SegmentRecordRelPath(c), "segments/00000000000000a1-0000000000000003.zseg");
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_TRUE(DecodeSegmentRecord(std::string_view(bytes).substr(0, n)).status().IsCorruption())
        << n;
  }
  // Version 3 with form 0 (raw), or on an active segment: never written.
  auto reencode = [](std::string b) {
    b.resize(b.size() - 8);
    PutFixed64(&b, Checksum64(b, kSegmentRecordSeed));
    return b;
  };
  const size_t form_at = bytes.size() - 8 - 1 - 4;  // raw_file_bytes 67108864 takes 4 varint bytes
  ASSERT_EQ(bytes[form_at], 1);
  std::string raw_form = bytes;
  raw_form[form_at] = 0;
  Status s = DecodeSegmentRecord(reencode(raw_form)).status();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("form"), std::string::npos) << s.ToString();
  SegmentRecord active = c;
  active.state = SegmentState::kActive;
  s = DecodeSegmentRecord(EncodeSegmentRecord(active)).status();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  std::string v4 = bytes;
  v4[0] = 4;
  EXPECT_TRUE(DecodeSegmentRecord(v4).status().IsNotSupported());
}

TEST(MetaRecordsTest, TruncationAtEveryByteIsCorruption) {
  for (const Kind& k : Kinds()) {
    ASSERT_TRUE(k.decode(k.sample).ok()) << k.name;
    for (size_t n = 0; n < k.sample.size(); ++n) {
      const Status s = k.decode(std::string_view(k.sample).substr(0, n));
      EXPECT_TRUE(s.IsCorruption()) << k.name << " cut at " << n << ": " << s.ToString();
      EXPECT_EQ(s.message().rfind(k.name, 0), 0u) << s.message();
    }
  }
}

// Field 8 (term runs) is optional: a record that ends after field 7 was
// written before it existed and decodes with no runs.
TEST(MetaRecordsTest, SegmentRecordWithoutTermRunsDecodes) {
  SegmentRecord r = SampleSealed();
  const std::string bytes =
      AsVersion1(EncodeSegmentRecord(r)).substr(0, OldStyleSegmentRecordBytes());
  auto decoded = DecodeSegmentRecord(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  r.term_runs.clear();
  EXPECT_EQ(*decoded, r);
}

TEST(MetaRecordsTest, TrailingBytesAreCorruption) {
  for (const Kind& k : Kinds()) {
    const Status s = k.decode(k.sample + '\0');
    EXPECT_TRUE(s.IsCorruption()) << k.name;
    EXPECT_EQ(s.message(), std::string(k.name) + ": end 1 unexpected trailing bytes at offset " +
                               std::to_string(k.sample.size()));
  }
}

TEST(MetaRecordsTest, NewerVersionIsNotSupported) {
  for (const Kind& k : Kinds()) {
    std::string bytes = k.sample;
    // ConfState is still version 1; SegmentRecord has version 3 (compressed
    // segments).
    const int newest = std::string_view(k.name) == "ConfState record"  ? 1
                       : std::string_view(k.name) == "SegmentRecord" ? 3
                                                                      : 2;
    bytes[0] = static_cast<char>(newest + 1);
    const Status s = k.decode(bytes);
    EXPECT_TRUE(s.IsNotSupported()) << k.name;
    EXPECT_EQ(s.message(), std::string(k.name) + ": version " + std::to_string(newest + 1) +
                               " is newer than the newest supported (" + std::to_string(newest) +
                               ")");
    bytes[0] = 0;
    EXPECT_TRUE(k.decode(bytes).IsCorruption()) << k.name;
  }
}

TEST(MetaRecordsTest, NestedConfStateVersionIsChecked) {
  std::string bytes = EncodeSnapshotMeta(SampleSnapshot());
  // version, index (2 bytes: 12345), term (1), conf-state length (1), then the
  // nested record's version byte.
  ASSERT_EQ(bytes[5], 1);
  bytes[5] = 9;
  const Status s = DecodeSnapshotMeta(bytes).status();
  EXPECT_TRUE(s.IsNotSupported());
  EXPECT_EQ(s.message(),
            "SnapshotMeta record: conf_state: version 9 is newer than the newest supported (1)");
}

TEST(MetaRecordsTest, Version1RecordsStillDecode) {
  const auto sealed = SampleSealed();
  EXPECT_EQ(*DecodeSegmentRecord(AsVersion1(EncodeSegmentRecord(sealed))), sealed);
  EXPECT_EQ(*DecodeHardState(AsVersion1(EncodeHardState({5, 2, 300}))),
            (HardStateRecord{5, 2, 300}));
  EXPECT_EQ(*DecodeSnapshotMeta(AsVersion1(EncodeSnapshotMeta(SampleSnapshot()))),
            SampleSnapshot());
  EXPECT_EQ(*DecodeLogStart(AsVersion1(EncodeLogStart({21, 3}))), (LogStartRecord{21, 3}));
  EXPECT_TRUE(IsOldMetaEncoding(AsVersion1(EncodeHardState({5, 2, 300}))));
  EXPECT_FALSE(IsOldMetaEncoding(EncodeHardState({5, 2, 300})));
  // Counters were a bare u64.
  std::string bare;
  PutFixed64(&bare, 42);
  EXPECT_EQ(*DecodeCounter("log/generation", bare), 42u);
  EXPECT_TRUE(IsOldCounterEncoding(bare));
  EXPECT_EQ(*DecodeCounter("log/generation", EncodeCounter("log/generation", 42)), 42u);
  EXPECT_FALSE(IsOldCounterEncoding(EncodeCounter("log/generation", 42)));
}

TEST(MetaRecordsTest, ChecksumsAreBoundToTheRecordType) {
  // The same fields under another record's key do not decode: a counter
  // moved to the other counter's key, a HardState-shaped log/start.
  EXPECT_TRUE(DecodeCounter("log/next_segment_id", EncodeCounter("log/generation", 7))
                  .status()
                  .IsCorruption());
  std::string hs = EncodeHardState({21, 3, 0});
  EXPECT_TRUE(DecodeLogStart(hs).status().IsCorruption());
}

TEST(MetaRecordsTest, HugeCountsAreRejectedBeforeAllocating) {
  for (uint64_t count : {uint64_t{4}, uint64_t{1} << 40, UINT64_MAX}) {
    std::string bytes("\x01", 1);
    PutVarint64(&bytes, count);  // voters
    bytes += "\x01\x02";         // two bytes left, fewer than `count`
    AllocationCounter counter;
    const Status s = DecodeConfState(bytes).status();
    EXPECT_LT(counter.largest(), 1000u) << count;
    EXPECT_TRUE(s.IsCorruption());
    EXPECT_EQ(s.message(), "ConfState record: voters count " + std::to_string(count) +
                               " exceeds the 2 bytes that remain at offset " +
                               std::to_string(bytes.size() - 2));
  }
  // A length prefix beyond the record, in SnapshotMeta.
  std::string meta("\x01\x05\x02", 3);
  PutVarint64(&meta, uint64_t{1} << 50);
  AllocationCounter counter;
  const Status s = DecodeSnapshotMeta(meta).status();
  EXPECT_LT(counter.largest(), 1000u);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("conf_state length 1125899906842624 exceeds the 0 bytes"),
            std::string::npos)
      << s.message();
}

TEST(MetaRecordsTest, MalformedFieldsAreCorruption) {
  struct Case {
    const char* name;
    std::string bytes;
    std::function<Status(std::string_view)> decode;
    const char* message;
  };
  auto hs = [](std::string_view b) { return DecodeHardState(b).status(); };
  auto cs = [](std::string_view b) { return DecodeConfState(b).status(); };
  auto seg = [](std::string_view b) { return DecodeSegmentRecord(b).status(); };
  std::string bad_state = EncodeSegmentRecord(SampleSealed());
  bad_state[5] = 3;  // version, id (2 bytes: a1 01), base (1), generation (1), state
  std::string bad_bool = EncodeConfState({});
  bad_bool.back() = 2;
  const Case cases[] = {
      {"overlong varint", std::string("\x01") + std::string(11, '\xff'), hs,
       "HardState record: term is a truncated or overlong varint at offset 1"},
      {"varint overflows 64 bits", std::string("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 11),
       hs, "HardState record: term is a truncated or overlong varint at offset 1"},
      {"bool is 2", bad_bool, cs, "ConfState record: auto_leave is 2, not 0 or 1 at offset 6"},
      {"unknown state", bad_state, seg, "SegmentRecord: state has the unknown value 3 at offset 6"},
      {"huge term run count",
       [] {
         SegmentRecord r = SampleSealed();
         r.term_runs.clear();
         std::string b = AsVersion1(EncodeSegmentRecord(r));
         b.back() = '\x7f';  // 127 runs, no bytes for them
         return b;
       }(),
       seg, "SegmentRecord: term run count 127 exceeds what the 0 remaining bytes hold"},
      {"decreasing term runs",
       [] {
         SegmentRecord r = SampleSealed();
         r.term_runs = {{100, 5}, {200, 4}};
         return EncodeSegmentRecord(r);
       }(),
       seg, "SegmentRecord: term runs are not increasing at run 1"},
  };
  for (const Case& c : cases) {
    const Status s = c.decode(c.bytes);
    EXPECT_TRUE(s.IsCorruption()) << c.name;
    EXPECT_EQ(s.message().rfind(c.message, 0), 0u) << c.name << ": " << s.message();
  }
}

TEST(MetaRecordsTest, EverySingleBitFlipIsRejected) {
  // LMDB 0.9 has no page checksums: version 2 records carry their own, so
  // no flipped bit decodes (ConfState is checked by the record around it).
  for (const Kind& k : Kinds()) {
    const bool checked = std::string_view(k.name) != "ConfState record";
    for (size_t bit = 0; bit < k.sample.size() * 8; ++bit) {
      std::string bad = k.sample;
      bad[bit / 8] ^= static_cast<char>(1 << (bit % 8));
      const Status s = k.decode(bad);
      if (checked) {
        EXPECT_TRUE(s.IsCorruption() || s.IsNotSupported()) << k.name << " " << bit;
      } else {
        EXPECT_TRUE(s.ok() || s.IsCorruption() || s.IsNotSupported()) << k.name << " " << bit;
      }
    }
  }
  // Version 1 (no checksum) is only as good as its structure: a flip may
  // decode to another value, which is why writers rewrite it.
  const std::string hs = AsVersion1(EncodeHardState({5, 2, 300}));
  std::string bad = hs;
  bad[1] ^= 1;
  ASSERT_TRUE(DecodeHardState(bad).ok());
  EXPECT_NE(*DecodeHardState(bad), *DecodeHardState(hs));
}

TEST(MetaRecordsTest, DurableRecordRoundTripAndEveryBitFlipIsRejected) {
  const DurableRecord record{7, 3, 65536, 1234};
  const std::string bytes = EncodeDurableRecord(record);
  ASSERT_EQ(static_cast<uint8_t>(bytes[0]), kDurableRecordVersion);
  auto decoded = DecodeDurableRecord(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, record);
  // Checksummed: unlike the older records, no flipped bit decodes.
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    std::string bad = bytes;
    bad[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    const Status s = DecodeDurableRecord(bad).status();
    EXPECT_TRUE(s.IsCorruption() || s.IsNotSupported()) << "bit " << bit << ": " << s.ToString();
  }
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_TRUE(DecodeDurableRecord(bytes.substr(0, n)).status().IsCorruption()) << n;
  }
  std::string newer = bytes;
  newer[0] = static_cast<char>(kDurableRecordVersion + 1);
  EXPECT_TRUE(DecodeDurableRecord(newer).status().IsNotSupported());
}

}  // namespace
}  // namespace raftlog::format
