// The kv codec: round trips of every field, and robustness against
// malformed input (truncation at every byte, random mutations, lying counts):
// decoding never crashes and never reports success for bytes it did not
// fully understand.

#include "kv/codec.h"

#include <gtest/gtest.h>

#include <random>

namespace raftlog::kv {
namespace {

raft::Message FullMessage() {
  raft::Message m;
  m.type = raft::MessageType::kMsgApp;
  m.to = 2;
  m.from = 1;
  m.term = 7;
  m.log_term = 6;
  m.index = 100;
  m.commit = 99;
  m.vote = 3;
  m.reject = true;
  m.reject_hint = 42;
  m.context = std::string("ctx\0bytes", 9);
  for (uint64_t i = 101; i <= 103; ++i) {
    raft::Entry e;
    e.term = 7;
    e.index = i;
    e.type = i == 102 ? raft::EntryType::kConfChange : raft::EntryType::kNormal;
    e.data = std::string("payload-") + std::to_string(i);
    m.entries.push_back(e);
  }
  return m;
}

raft::Message SnapMessage() {
  raft::Message m;
  m.type = raft::MessageType::kMsgSnap;
  m.to = 3;
  m.from = 1;
  m.term = 9;
  auto snap = std::make_shared<raft::Snapshot>();
  snap->metadata.index = 500;
  snap->metadata.term = 8;
  snap->metadata.conf_state.voters = {1, 2, 3};
  snap->metadata.conf_state.learners = {4};
  snap->metadata.conf_state.voters_outgoing = {1, 2, 5};
  snap->metadata.conf_state.learners_next = {5};
  snap->metadata.conf_state.auto_leave = true;
  snap->data = std::string(1000, 'z');
  m.snapshot = snap;
  return m;
}

std::string Enc(const std::vector<raft::Message>& v) { return EncodeMessages(v); }

void ExpectSame(const raft::Message& a, const raft::Message& b) {
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.to, b.to);
  EXPECT_EQ(a.from, b.from);
  EXPECT_EQ(a.term, b.term);
  EXPECT_EQ(a.log_term, b.log_term);
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.commit, b.commit);
  EXPECT_EQ(a.vote, b.vote);
  EXPECT_EQ(a.reject, b.reject);
  EXPECT_EQ(a.reject_hint, b.reject_hint);
  EXPECT_EQ(std::string_view(a.context), std::string_view(b.context));
  EXPECT_EQ(a.entries, b.entries);
  ASSERT_EQ(a.snapshot == nullptr, b.snapshot == nullptr);
  if (a.snapshot) {
    EXPECT_EQ(*a.snapshot, *b.snapshot);
  }
}

TEST(KvCodec, MessagesRoundTrip) {
  std::vector<raft::Message> in = {FullMessage(), SnapMessage(), raft::Message{}};
  Result<std::vector<raft::Message>> out = DecodeMessages(Enc(in));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) ExpectSame(in[i], (*out)[i]);
}

TEST(KvCodec, EmptyBatchRoundTrips) {
  Result<std::vector<raft::Message>> out = DecodeMessages(Enc(std::vector<raft::Message>{}));
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->empty());
}

TEST(KvCodec, RejectsUnknownVersion) {
  std::string bytes = Enc({FullMessage()});
  bytes[0] = 2;
  Result<std::vector<raft::Message>> out = DecodeMessages(bytes);
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(out.status().IsCorruption());
  EXPECT_NE(out.status().ToString().find("version"), std::string::npos) << out.status().ToString();
}

TEST(KvCodec, RejectsUnknownMessageAndEntryTypes) {
  std::string bytes = Enc({FullMessage()});
  std::string bad_type = bytes;
  bad_type[2] = static_cast<char>(raft::kMessageTypeCount);  // version, count, then the type
  EXPECT_FALSE(DecodeMessages(bad_type).ok());

  Command c{CommandType::kPut, 1, "k", "v", "", false};
  std::string cmd = EncodeCommand(c);
  cmd[1] = 9;
  EXPECT_FALSE(DecodeCommand(cmd).ok());
}

TEST(KvCodec, RejectsTrailingBytes) {
  std::string bytes = Enc({FullMessage()}) + "x";
  Result<std::vector<raft::Message>> out = DecodeMessages(bytes);
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(out.status().IsCorruption());
}

TEST(KvCodec, EveryTruncationIsAnError) {
  const std::string bytes = Enc({FullMessage(), SnapMessage()});
  for (size_t n = 0; n < bytes.size(); ++n) {
    Result<std::vector<raft::Message>> out = DecodeMessages(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(out.ok()) << "prefix of " << n << " bytes decoded";
    EXPECT_TRUE(out.status().IsCorruption());
  }
}

TEST(KvCodec, HugeCountsAreRejectedBeforeAllocating) {
  // version 1, a message count of 2^62: must fail at once, not reserve.
  std::string bytes;
  bytes.push_back(1);
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>(0xff));
  bytes.push_back(0x3f);
  Result<std::vector<raft::Message>> out = DecodeMessages(bytes);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().ToString().find("message count"), std::string::npos);
}

// Fuzz-style: random mutations of valid encodings. A decode either fails
// with Corruption or yields messages that encode back to bytes that decode
// to the same messages (nothing half-understood is accepted silently).
TEST(KvCodec, RandomMutationsNeverCrash) {
  std::mt19937_64 rng(20261206);
  const std::string seeds[] = {Enc({FullMessage()}), Enc({SnapMessage()}),
                               Enc({FullMessage(), SnapMessage()})};
  int accepted = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string bytes = seeds[iter % 3];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t pos = rng() % bytes.size();
      switch (rng() % 4) {
        case 0:
          bytes[pos] = static_cast<char>(rng());
          break;
        case 1:
          bytes[pos] ^= static_cast<char>(1u << (rng() % 8));
          break;
        case 2:
          bytes.erase(pos, 1 + rng() % 8);
          break;
        default:
          bytes.insert(pos, 1 + rng() % 4, static_cast<char>(rng()));
          break;
      }
      if (bytes.empty()) bytes.push_back(1);
    }
    Result<std::vector<raft::Message>> out = DecodeMessages(bytes);
    if (!out.ok()) {
      ASSERT_TRUE(out.status().IsCorruption()) << out.status().ToString();
      continue;
    }
    ++accepted;
    Result<std::vector<raft::Message>> again = DecodeMessages(EncodeMessages(*out));
    ASSERT_TRUE(again.ok());
    ASSERT_EQ(again->size(), out->size());
    for (size_t i = 0; i < out->size(); ++i) ExpectSame((*out)[i], (*again)[i]);
  }
  // Some mutations (a changed term, say) are valid messages too.
  EXPECT_GT(accepted, 0);
}

TEST(KvCodec, RandomBytesNeverCrash) {
  std::mt19937_64 rng(7);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (!bytes.empty() && iter % 2 == 0) bytes[0] = 1;  // past the version check
    (void)DecodeMessages(bytes);
    (void)DecodeCommand(bytes);
    (void)DecodeSnapshot(bytes);
  }
}

TEST(KvCodec, CommandsRoundTrip) {
  const Command cmds[] = {
      {CommandType::kPut, 123456789, "key", "value", "", false},
      {CommandType::kDelete, 1, "k", "", "", false},
      {CommandType::kCas, UINT64_MAX, "k", "new", "old", false},
      {CommandType::kCas, 0, std::string("k\0y", 3), "new", "", true},
  };
  for (const Command& c : cmds) {
    Result<Command> out = DecodeCommand(EncodeCommand(c));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, c);
  }
  const std::string bytes = EncodeCommand(cmds[2]);
  for (size_t n = 0; n < bytes.size(); ++n) EXPECT_FALSE(DecodeCommand(bytes.substr(0, n)).ok());
}

TEST(KvCodec, SnapshotsRoundTripAndRejectDuplicates) {
  SnapshotImage image;
  image.members = {{1, "127.0.0.1:8001"}, {7, "127.0.0.1:8007"}};
  image.data = {{"a", "1"}, {"b", std::string(300, 'x')}, {"", "empty key"}};
  Result<SnapshotImage> out = DecodeSnapshot(EncodeSnapshot(image));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, image);

  // The same key twice cannot come from EncodeSnapshot: it is damage.
  SnapshotImage one;
  one.data = {{"a", "1"}};
  std::string bytes = EncodeSnapshot(one);
  bytes[2] = 2;  // key count 1 -> 2 (version, member count 0, key count)
  bytes += bytes.substr(3);
  Result<SnapshotImage> dup = DecodeSnapshot(bytes);
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().ToString().find("repeated"), std::string::npos) << dup.status().ToString();
}

}  // namespace
}  // namespace raftlog::kv
