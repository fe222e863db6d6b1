#include "raftlog/raft/internal/read_only.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/raft/internal/log_test_util.h"

namespace raftlog::raft::internal {
namespace {

// A majority's view of the acks, as etcd's quorum.MajorityConfig.CommittedIndex
// computes it over ReadOnly's AckedIndex: the highest position acknowledged
// by a majority of `voters` (a voter that acknowledged nothing counts as 0).
uint64_t QuorumAcked(const ReadOnly& ro, const std::vector<uint64_t>& voters) {
  std::vector<uint64_t> acked;
  for (uint64_t id : voters) acked.push_back(ro.AckedIndex(id).value_or(0));
  std::sort(acked.begin(), acked.end(), std::greater<>());
  return acked[voters.size() / 2];
}

// The heartbeat context for read position `pos`: 8 bytes, little-endian.
std::string Ctx(uint64_t pos) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((pos >> (8 * i)) & 0xff);
  return out;
}

Message ReadIndexMsg(uint64_t from, std::string request_ctx) {
  Message m;
  m.type = MessageType::kMsgReadIndex;
  m.from = from;
  m.entries.push_back(Entry{0, 0, EntryType::kNormal, std::move(request_ctx)});
  return m;
}

std::vector<std::string> RequestCtxs(const std::vector<ReadIndexRequest>& reqs) {
  std::vector<std::string> out;
  for (const ReadIndexRequest& r : reqs) out.push_back(r.req.entries.at(0).data.ToString());
  return out;
}

const std::vector<uint64_t> kVoters = {1, 2, 3};

TEST(ReadOnlyTest, HeartbeatCtxIsTheLastQueuedPositionLittleEndian) {
  ReadOnly ro(ReadOnlyOption::kReadOnlySafe);
  EXPECT_EQ(ro.option(), ReadOnlyOption::kReadOnlySafe);
  EXPECT_EQ(ro.HeartbeatCtx(), "");  // nothing pending: heartbeats carry no context
  ro.AddRequest(5, ReadIndexMsg(1, "a"));
  EXPECT_EQ(ro.HeartbeatCtx(), Ctx(1));
  ro.AddRequest(5, ReadIndexMsg(1, "b"));
  ro.AddRequest(6, ReadIndexMsg(2, "c"));
  EXPECT_EQ(ro.HeartbeatCtx(), std::string("\x03\0\0\0\0\0\0\0", 8));
  EXPECT_EQ(ro.unconfirmed_reads().size(), 3u);
  EXPECT_EQ(ro.confirmed_reads(), 0u);
  // Positions continue across confirmations.
  ro.RecvAck(1, Ctx(2));
  ro.RecvAck(2, Ctx(2));
  EXPECT_EQ(RequestCtxs(ro.MaybeAdvance(QuorumAcked(ro, kVoters))),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ro.HeartbeatCtx(), Ctx(3));
  EXPECT_EQ(ro.confirmed_reads(), 2u);
}

TEST(ReadOnlyTest, RecvAckKeepsTheHighestPositionPerVoter) {
  ReadOnly ro(ReadOnlyOption::kReadOnlySafe);
  EXPECT_EQ(ro.AckedIndex(2), std::nullopt);
  ro.RecvAck(2, Ctx(4));
  ro.RecvAck(2, Ctx(3));  // a reordered, older response
  EXPECT_EQ(ro.AckedIndex(2), 4u);
  ro.RecvAck(2, "");  // a heartbeat sent with no read pending
  ro.RecvAck(3, "");
  ro.RecvAck(3, std::string("\x07", 1));  // not a position
  EXPECT_EQ(ro.AckedIndex(2), 4u);
  EXPECT_EQ(ro.AckedIndex(3), std::nullopt);
  // Only the first 8 bytes are the position (etcd's binary.LittleEndian.Uint64).
  ro.RecvAck(3, Ctx(9) + "trailing");
  EXPECT_EQ(ro.AckedIndex(3), 9u);
}

// The ReadIndex flow of raft.go in ReadOnlySafe mode: the leader queues the
// read, acks it itself, and releases it once a quorum of heartbeat responses
// echoes a position at or past it.
TEST(ReadOnlyTest, QuorumOfAcksReleasesReadsInOrder) {
  ReadOnly ro(ReadOnlyOption::kReadOnlySafe);
  ro.AddRequest(10, ReadIndexMsg(1, "a"));
  ro.RecvAck(1, ro.HeartbeatCtx());  // the leader acks its own heartbeat
  EXPECT_TRUE(ro.MaybeAdvance(QuorumAcked(ro, kVoters)).empty());  // 1 of 3

  // More reads arrive before the first round completes.
  const std::string first_round = ro.HeartbeatCtx();
  ro.AddRequest(11, ReadIndexMsg(2, "b"));
  ro.AddRequest(12, ReadIndexMsg(3, "c"));
  ro.RecvAck(1, ro.HeartbeatCtx());
  const std::string second_round = ro.HeartbeatCtx();

  // Follower 2 answers the first heartbeat: only "a" has a quorum.
  ro.RecvAck(2, first_round);
  std::vector<ReadIndexRequest> released = ro.MaybeAdvance(QuorumAcked(ro, kVoters));
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].index, 10u);
  EXPECT_EQ(released[0].req.from, 1u);
  EXPECT_EQ(released[0].req.entries.at(0).data, "a");

  // Follower 3 answers the second heartbeat: one round confirms both.
  ro.RecvAck(3, second_round);
  released = ro.MaybeAdvance(QuorumAcked(ro, kVoters));
  EXPECT_EQ(RequestCtxs(released), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(released[0].index, 11u);
  EXPECT_EQ(released[1].index, 12u);
  EXPECT_TRUE(ro.unconfirmed_reads().empty());
  EXPECT_EQ(ro.HeartbeatCtx(), "");

  // Late or duplicate responses release nothing more.
  ro.RecvAck(2, second_round);
  EXPECT_TRUE(ro.MaybeAdvance(QuorumAcked(ro, kVoters)).empty());
}

// v3.6 keyed acks by request context, so two reads with the same context
// collided (TestReadOnlyDuplicateRequest); positions keep them apart.
TEST(ReadOnlyTest, DuplicateRequestContextsAreDistinctReads) {
  ReadOnly ro(ReadOnlyOption::kReadOnlySafe);
  ro.AddRequest(3, ReadIndexMsg(1, "same"));
  const std::string ctx1 = ro.HeartbeatCtx();
  ro.AddRequest(4, ReadIndexMsg(1, "same"));
  ro.RecvAck(1, ctx1);
  ro.RecvAck(2, ctx1);
  std::vector<ReadIndexRequest> released = ro.MaybeAdvance(QuorumAcked(ro, kVoters));
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].index, 3u);
  ro.RecvAck(1, ro.HeartbeatCtx());
  ro.RecvAck(3, ro.HeartbeatCtx());
  released = ro.MaybeAdvance(QuorumAcked(ro, kVoters));
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].index, 4u);
}

TEST(ReadOnlyTest, LeaseBasedOptionIsRemembered) {
  ReadOnly ro(ReadOnlyOption::kReadOnlyLeaseBased);
  EXPECT_EQ(ro.option(), ReadOnlyOption::kReadOnlyLeaseBased);
}

TEST(ReadOnlyTest, ReadStateComparesByValue) {
  EXPECT_EQ((ReadState{5, "ctx"}), (ReadState{5, "ctx"}));
  EXPECT_NE((ReadState{5, "ctx"}), (ReadState{6, "ctx"}));
  EXPECT_NE((ReadState{5, "ctx"}), (ReadState{5, "other"}));
}

using ReadOnlyDeathTest = testing::DeathTestBase;

TEST_F(ReadOnlyDeathTest, QuorumPastTheLastHandedOutPositionIsABug) {
  ReadOnly ro(ReadOnlyOption::kReadOnlySafe);
  ro.AddRequest(1, ReadIndexMsg(1, "a"));
  EXPECT_DEATH((void)ro.MaybeAdvance(2), "never handed out");
}

}  // namespace
}  // namespace raftlog::raft::internal
