// Ports etcd raft's tracker/progress_test.go, plus the flow-control and
// sent-commit transitions of progress.go that etcd covers in raft_test.go.

#include "raftlog/raft/tracker/progress.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace raftlog::raft::tracker {
namespace {

constexpr StateType kProbe = StateType::kStateProbe;
constexpr StateType kReplicate = StateType::kStateReplicate;
constexpr StateType kSnapshot = StateType::kStateSnapshot;

Progress Make(StateType state, uint64_t match, uint64_t next, size_t max_inflight = 256) {
  Progress pr;
  pr.state = state;
  pr.match = match;
  pr.next = next;
  pr.inflights = Inflights(max_inflight, 0);
  return pr;
}

TEST(ProgressTest, StateNames) {
  EXPECT_EQ(StateTypeName(kProbe), "StateProbe");
  EXPECT_EQ(StateTypeName(kReplicate), "StateReplicate");
  EXPECT_EQ(StateTypeName(kSnapshot), "StateSnapshot");
}

// TestProgressString.
TEST(ProgressTest, String) {
  Inflights ins(1, 0);
  ins.Add(123, 1);
  Progress pr;
  pr.match = 2;
  pr.next = 3;
  pr.state = kSnapshot;
  pr.pending_snapshot = 123;
  pr.recent_active = false;
  pr.msg_app_flow_paused = true;
  pr.is_learner = true;
  pr.inflights = ins;
  EXPECT_EQ(
      pr.String(),
      "StateSnapshot match=2 next=3 learner paused pendingSnap=123 inactive inflight=1[full]");

  Progress plain = Make(kReplicate, 5, 7);
  plain.recent_active = true;
  EXPECT_EQ(plain.String(), "StateReplicate match=5 next=7");
  plain.inflights.Add(6, 10);
  EXPECT_EQ(plain.String(), "StateReplicate match=5 next=7 inflight=1");
}

// TestProgressIsPaused.
TEST(ProgressTest, IsPaused) {
  struct Case {
    StateType state;
    bool paused;
    bool want;
  };
  const Case kCases[] = {
      {kProbe, false, false},   {kProbe, true, true},     {kReplicate, false, false},
      {kReplicate, true, true}, {kSnapshot, false, true}, {kSnapshot, true, true},
  };
  for (const Case& tc : kCases) {
    Progress p = Make(tc.state, 0, 1);
    p.msg_app_flow_paused = tc.paused;
    EXPECT_EQ(p.IsPaused(), tc.want) << StateTypeName(tc.state) << " paused=" << tc.paused;
  }
}

// TestProgressResume: MaybeUpdate and MaybeDecrTo unpause the flow.
TEST(ProgressTest, Resume) {
  Progress p;
  p.next = 2;
  p.msg_app_flow_paused = true;
  p.MaybeDecrTo(1, 1);
  EXPECT_FALSE(p.msg_app_flow_paused);
  p.msg_app_flow_paused = true;
  p.MaybeUpdate(2);
  EXPECT_FALSE(p.msg_app_flow_paused);
}

// TestProgressBecomeProbe.
TEST(ProgressTest, BecomeProbe) {
  const uint64_t match = 1;
  struct Case {
    Progress p;
    uint64_t want_next;
  };
  Progress snapshot_finish = Make(kSnapshot, match, 5);
  snapshot_finish.pending_snapshot = 10;
  Progress snapshot_failure = Make(kSnapshot, match, 5);
  snapshot_failure.pending_snapshot = 0;
  Case cases[] = {
      {Make(kReplicate, match, 5), 2},
      {snapshot_finish, 11},  // the snapshot was sent: probe after it
      {snapshot_failure, 2},
  };
  for (Case& tc : cases) {
    tc.p.BecomeProbe();
    EXPECT_EQ(tc.p.state, kProbe);
    EXPECT_EQ(tc.p.match, match);
    EXPECT_EQ(tc.p.next, tc.want_next);
    EXPECT_EQ(tc.p.pending_snapshot, 0u);
    EXPECT_FALSE(tc.p.msg_app_flow_paused);
  }
}

// TestProgressBecomeReplicate.
TEST(ProgressTest, BecomeReplicate) {
  Progress p = Make(kProbe, 1, 5);
  p.msg_app_flow_paused = true;
  p.BecomeReplicate();
  EXPECT_EQ(p.state, kReplicate);
  EXPECT_EQ(p.match, 1u);
  EXPECT_EQ(p.next, p.match + 1);
  EXPECT_FALSE(p.msg_app_flow_paused);
}

// TestProgressBecomeSnapshot.
TEST(ProgressTest, BecomeSnapshot) {
  Progress p = Make(kProbe, 1, 5);
  p.BecomeSnapshot(10);
  EXPECT_EQ(p.state, kSnapshot);
  EXPECT_EQ(p.match, 1u);
  EXPECT_EQ(p.pending_snapshot, 10u);
  // In StateSnapshot, next == pending_snapshot + 1 == sent_commit + 1.
  EXPECT_EQ(p.next, 11u);
  EXPECT_EQ(p.sent_commit, 10u);
  EXPECT_TRUE(p.IsPaused());
}

// TestProgressUpdate.
TEST(ProgressTest, MaybeUpdate) {
  const uint64_t prev_m = 3;
  const uint64_t prev_n = 5;
  struct Case {
    uint64_t update;
    uint64_t want_match;
    uint64_t want_next;
    bool want_ok;
  };
  const Case kCases[] = {
      {prev_m - 1, prev_m, prev_n, false},         // do not decrease match, next
      {prev_m, prev_m, prev_n, false},             // do not decrease next
      {prev_m + 1, prev_m + 1, prev_n, true},      // increase match, do not decrease next
      {prev_m + 2, prev_m + 2, prev_n + 1, true},  // increase match, next
  };
  for (const Case& tc : kCases) {
    Progress p;
    p.match = prev_m;
    p.next = prev_n;
    EXPECT_EQ(p.MaybeUpdate(tc.update), tc.want_ok) << tc.update;
    EXPECT_EQ(p.match, tc.want_match) << tc.update;
    EXPECT_EQ(p.next, tc.want_next) << tc.update;
  }
}

// TestProgressMaybeDecr.
TEST(ProgressTest, MaybeDecrTo) {
  struct Case {
    StateType state;
    uint64_t match;
    uint64_t next;
    uint64_t rejected;
    uint64_t last;
    bool want;
    uint64_t want_next;
  };
  const Case kCases[] = {
      // Replicate, and rejected is not greater than match.
      {kReplicate, 5, 10, 5, 5, false, 10},
      {kReplicate, 5, 10, 4, 4, false, 10},
      // Replicate, rejected above match: straight back to match + 1.
      {kReplicate, 5, 10, 9, 9, true, 6},
      // next - 1 != rejected is always stale (next 0 wraps around).
      {kProbe, 0, 0, 0, 0, false, 0},
      {kProbe, 0, 10, 5, 5, false, 10},
      // next > 1: decremented by one.
      {kProbe, 0, 10, 9, 9, true, 9},
      {kProbe, 0, 2, 1, 1, true, 1},
      // next <= 1: reset to 1.
      {kProbe, 0, 1, 0, 0, true, 1},
      // Decrease to min(rejected, last + 1).
      {kProbe, 0, 10, 9, 2, true, 3},
      // Rejected < 1: reset to 1.
      {kProbe, 0, 10, 9, 0, true, 1},
  };
  for (const Case& tc : kCases) {
    Progress p;
    p.state = tc.state;
    p.match = tc.match;
    p.next = tc.next;
    SCOPED_TRACE(p.String() + " rejected=" + std::to_string(tc.rejected) +
                 " last=" + std::to_string(tc.last));
    EXPECT_EQ(p.MaybeDecrTo(tc.rejected, tc.last), tc.want);
    EXPECT_EQ(p.match, tc.match);
    EXPECT_EQ(p.next, tc.want_next);
  }
}

TEST(ProgressTest, SentEntriesInReplicateFillsTheWindowThenPauses) {
  Progress p = Make(kReplicate, 5, 6, /*max_inflight=*/2);
  p.SentEntries(3, 30);  // entries 6..8
  EXPECT_EQ(p.next, 9u);
  EXPECT_EQ(p.inflights.Count(), 1u);
  EXPECT_FALSE(p.msg_app_flow_paused);
  p.SentEntries(1, 10);  // entry 9 fills the window of two messages
  EXPECT_EQ(p.next, 10u);
  EXPECT_TRUE(p.inflights.Full());
  EXPECT_TRUE(p.msg_app_flow_paused);
  EXPECT_TRUE(p.IsPaused());
  // An empty MsgApp sent while full stays a probe.
  p.SentEntries(0, 0);
  EXPECT_EQ(p.next, 10u);
  EXPECT_TRUE(p.msg_app_flow_paused);
  // The acknowledgement of 8 frees the first message and unpauses.
  EXPECT_TRUE(p.MaybeUpdate(8));
  p.inflights.FreeLE(8);
  EXPECT_FALSE(p.IsPaused());
  EXPECT_FALSE(p.inflights.Full());
}

TEST(ProgressTest, SentEntriesInProbePausesOnlyAfterEntries) {
  Progress p = Make(kProbe, 0, 1);
  p.SentEntries(0, 0);
  EXPECT_FALSE(p.msg_app_flow_paused);
  p.SentEntries(2, 20);
  EXPECT_TRUE(p.msg_app_flow_paused);
  EXPECT_EQ(p.next, 1u);  // probes do not advance next
  EXPECT_EQ(p.inflights.Count(), 0u);
}

TEST(ProgressDeathTest, SentEntriesInSnapshotAborts) {
  Progress p = Make(kProbe, 0, 1);
  p.BecomeSnapshot(10);
  EXPECT_DEATH(p.SentEntries(1, 1), "sending append in unhandled state StateSnapshot");
}

TEST(ProgressTest, CanBumpCommit) {
  Progress p = Make(kReplicate, 5, 11);
  EXPECT_FALSE(p.CanBumpCommit(0));
  EXPECT_TRUE(p.CanBumpCommit(3));
  p.SentCommit(7);
  EXPECT_FALSE(p.CanBumpCommit(7));  // already sent
  EXPECT_TRUE(p.CanBumpCommit(8));
  p.SentCommit(10);  // covers every entry the follower may have (next - 1)
  EXPECT_FALSE(p.CanBumpCommit(12));
}

TEST(ProgressTest, SentCommitRegressesWhenTheFlowIsReset) {
  Progress p = Make(kReplicate, 5, 11);
  p.SentCommit(9);
  // A rejection in replicate goes back to match + 1; the commit sent with
  // the rejected messages is assumed lost.
  EXPECT_TRUE(p.MaybeDecrTo(10, 3));
  EXPECT_EQ(p.next, 6u);
  EXPECT_EQ(p.sent_commit, 5u);

  Progress q = Make(kReplicate, 2, 9);
  q.SentCommit(8);
  q.BecomeProbe();
  EXPECT_EQ(q.next, 3u);
  EXPECT_EQ(q.sent_commit, 2u);

  // A probing rejection lowers sent_commit below the new next.
  Progress r = Make(kProbe, 0, 10);
  r.SentCommit(9);
  EXPECT_TRUE(r.MaybeDecrTo(9, 4));
  EXPECT_EQ(r.next, 5u);
  EXPECT_EQ(r.sent_commit, 4u);
}

TEST(ProgressTest, ResetStateClearsFlowControl) {
  Progress p = Make(kReplicate, 3, 4);
  p.SentEntries(2, 7);
  p.msg_app_flow_paused = true;
  p.pending_snapshot = 9;
  p.ResetState(kProbe);
  EXPECT_EQ(p.state, kProbe);
  EXPECT_FALSE(p.msg_app_flow_paused);
  EXPECT_EQ(p.pending_snapshot, 0u);
  EXPECT_EQ(p.inflights.Count(), 0u);
  EXPECT_EQ(p.inflights.bytes(), 0u);
  EXPECT_EQ(p.next, 6u);  // next is the caller's business
}

TEST(ProgressMapTest, StringIsOneLinePerPeerInIdOrder) {
  ProgressMap m;
  m[3] = Make(kReplicate, 4, 5);
  m[1] = Make(kProbe, 0, 1);
  m[1].is_learner = true;
  m[1].recent_active = true;
  m[3].recent_active = true;
  EXPECT_EQ(m.String(),
            "1: StateProbe match=0 next=1 learner\n"
            "3: StateReplicate match=4 next=5\n");
  EXPECT_EQ(ProgressMap().String(), "");
}

}  // namespace
}  // namespace raftlog::raft::tracker
