// The leader's inflight window (flow control): a port of etcd raft's
// raft_flow_control_test.go. Runs on MemoryStorage and DiskStorage.

#include <gtest/gtest.h>

#include <vector>

#include "raftlog/raft/internal/raft.h"
#include "tests/raft/testutil/raft_test_util.h"

namespace raftlog::raft::testing {
namespace {

class RaftFlowControlTest : public RaftTestBase {};

// Ports etcd's TestMsgAppFlowControlFull:
// 1. msgApp can fill the sending window until full
// 2. when the window is full, no more msgApp can be sent.
TEST_P(RaftFlowControlTest, MsgAppFlowControlFull) {
  auto r = NewTestRaft(1, 5, 1, NewStorage({1, 2}));
  r->BecomeCandidate();
  r->BecomeLeader();

  tracker::Progress& pr2 = r->trk().progress[2];
  // force the progress to be in replicate state
  pr2.BecomeReplicate();
  // fill in the inflights window
  for (size_t i = 0; i < r->trk().max_inflight; ++i) {
    (void)r->Step(PropMsg(1, 1));
    std::vector<Message> ms = ReadMessages(*r);
    ASSERT_EQ(ms.size(), 1u) << "#" << i;
    ASSERT_EQ(ms[0].type, MessageType::kMsgApp) << "#" << i;
  }

  // ensure 1
  ASSERT_TRUE(pr2.IsPaused());

  // ensure 2
  for (int i = 0; i < 10; ++i) {
    (void)r->Step(PropMsg(1, 1));
    ASSERT_TRUE(ReadMessages(*r).empty()) << "#" << i;
  }
}

// Ports etcd's TestMsgAppFlowControlMoveForward: msgAppResp moves the
// sending window forward correctly:
// 1. a valid msgAppResp.index moves the window past all smaller or equal
//    indexes.
// 2. an out-of-date msgAppResp has no effect on the sliding window.
TEST_P(RaftFlowControlTest, MsgAppFlowControlMoveForward) {
  auto r = NewTestRaft(1, 5, 1, NewStorage({1, 2}));
  r->BecomeCandidate();
  r->BecomeLeader();

  tracker::Progress& pr2 = r->trk().progress[2];
  // force the progress to be in replicate state
  pr2.BecomeReplicate();
  // fill in the inflights window
  for (size_t i = 0; i < r->trk().max_inflight; ++i) {
    (void)r->Step(PropMsg(1, 1));
    ReadMessages(*r);
  }

  // 1 is noop, 2 is the first proposal we just sent. so we start with 2.
  for (uint64_t tt = 2; tt < r->trk().max_inflight; ++tt) {
    // move forward the window
    Message resp = Msg(2, 1, MessageType::kMsgAppResp);
    resp.index = tt;
    (void)r->Step(resp);
    ReadMessages(*r);

    // fill in the inflights window again
    (void)r->Step(PropMsg(1, 1));
    std::vector<Message> ms = ReadMessages(*r);
    ASSERT_EQ(ms.size(), 1u) << tt;
    ASSERT_EQ(ms[0].type, MessageType::kMsgApp) << tt;

    // ensure 1
    ASSERT_TRUE(pr2.IsPaused()) << tt;

    // ensure 2
    for (uint64_t i = 0; i < tt; ++i) {
      Message stale = Msg(2, 1, MessageType::kMsgAppResp);
      stale.index = i;
      (void)r->Step(stale);
      ASSERT_TRUE(pr2.IsPaused()) << tt << "." << i;
    }
  }
}

// Ports etcd's TestMsgAppFlowControlRecvHeartbeat: a heartbeat response
// frees one slot if the window is full.
TEST_P(RaftFlowControlTest, MsgAppFlowControlRecvHeartbeat) {
  auto r = NewTestRaft(1, 5, 1, NewStorage({1, 2}));
  r->BecomeCandidate();
  r->BecomeLeader();

  tracker::Progress& pr2 = r->trk().progress[2];
  // force the progress to be in replicate state
  pr2.BecomeReplicate();
  // fill in the inflights window
  for (size_t i = 0; i < r->trk().max_inflight; ++i) {
    (void)r->Step(PropMsg(1, 1));
    ReadMessages(*r);
  }

  for (int tt = 1; tt < 5; ++tt) {
    // recv tt msgHeartbeatResp and expect one free slot
    for (int i = 0; i < tt; ++i) {
      ASSERT_TRUE(pr2.IsPaused()) << tt << "." << i;
      // Unpauses the progress, sends an empty MsgApp, and pauses it again.
      (void)r->Step(Msg(2, 1, MessageType::kMsgHeartbeatResp));
      std::vector<Message> ms = ReadMessages(*r);
      ASSERT_EQ(ms.size(), 1u) << tt << "." << i;
      ASSERT_EQ(ms[0].type, MessageType::kMsgApp) << tt << "." << i;
      ASSERT_TRUE(ms[0].entries.empty()) << tt << "." << i;
    }

    // No more appends are sent if there are no heartbeats.
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(pr2.IsPaused()) << tt << "." << i;
      (void)r->Step(PropMsg(1, 1));
      ASSERT_TRUE(ReadMessages(*r).empty()) << tt << "." << i;
    }

    // clear all pending messages.
    (void)r->Step(Msg(2, 1, MessageType::kMsgHeartbeatResp));
    ReadMessages(*r);
  }
}

INSTANTIATE_TEST_SUITE_P(Storage, RaftFlowControlTest,
                         ::testing::Values(StorageKind::kMemory, StorageKind::kDisk),
                         StorageKindName);

}  // namespace
}  // namespace raftlog::raft::testing
