// Tests of raftlog/raft/conf_change.h: ports etcd raft's raftpb/confchange_test.go
// (TestLeaveJoint) and checks the protobuf codec against hand-computed
// golden bytes, etcd v3.7's sparser encodings, and malformed input.

#include "raftlog/raft/conf_change.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/raft/internal/proto_wire.h"

namespace raftlog::raft {
namespace {

constexpr ConfChangeType kAdd = ConfChangeType::kAddNode;
constexpr ConfChangeType kRemove = ConfChangeType::kRemoveNode;
constexpr ConfChangeType kUpdate = ConfChangeType::kUpdateNode;
constexpr ConfChangeType kLearner = ConfChangeType::kAddLearnerNode;
constexpr ConfChangeTransition kAuto = ConfChangeTransition::kAuto;
constexpr ConfChangeTransition kImplicit = ConfChangeTransition::kJointImplicit;
constexpr ConfChangeTransition kExplicit = ConfChangeTransition::kJointExplicit;

// Bytes from hex, e.g. "08 00 10 01".
std::string Hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i < hex.size();) {
    if (hex[i] == ' ') {
      ++i;
      continue;
    }
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    i += 2;
  }
  return out;
}

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (char c : bytes) {
    if (!out.empty()) out += ' ';
    out += kDigits[static_cast<uint8_t>(c) >> 4];
    out += kDigits[static_cast<uint8_t>(c) & 15];
  }
  return out;
}

// --- ConfChangeI and the joint-consensus questions --------------------------

TEST(ConfChangeTest, V1AsV2CarriesTheSameOperation) {
  const ConfChange v1{kLearner, 7, "ctx", 99};
  const ConfChangeV2 want{kAuto, {{kLearner, 7}}, "ctx"};
  EXPECT_EQ(AsV2(v1), want);
  const ConfChangeI cc(v1);
  ASSERT_NE(cc.AsV1(), nullptr);
  EXPECT_EQ(*cc.AsV1(), v1);
  EXPECT_EQ(cc.AsV2(), want);
  // A V1 change is always simple.
  EXPECT_FALSE(cc.EnterJoint().ok);
  EXPECT_FALSE(cc.LeaveJoint());

  const ConfChangeI v2(want);
  EXPECT_EQ(v2.AsV1(), nullptr);
  EXPECT_EQ(v2.AsV2(), want);
  EXPECT_NE(cc, v2);
}

TEST(ConfChangeTest, EnterJoint) {
  struct Case {
    ConfChangeV2 cc;
    bool want_auto_leave;
    bool want_ok;
  };
  const Case kCases[] = {
      {{kAuto, {}, ""}, false, false},
      {{kAuto, {{kAdd, 1}}, ""}, false, false},
      // Several changes need joint consensus, left automatically.
      {{kAuto, {{kAdd, 1}, {kAdd, 2}}, ""}, true, true},
      // An explicit transition asks for joint consensus even for one change.
      {{kImplicit, {{kAdd, 1}}, ""}, true, true},
      {{kImplicit, {}, ""}, true, true},
      {{kExplicit, {{kAdd, 1}}, ""}, false, true},
      {{kExplicit, {{kAdd, 1}, {kRemove, 2}}, ""}, false, true},
  };
  for (const Case& tc : kCases) {
    const auto [auto_leave, ok] = EnterJoint(tc.cc);
    EXPECT_EQ(auto_leave, tc.want_auto_leave) << ConfChangesToString(tc.cc.changes);
    EXPECT_EQ(ok, tc.want_ok) << ConfChangesToString(tc.cc.changes);
    EXPECT_EQ(ConfChangeI(tc.cc).EnterJoint().ok, tc.want_ok);
  }
}

TEST(ConfChangeDeathTest, EnterJointWithAnUnknownTransitionAborts) {
  const ConfChangeV2 cc{static_cast<ConfChangeTransition>(7), {}, ""};
  EXPECT_DEATH(EnterJoint(cc), "unknown transition: 7");
}

// TestLeaveJoint.
TEST(ConfChangeTest, LeaveJoint) {
  struct Case {
    std::string_view name;
    ConfChangeV2 cc;
    bool want;
  };
  const Case kCases[] = {
      {"empty conf change (all zero values)", {}, true},
      {"empty conf change with auto transition explicitly set", {kAuto, {}, ""}, true},
      {"empty changes with context (context should be ignored)", {kAuto, {}, "some context"}, true},
      {"non-empty changes", {kAuto, {{kAdd, 0}}, ""}, false},
      {"joint implicit transition with empty changes", {kImplicit, {}, ""}, false},
      {"joint explicit transition with empty changes", {kExplicit, {}, ""}, false},
      {"auto transition with multiple changes", {kAuto, {{kAdd, 0}, {kRemove, 0}}, ""}, false},
  };
  for (const Case& tc : kCases) {
    EXPECT_EQ(LeaveJoint(tc.cc), tc.want) << tc.name;
    EXPECT_EQ(ConfChangeI(tc.cc).LeaveJoint(), tc.want) << tc.name;
  }
}

// --- The "v1 l2 r3 u4" shorthand --------------------------------------------

TEST(ConfChangesStringTest, ParsesAndPrints) {
  Result<std::vector<ConfChangeSingle>> ccs =
      ConfChangesFromString("  v1 l2 r3 u18446744073709551615\n");
  ASSERT_TRUE(ccs.ok()) << ccs.status().ToString();
  const std::vector<ConfChangeSingle> want = {
      {kAdd, 1}, {kLearner, 2}, {kRemove, 3}, {kUpdate, std::numeric_limits<uint64_t>::max()}};
  EXPECT_EQ(*ccs, want);
  EXPECT_EQ(ConfChangesToString(*ccs), "v1 l2 r3 u18446744073709551615");

  for (std::string_view empty : {"", " ", "\t\n"}) {
    ccs = ConfChangesFromString(empty);
    ASSERT_TRUE(ccs.ok());
    EXPECT_TRUE(ccs->empty());
  }
  const std::vector<ConfChangeSingle> unknown = {{static_cast<ConfChangeType>(9), 5}};
  EXPECT_EQ(ConfChangesToString(unknown), "unknown5");
}

TEST(ConfChangesStringTest, RejectsBadInput) {
  struct Case {
    std::string_view input;
    std::string_view want;
  };
  const Case kCases[] = {
      {"v", "unknown token v"},
      {"v1  v2", "unknown token "},  // tokens are separated by single spaces, as in etcd
      {"x1", "unknown input: x1"},
      {"vx", "strconv.ParseUint: parsing \"x\": invalid syntax"},
      {"v1x", "strconv.ParseUint: parsing \"1x\": invalid syntax"},
      {"v-1", "strconv.ParseUint: parsing \"-1\": invalid syntax"},
      {"v+1", "strconv.ParseUint: parsing \"+1\": invalid syntax"},
      {"v18446744073709551616",
       "strconv.ParseUint: parsing \"18446744073709551616\": value out of range"},
  };
  for (const Case& tc : kCases) {
    Result<std::vector<ConfChangeSingle>> ccs = ConfChangesFromString(tc.input);
    ASSERT_FALSE(ccs.ok()) << tc.input;
    EXPECT_TRUE(ccs.status().IsInvalidArgument()) << tc.input;
    EXPECT_EQ(ccs.status().message(), tc.want) << tc.input;
  }
}

// --- Encoding ---------------------------------------------------------------

TEST(ConfChangeCodecTest, GoldenConfChangeBytes) {
  struct Case {
    ConfChange cc;
    std::string_view hex;
  };
  const Case kCases[] = {
      // gogo (etcd v3.6) writes ID, Type and NodeID always, in field order.
      {{kAdd, 1, "", 0}, "08 00 10 00 18 01"},
      // 300 = 0b10'0101100: varint AC 02; context "ab" as field 4.
      {{kRemove, 300, "ab", 5}, "08 05 10 01 18 AC 02 22 02 61 62"},
      {{kLearner, std::numeric_limits<uint64_t>::max(), "", 0},
       "08 00 10 03 18 FF FF FF FF FF FF FF FF FF 01"},
  };
  for (const Case& tc : kCases) {
    const std::string enc = EncodeConfChange(tc.cc);
    EXPECT_EQ(ToHex(enc), tc.hex);
    Result<ConfChange> dec = DecodeConfChange(enc);
    ASSERT_TRUE(dec.ok()) << dec.status().ToString();
    EXPECT_EQ(*dec, tc.cc);
  }
}

TEST(ConfChangeCodecTest, GoldenConfChangeV2Bytes) {
  struct Case {
    ConfChangeV2 cc;
    std::string_view hex;
  };
  const Case kCases[] = {
      // Transition is always written; an empty context is not.
      {{}, "08 00"},
      {{kExplicit, {{kAdd, 2}, {kLearner, 3}}, "x"},
       "08 02 12 04 08 00 10 02 12 04 08 03 10 03 1A 01 78"},
      {{kImplicit, {{kRemove, 128}}, ""}, "08 01 12 05 08 01 10 80 01"},
  };
  for (const Case& tc : kCases) {
    const std::string enc = EncodeConfChangeV2(tc.cc);
    EXPECT_EQ(ToHex(enc), tc.hex);
    Result<ConfChangeV2> dec = DecodeConfChangeV2(enc);
    ASSERT_TRUE(dec.ok()) << dec.status().ToString();
    EXPECT_EQ(*dec, tc.cc);
  }
}

// What etcd v3.7+ (proto2 with presence) and other encoders may write: unset
// fields omitted, any field order, repeated scalars, unknown fields,
// non-minimal varints.
TEST(ConfChangeCodecTest, DecodesOtherValidEncodings) {
  struct Case {
    std::string_view hex;
    ConfChange want;
  };
  const Case kCases[] = {
      {"", {}},
      {"10 00 18 01", {kAdd, 1, "", 0}},                          // no ID
      {"18 03 10 01", {kRemove, 3, "", 0}},                       // reversed
      {"18 03 18 04", {kAdd, 4, "", 0}},                          // last value wins
      {"22 01 61 22 02 62 63", {kAdd, 0, "bc", 0}},               // last bytes win
      {"18 83 00", {kAdd, 3, "", 0}},                             // non-minimal varint
      {"78 05 18 02", {kAdd, 2, "", 0}},                          // unknown varint field 15
      {"81 01 01 02 03 04 05 06 07 08 18 02", {kAdd, 2, "", 0}},  // field 16, fixed64
      {"85 01 01 02 03 04 18 02", {kAdd, 2, "", 0}},              // field 16, fixed32
      {"82 01 03 61 62 63 18 02", {kAdd, 2, "", 0}},              // field 16, bytes
      {"FA FF FF FF 0F 00 18 02", {kAdd, 2, "", 0}},              // the largest field number
  };
  for (const Case& tc : kCases) {
    Result<ConfChange> dec = DecodeConfChange(Hex(tc.hex));
    ASSERT_TRUE(dec.ok()) << tc.hex << ": " << dec.status().ToString();
    EXPECT_EQ(*dec, tc.want) << tc.hex;
  }

  // V2 without a transition (v3.7's zero value left unset), unknown fields
  // inside a change, and an empty change (all defaults).
  Result<ConfChangeV2> v2 = DecodeConfChangeV2(Hex("12 04 08 00 10 02 12 04 78 01 10 00 12 00"));
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(*v2, (ConfChangeV2{kAuto, {{kAdd, 2}, {kAdd, 0}, {kAdd, 0}}, ""}));
  // The empty V2 is the leave-joint change.
  v2 = DecodeConfChangeV2("");
  ASSERT_TRUE(v2.ok());
  EXPECT_TRUE(LeaveJoint(*v2));
}

TEST(ConfChangeCodecTest, RandomRoundTrips) {
  std::mt19937_64 rng(1234);
  auto random_u64 = [&rng]() {
    // Mix small and huge values so that every varint length shows up.
    return rng() >> (rng() % 64);
  };
  auto random_bytes = [&rng]() {
    std::string s(rng() % 200, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    return s;
  };
  for (int i = 0; i < 2000; ++i) {
    const ConfChange cc{static_cast<ConfChangeType>(rng() % 4), random_u64(), random_bytes(),
                        random_u64()};
    Result<ConfChange> dec = DecodeConfChange(EncodeConfChange(cc));
    ASSERT_TRUE(dec.ok()) << dec.status().ToString();
    ASSERT_EQ(*dec, cc);

    ConfChangeV2 v2{static_cast<ConfChangeTransition>(rng() % 3), {}, random_bytes()};
    for (uint64_t n = rng() % 8; n > 0; --n) {
      v2.changes.push_back({static_cast<ConfChangeType>(rng() % 4), random_u64()});
    }
    Result<ConfChangeV2> dec2 = DecodeConfChangeV2(EncodeConfChangeV2(v2));
    ASSERT_TRUE(dec2.ok()) << dec2.status().ToString();
    ASSERT_EQ(*dec2, v2);
  }
}

// --- Malformed input ----------------------------------------------------------

// Every proper prefix of a valid encoding either ends at a field boundary
// (and is a valid, shorter message) or is Corruption; never anything else.
TEST(ConfChangeCodecTest, TruncationAtEveryByte) {
  const std::string v1 = EncodeConfChange({kRemove, 300, "context", 1ull << 40});
  // Field boundaries: after ID (1 + 6 bytes), Type (+2), NodeID (+3).
  const std::vector<size_t> v1_boundaries = {0, 7, 9, 12};
  for (size_t n = 0; n < v1.size(); ++n) {
    Result<ConfChange> dec = DecodeConfChange(std::string_view(v1).substr(0, n));
    const bool boundary = std::count(v1_boundaries.begin(), v1_boundaries.end(), n) > 0;
    EXPECT_EQ(dec.ok(), boundary) << "prefix " << n << ": " << dec.status().ToString();
    if (!dec.ok()) {
      EXPECT_TRUE(dec.status().IsCorruption()) << dec.status().ToString();
    }
  }

  const std::string v2 = EncodeConfChangeV2({kExplicit, {{kAdd, 2}, {kLearner, 300}}, "ctx"});
  // After Transition (2), each change (2 + 4, 2 + 5).
  const std::vector<size_t> v2_boundaries = {0, 2, 8, 15};
  for (size_t n = 0; n < v2.size(); ++n) {
    Result<ConfChangeV2> dec = DecodeConfChangeV2(std::string_view(v2).substr(0, n));
    const bool boundary = std::count(v2_boundaries.begin(), v2_boundaries.end(), n) > 0;
    EXPECT_EQ(dec.ok(), boundary) << "prefix " << n << ": " << dec.status().ToString();
    if (!dec.ok()) {
      EXPECT_TRUE(dec.status().IsCorruption()) << dec.status().ToString();
    }
  }
}

TEST(ConfChangeCodecTest, RejectsMalformedConfChange) {
  struct Case {
    std::string_view hex;
    std::string_view want;
  };
  const Case kCases[] = {
      {"00", "ConfChange: invalid field number 0 at offset 0"},
      {"08 00 0E 00", "ConfChange: invalid wire type 6 at offset 2"},
      {"0F", "ConfChange: invalid wire type 7 at offset 0"},
      {"83 01 84 01", "ConfChange: unsupported wire type 3 (group) at offset 2"},
      {"80 80 80 80 10 00", "ConfChange: invalid field number 536870912 at offset 0"},
      {"80", "ConfChange: truncated varint at offset 0"},
      {"08", "ConfChange: truncated varint at offset 1"},
      // Known fields with the wrong wire type.
      {"0A 00", "ConfChange: field 1 has wire type 2, want 0 at offset 1"},
      {"0B 0C", "ConfChange: field 1 has wire type 3, want 0 at offset 1"},
      {"20 01", "ConfChange: field 4 has wire type 0, want 2 at offset 1"},
      {"1D 00 00 00 00", "ConfChange: field 3 has wire type 5, want 0 at offset 1"},
      // Enum values outside ConfChangeType.
      {"10 04", "ConfChange: field 2: 4 is not a ConfChangeType at offset 1"},
      {"10 FF FF FF FF FF FF FF FF FF 01",
       "ConfChange: field 2: 18446744073709551615 is not a ConfChangeType at offset 1"},
      // Overlong varints: 11 bytes, and a 10th byte above 1.
      {"18 80 80 80 80 80 80 80 80 80 80 01", "ConfChange: varint overflows 64 bits at offset 1"},
      {"18 FF FF FF FF FF FF FF FF FF 02", "ConfChange: varint overflows 64 bits at offset 1"},
      // Lengths beyond the data, up to 2^64 - 1 (nothing may be allocated).
      {"22 05 61 62", "ConfChange: length 5 exceeds the 2 bytes left at offset 1"},
      {"22 FF FF FF FF FF FF FF FF FF 01",
       "ConfChange: length 18446744073709551615 exceeds the 0 bytes left at offset 1"},
      // Truncated unknown fields.
      {"81 01 01 02", "ConfChange: truncated fixed-width value at offset 2"},
      {"85 01 01", "ConfChange: truncated fixed-width value at offset 2"},
      {"82 01 09 00", "ConfChange: length 9 exceeds the 1 bytes left at offset 2"},
  };
  for (const Case& tc : kCases) {
    Result<ConfChange> dec = DecodeConfChange(Hex(tc.hex));
    ASSERT_FALSE(dec.ok()) << tc.hex;
    EXPECT_TRUE(dec.status().IsCorruption()) << tc.hex;
    EXPECT_EQ(dec.status().message(), tc.want) << tc.hex;
  }
}

TEST(ConfChangeCodecTest, RejectsMalformedConfChangeV2) {
  struct Case {
    std::string_view hex;
    std::string_view want;
  };
  const Case kCases[] = {
      {"08 03", "ConfChangeV2: field 1: 3 is not a ConfChangeTransition at offset 1"},
      {"10 01", "ConfChangeV2: field 2 has wire type 0, want 2 at offset 1"},
      {"12 03 08 00", "ConfChangeV2: length 3 exceeds the 2 bytes left at offset 1"},
      // Errors inside a change name the inner message and the outer offset.
      {"08 00 12 02 08 05", "ConfChangeSingle: field 1: 5 is not a ConfChangeType at offset 5"},
      {"08 00 12 02 10 80", "ConfChangeSingle: truncated varint at offset 5"},
      {"08 00 12 01 00", "ConfChangeSingle: invalid field number 0 at offset 4"},
      {"12 02 0A 00", "ConfChangeSingle: field 1 has wire type 2, want 0 at offset 3"},
      {"1A 01", "ConfChangeV2: length 1 exceeds the 0 bytes left at offset 1"},
      {"18 00", "ConfChangeV2: field 3 has wire type 0, want 2 at offset 1"},
  };
  for (const Case& tc : kCases) {
    Result<ConfChangeV2> dec = DecodeConfChangeV2(Hex(tc.hex));
    ASSERT_FALSE(dec.ok()) << tc.hex;
    EXPECT_TRUE(dec.status().IsCorruption()) << tc.hex;
    EXPECT_EQ(dec.status().message(), tc.want) << tc.hex;
  }
}

// Random garbage never crashes the decoders (run under ASan in CI) and
// yields either a value or Corruption.
TEST(ConfChangeCodecTest, RandomGarbageIsHandled) {
  std::mt19937_64 rng(99);
  const std::string valid = EncodeConfChangeV2({kImplicit, {{kAdd, 1}, {kRemove, 2}}, "abc"});
  for (int i = 0; i < 20000; ++i) {
    std::string data;
    if (i % 2 == 0) {
      data.resize(rng() % 32);
      for (char& c : data) c = static_cast<char>(rng());
    } else {
      // Mutate a valid encoding: flip a few bytes.
      data = valid;
      for (int k = 1 + rng() % 3; k > 0; --k) data[rng() % data.size()] = static_cast<char>(rng());
    }
    Result<ConfChange> v1 = DecodeConfChange(data);
    Result<ConfChangeV2> v2 = DecodeConfChangeV2(data);
    if (!v1.ok()) {
      ASSERT_TRUE(v1.status().IsCorruption()) << ToHex(data);
    }
    if (!v2.ok()) {
      ASSERT_TRUE(v2.status().IsCorruption()) << ToHex(data);
    }
  }
}

// --- Entries ----------------------------------------------------------------

TEST(ConfChangeEntryTest, MarshalConfChange) {
  // etcd's nil ConfChangeI: an empty V2 entry, the leave-joint change.
  MarshaledConfChange m = MarshalConfChange(std::nullopt);
  EXPECT_EQ(m.type, EntryType::kConfChangeV2);
  EXPECT_TRUE(m.data.empty());

  const ConfChange v1{kAdd, 3, "c", 8};
  m = MarshalConfChange(ConfChangeI(v1));
  EXPECT_EQ(m.type, EntryType::kConfChange);
  EXPECT_EQ(m.data, EncodeConfChange(v1));

  const ConfChangeV2 v2{kExplicit, {{kAdd, 4}}, "d"};
  m = MarshalConfChange(ConfChangeI(v2));
  EXPECT_EQ(m.type, EntryType::kConfChangeV2);
  EXPECT_EQ(m.data, EncodeConfChangeV2(v2));
}

TEST(ConfChangeEntryTest, ConfChangeFromEntry) {
  const ConfChange v1{kRemove, 3, "", 0};
  Result<ConfChangeI> cc =
      ConfChangeFromEntry(Entry{1, 5, EntryType::kConfChange, EncodeConfChange(v1)});
  ASSERT_TRUE(cc.ok()) << cc.status().ToString();
  ASSERT_NE(cc->AsV1(), nullptr);
  EXPECT_EQ(*cc->AsV1(), v1);

  const ConfChangeV2 v2{kAuto, {{kAdd, 4}, {kAdd, 5}}, ""};
  cc = ConfChangeFromEntry(Entry{1, 6, EntryType::kConfChangeV2, EncodeConfChangeV2(v2)});
  ASSERT_TRUE(cc.ok());
  EXPECT_EQ(cc->AsV2(), v2);
  EXPECT_TRUE(cc->EnterJoint().ok);

  cc = ConfChangeFromEntry(Entry{1, 7, EntryType::kConfChangeV2, ""});
  ASSERT_TRUE(cc.ok());
  EXPECT_TRUE(cc->LeaveJoint());

  cc = ConfChangeFromEntry(Entry{1, 8, EntryType::kNormal, "x"});
  ASSERT_FALSE(cc.ok());
  EXPECT_TRUE(cc.status().IsInvalidArgument());
  EXPECT_EQ(cc.status().message(), "entry 8 of type EntryNormal carries no conf change");

  cc = ConfChangeFromEntry(Entry{1, 9, EntryType::kConfChange, Hex("10 09")});
  ASSERT_FALSE(cc.ok());
  EXPECT_TRUE(cc.status().IsCorruption());
}

// --- The wire helpers ---------------------------------------------------------

TEST(ProtoWireTest, VarintBoundaries) {
  struct Case {
    uint64_t value;
    std::string_view hex;
  };
  const Case kCases[] = {
      {0, "00"},
      {1, "01"},
      {127, "7F"},
      {128, "80 01"},
      {16383, "FF 7F"},
      {16384, "80 80 01"},
      {(1ull << 63) - 1, "FF FF FF FF FF FF FF FF 7F"},
      {1ull << 63, "80 80 80 80 80 80 80 80 80 01"},
      {std::numeric_limits<uint64_t>::max(), "FF FF FF FF FF FF FF FF FF 01"},
  };
  for (const Case& tc : kCases) {
    std::string enc;
    internal::PutVarint(&enc, tc.value);
    EXPECT_EQ(ToHex(enc), tc.hex);
    EXPECT_EQ(internal::VarintLength(tc.value), enc.size());
    internal::ProtoReader r(enc, "test");
    Result<uint64_t> dec = r.ReadVarint();
    ASSERT_TRUE(dec.ok());
    EXPECT_EQ(*dec, tc.value);
    EXPECT_TRUE(r.done());
  }
}

TEST(ProtoWireTest, NestedReaderReportsOuterOffsets) {
  const std::string bytes = Hex("80");  // must outlive the reader
  internal::ProtoReader r(bytes, "Inner", 40);
  EXPECT_EQ(r.offset(), 40u);
  EXPECT_EQ(r.ReadVarint().status().message(), "Inner: truncated varint at offset 40");
}

}  // namespace
}  // namespace raftlog::raft
