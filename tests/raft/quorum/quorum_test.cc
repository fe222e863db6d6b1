#include "raftlog/raft/quorum/quorum.h"

#include <gtest/gtest.h>

namespace raftlog::raft::quorum {
namespace {

TEST(QuorumTest, NamesAreEtcds) {
  EXPECT_EQ(VoteResultName(VoteResult::kVotePending), "VotePending");
  EXPECT_EQ(VoteResultName(VoteResult::kVoteLost), "VoteLost");
  EXPECT_EQ(VoteResultName(VoteResult::kVoteWon), "VoteWon");
  // etcd numbers the results from 1.
  EXPECT_EQ(static_cast<int>(VoteResult::kVotePending), 1);
}

TEST(QuorumTest, IndexStringPrintsInfinity) {
  EXPECT_EQ(IndexString(0), "0");
  EXPECT_EQ(IndexString(12345), "12345");
  EXPECT_EQ(IndexString(kInfiniteIndex), "∞");
  EXPECT_EQ(IndexString(kInfiniteIndex - 1), "18446744073709551614");
}

TEST(QuorumTest, MapAckIndexerTellsUnknownFromZero) {
  MapAckIndexer acked{{1, 0}, {2, 7}};
  EXPECT_EQ(acked.AckedIndex(1), std::optional<Index>(0));
  EXPECT_EQ(acked.AckedIndex(2), std::optional<Index>(7));
  EXPECT_EQ(acked.AckedIndex(3), std::nullopt);
  acked.Set(3, 9);
  acked.Erase(1);
  EXPECT_EQ(acked.AckedIndex(3), std::optional<Index>(9));
  EXPECT_EQ(acked.AckedIndex(1), std::nullopt);
  EXPECT_EQ(acked.acked().size(), 2u);
}

}  // namespace
}  // namespace raftlog::raft::quorum
