// The kv state machine and the log writer thread.

#include <gtest/gtest.h>



#include "kv/state_machine.h"
#include "raftlog/raft/util.h"

namespace raftlog::kv {
namespace {

TEST(KvStateMachine, PutDeleteCas) {
  StateMachine sm;
  ApplyResult r = sm.Apply({CommandType::kPut, 1, "k", "a", "", false});
  EXPECT_TRUE(r.ok);
  EXPECT_FALSE(r.previous.has_value());
  EXPECT_EQ(sm.Get("k"), "a");

  r = sm.Apply({CommandType::kCas, 2, "k", "b", "x", false});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.previous, "a");
  EXPECT_EQ(sm.Get("k"), "a");

  r = sm.Apply({CommandType::kCas, 3, "k", "b", "a", false});
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(sm.Get("k"), "b");

  r = sm.Apply({CommandType::kCas, 4, "k", "c", "", true});  // expects absent
  EXPECT_FALSE(r.ok);
  r = sm.Apply({CommandType::kDelete, 5, "k", "", "", false});
  EXPECT_EQ(r.previous, "b");
  EXPECT_FALSE(sm.Get("k").has_value());
  r = sm.Apply({CommandType::kCas, 6, "k", "c", "", true});
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(sm.Get("k"), "c");
}

TEST(KvStateMachine, ImageRestoresEverything) {
  StateMachine a;
  a.Apply({CommandType::kPut, 1, "x", "1", "", false});
  a.Apply({CommandType::kPut, 2, "y", "2", "", false});
  a.SetMember(1, "127.0.0.1:1");
  a.SetMember(2, "127.0.0.1:2");
  a.RemoveMember(2);
  StateMachine b;
  b.Apply({CommandType::kPut, 3, "stale", "z", "", false});
  Result<SnapshotImage> image = DecodeSnapshot(EncodeSnapshot(a.Image()));
  ASSERT_TRUE(image.ok());
  b.Restore(std::move(image).value());
  EXPECT_EQ(b.Image(), a.Image());
  EXPECT_FALSE(b.Get("stale").has_value());
  EXPECT_EQ(b.members().size(), 1u);
}

}  // namespace
}  // namespace raftlog::kv
