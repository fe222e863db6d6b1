#include "raftlog/raft/quorum/joint.h"

#include <gtest/gtest.h>

namespace raftlog::raft::quorum {
namespace {

TEST(JointConfigTest, StringShowsBothHalvesOnlyWhenJoint) {
  EXPECT_EQ((JointConfig{{1, 2, 3}, {}}).String(), "(1 2 3)");
  EXPECT_EQ((JointConfig{{1, 2, 3}, {1}}).String(), "(1 2 3)&&(1)");
  EXPECT_EQ((JointConfig{{}, {}}).String(), "()");
  // An empty incoming half with a non-empty outgoing one still prints both.
  EXPECT_EQ((JointConfig{{}, {4}}).String(), "()&&(4)");
}

TEST(JointConfigTest, IDsIsTheUnion) {
  EXPECT_EQ((JointConfig{{1, 2, 3}, {2, 3, 4}}).IDs(), (MajorityConfig{1, 2, 3, 4}));
  EXPECT_EQ((JointConfig{{}, {7}}).IDs(), (MajorityConfig{7}));
  EXPECT_TRUE((JointConfig{}).IDs().empty());
}

TEST(JointConfigTest, DescribeCoversTheUnion) {
  const JointConfig c{{1, 2}, {2, 3}};
  EXPECT_EQ(c.Describe(MapAckIndexer{{1, 7}, {3, 9}}),
            "       idx\n"
            "x>       7    (id=1)\n"
            "?        0    (id=2)\n"
            "xx>      9    (id=3)\n");
}

TEST(JointConfigTest, CommittedIndexIsTheMinOfTheHalves) {
  const JointConfig c{{1, 2, 3}, {4, 5, 6}};
  const MapAckIndexer acked{{1, 10}, {2, 10}, {3, 1}, {4, 8}, {5, 8}, {6, 20}};
  EXPECT_EQ(c.incoming.CommittedIndex(acked), 10u);
  EXPECT_EQ(c.outgoing.CommittedIndex(acked), 8u);
  EXPECT_EQ(c.CommittedIndex(acked), 8u);
  // Both halves empty: nothing constrains the commit.
  EXPECT_EQ(JointConfig{}.CommittedIndex(acked), kInfiniteIndex);
}

}  // namespace
}  // namespace raftlog::raft::quorum
