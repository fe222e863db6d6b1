// The leader's handling of snapshots sent to followers: a port of etcd
// raft's raft_snap_test.go. Runs on MemoryStorage and DiskStorage.

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "raftlog/raft/internal/raft.h"
#include "tests/raft/testutil/raft_test_util.h"

namespace raftlog::raft::testing {
namespace {

class RaftSnapTest : public RaftTestBase {
 protected:
  // etcd's testingSnap.
  static std::shared_ptr<const Snapshot> TestingSnap() {
    auto s = std::make_shared<Snapshot>();
    s->metadata.index = 11;  // magic number
    s->metadata.term = 11;   // magic number
    s->metadata.conf_state.voters = {1, 2};
    return s;
  }

  // A leader (at term 12) whose log was restored from TestingSnap().
  std::unique_ptr<Raft> NewLeaderFromSnap(std::vector<uint64_t> peers) {
    auto sm = NewTestRaft(1, 10, 1, NewStorage(std::move(peers)));
    sm->BecomeFollower(TestingSnap()->metadata.term, 0);
    EXPECT_TRUE(sm->Restore(TestingSnap()));
    sm->BecomeCandidate();
    sm->BecomeLeader();
    return sm;
  }
};

// Ports etcd's TestSendingSnapshotSetPendingSnapshot.
TEST_P(RaftSnapTest, SendingSnapshotSetPendingSnapshot) {
  auto sm = NewLeaderFromSnap({1});

  // force set the next of node 2, so that node 2 needs a snapshot
  sm->trk().progress[2].next = sm->raft_log().FirstIndex();

  Message m = Msg(2, 1, MessageType::kMsgAppResp);
  m.index = sm->trk().progress[2].next - 1;
  m.reject = true;
  (void)sm->Step(m);
  EXPECT_EQ(sm->trk().progress[2].pending_snapshot, 11u);
}

// Ports etcd's TestPendingSnapshotPauseReplication.
TEST_P(RaftSnapTest, PendingSnapshotPauseReplication) {
  auto sm = NewLeaderFromSnap({1, 2});

  sm->trk().progress[2].BecomeSnapshot(11);

  (void)sm->Step(PropMsg(1, 1));
  EXPECT_TRUE(ReadMessages(*sm).empty());
}

// Ports etcd's TestSnapshotFailure.
TEST_P(RaftSnapTest, SnapshotFailure) {
  auto sm = NewLeaderFromSnap({1, 2});

  sm->trk().progress[2].next = 1;
  sm->trk().progress[2].BecomeSnapshot(11);

  Message m = Msg(2, 1, MessageType::kMsgSnapStatus);
  m.reject = true;
  (void)sm->Step(m);
  EXPECT_EQ(sm->trk().progress[2].pending_snapshot, 0u);
  EXPECT_EQ(sm->trk().progress[2].next, 1u);
  EXPECT_TRUE(sm->trk().progress[2].msg_app_flow_paused);
}

// Ports etcd's TestSnapshotSucceed.
TEST_P(RaftSnapTest, SnapshotSucceed) {
  auto sm = NewLeaderFromSnap({1, 2});

  sm->trk().progress[2].next = 1;
  sm->trk().progress[2].BecomeSnapshot(11);

  Message m = Msg(2, 1, MessageType::kMsgSnapStatus);
  m.reject = false;
  (void)sm->Step(m);
  EXPECT_EQ(sm->trk().progress[2].pending_snapshot, 0u);
  EXPECT_EQ(sm->trk().progress[2].next, 12u);
  EXPECT_TRUE(sm->trk().progress[2].msg_app_flow_paused);
}

// Ports etcd's TestSnapshotAbort.
TEST_P(RaftSnapTest, SnapshotAbort) {
  auto sm = NewLeaderFromSnap({1, 2});

  sm->trk().progress[2].next = 1;
  sm->trk().progress[2].BecomeSnapshot(11);

  // A successful msgAppResp that has a higher/equal index than the pending
  // snapshot should abort the pending snapshot.
  Message m = Msg(2, 1, MessageType::kMsgAppResp);
  m.index = 11;
  (void)sm->Step(m);
  EXPECT_EQ(sm->trk().progress[2].pending_snapshot, 0u);
  // The follower entered StateReplicate and the leader sent an append and
  // optimistically updated the progress (so we see 13 instead of 12).
  // There is something to append because the leader appended an empty entry
  // to the log at index 12 when it assumed leadership.
  EXPECT_EQ(sm->trk().progress[2].next, 13u);
  EXPECT_EQ(sm->trk().progress[2].inflights.Count(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Storage, RaftSnapTest,
                         ::testing::Values(StorageKind::kMemory, StorageKind::kDisk),
                         StorageKindName);

}  // namespace
}  // namespace raftlog::raft::testing
