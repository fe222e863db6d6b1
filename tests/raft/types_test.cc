#include "raftlog/raft/types.h"

#include <gtest/gtest.h>

namespace raftlog::raft {
namespace {

TEST(TypesTest, EntrySizeIsProtobufWireSize) {
  // Type, Term and Index always encoded (2 bytes each below 128), no data: 6.
  EXPECT_EQ(EntrySize(Entry{4, 4, EntryType::kNormal, {}}), 6u);
  // A 300-byte payload: tag + 2-byte length + bytes.
  EXPECT_EQ(EntrySize(Entry{4, 4, EntryType::kNormal, std::string(300, 'x')}), 6u + 3 + 300);
  // Term 128 needs a 2-byte varint.
  EXPECT_EQ(EntrySize(Entry{128, 4, EntryType::kNormal, {}}), 7u);
  EXPECT_EQ(EntrySize(Entry{1, 1ull << 63, EntryType::kConfChangeV2, "a"}), 2u + 2 + 11 + 3);
}

TEST(TypesTest, LimitSizeKeepsAtLeastOneEntry) {
  std::vector<Entry> ents = {{1, 1, EntryType::kNormal, std::string(100, 'a')},
                             {1, 2, EntryType::kNormal, "b"}};
  std::vector<Entry> one = ents;
  LimitSize(&one, 0);
  EXPECT_EQ(one.size(), 1u);
  std::vector<Entry> none;
  LimitSize(&none, 0);
  EXPECT_TRUE(none.empty());
  std::vector<Entry> both = ents;
  LimitSize(&both, EntrySize(ents[0]) + EntrySize(ents[1]));
  EXPECT_EQ(both.size(), 2u);
}

TEST(TypesTest, EmptyStatesAndNames) {
  EXPECT_TRUE(IsEmptyHardState(HardState{}));
  EXPECT_FALSE(IsEmptyHardState(HardState{0, 0, 1}));
  EXPECT_TRUE(IsEmptySnap(Snapshot{}));
  EXPECT_EQ(MessageTypeName(MessageType::kMsgStorageApplyResp), "MsgStorageApplyResp");
  EXPECT_EQ(MessageTypeName(MessageType::kMsgForgetLeader), "MsgForgetLeader");
  EXPECT_EQ(EntryTypeName(EntryType::kConfChangeV2), "EntryConfChangeV2");
  EXPECT_EQ(ConfChangeTypeName(ConfChangeType::kAddLearnerNode), "ConfChangeAddLearnerNode");
}

TEST(TypesTest, ConfStateEquivalentIgnoresOrder) {
  ConfState a{{1, 2, 3}, {4}, {}, {}, false};
  ConfState b{{3, 1, 2}, {4}, {}, {}, false};
  EXPECT_TRUE(Equivalent(a, b));
  EXPECT_FALSE(a == b);
  b.auto_leave = true;
  EXPECT_FALSE(Equivalent(a, b));
}

TEST(TypesTest, MessageEqualityComparesSnapshotContents) {
  Message a, b;
  a.snapshot = std::make_shared<Snapshot>(Snapshot{"x", {{}, 1, 1}});
  EXPECT_FALSE(a == b);
  b.snapshot = std::make_shared<Snapshot>(Snapshot{"x", {{}, 1, 1}});
  EXPECT_TRUE(a == b);
}

}  // namespace
}  // namespace raftlog::raft
