#include "raftlog/raft/quorum/majority.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace raftlog::raft::quorum {
namespace {

// Ports etcd's quorum/majority_test.go (TestDescribe).
TEST(MajorityConfigTest, Describe) {
  struct Case {
    std::string_view name;
    MapAckIndexer indexer;
    std::string_view want;
  };
  const MajorityConfig c{1, 2, 3};
  const Case kCases[] = {
      {"different commit index for each voter",
       {{1, 101}, {2, 102}, {3, 103}},
       "       idx\n"
       ">      101    (id=1)\n"
       "x>     102    (id=2)\n"
       "xx>    103    (id=3)\n"},
      {"same commit index for all voters",
       {{1, 100}, {2, 100}, {3, 100}},
       "       idx\n"
       ">      100    (id=1)\n"
       ">      100    (id=2)\n"
       ">      100    (id=3)\n"},
      {"same commit index for part of the voters",
       {{1, 100}, {2, 102}, {3, 102}},
       "       idx\n"
       ">      100    (id=1)\n"
       "x>     102    (id=2)\n"
       "x>     102    (id=3)\n"},
      {"missing some commit indexes",
       {{1, 101}, {3, 103}},
       "       idx\n"
       "x>     101    (id=1)\n"
       "?        0    (id=2)\n"
       "xx>    103    (id=3)\n"},
  };
  for (const Case& tc : kCases) {
    EXPECT_EQ(c.Describe(tc.indexer), tc.want) << tc.name;
  }
  EXPECT_EQ(MajorityConfig().Describe(MapAckIndexer()), "<empty majority quorum>");
}

TEST(MajorityConfigTest, IsAnOrderedSet) {
  MajorityConfig c{3, 1, 2, 3};
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c.Slice(), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_FALSE(c.Insert(2));
  EXPECT_TRUE(c.Insert(0));
  EXPECT_TRUE(c.Insert(10));
  EXPECT_EQ(c.String(), "(0 1 2 3 10)");
  EXPECT_TRUE(c.Erase(0));
  EXPECT_FALSE(c.Erase(0));
  EXPECT_TRUE(c.Contains(10));
  EXPECT_FALSE(c.Contains(4));
  EXPECT_EQ(std::vector<uint64_t>(c.begin(), c.end()), (std::vector<uint64_t>{1, 2, 3, 10}));
  EXPECT_EQ(c, (MajorityConfig{10, 3, 2, 1}));
  c.clear();
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.String(), "()");
  EXPECT_TRUE(c.Slice().empty());
}

TEST(MajorityConfigTest, EmptyConfigCommitsEverythingAndWinsEveryVote) {
  const MajorityConfig empty;
  EXPECT_EQ(empty.CommittedIndex(MapAckIndexer{{1, 5}}), kInfiniteIndex);
  EXPECT_EQ(empty.VoteResult({{1, false}}), VoteResult::kVoteWon);
}

TEST(MajorityConfigTest, CommittedIndexOfLargeConfigUsesTheHeapPath) {
  // Nine voters exceed the on-stack buffer of seven.
  MajorityConfig c;
  MapAckIndexer acked;
  for (uint64_t id = 1; id <= 9; ++id) {
    c.Insert(id);
    acked.Set(id, id * 10);
  }
  // Five of nine (a majority) acknowledged 50 or more.
  EXPECT_EQ(c.CommittedIndex(acked), 50u);
  acked.Erase(9);  // unknown counts as 0
  EXPECT_EQ(c.CommittedIndex(acked), 40u);
}

TEST(MajorityConfigTest, VotesOfNonMembersAreIgnored) {
  const MajorityConfig c{1, 2, 3};
  EXPECT_EQ(c.VoteResult({{4, true}, {5, true}, {1, true}}), VoteResult::kVotePending);
  EXPECT_EQ(c.VoteResult({{4, false}, {1, true}, {2, true}}), VoteResult::kVoteWon);
}

}  // namespace
}  // namespace raftlog::raft::quorum
