// Tests of tracker.go's ProgressTracker and Config (etcd covers them through
// raft_test.go; these pin the behaviour down directly).

#include "raftlog/raft/tracker/tracker.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace raftlog::raft::tracker {
namespace {

// A tracker with the given voters (incoming, outgoing) and learners, every
// peer at `match` 0 and active.
ProgressTracker MakeTracker(quorum::MajorityConfig incoming, quorum::MajorityConfig outgoing = {},
                            std::set<uint64_t> learners = {}) {
  ProgressTracker trk(256, 0);
  trk.config.voters = {std::move(incoming), std::move(outgoing)};
  trk.config.learners = std::move(learners);
  for (uint64_t id : trk.config.voters.IDs()) trk.progress[id].next = 1;
  for (uint64_t id : trk.config.learners) {
    trk.progress[id].next = 1;
    trk.progress[id].is_learner = true;
  }
  for (auto& [id, pr] : trk.progress) pr.recent_active = true;
  return trk;
}

TEST(ConfigTest, StringIsEtcds) {
  Config c;
  EXPECT_EQ(c.String(), "voters=()");
  c.voters = {{1, 2, 3}, {}};
  EXPECT_EQ(c.String(), "voters=(1 2 3)");
  c.voters.outgoing = {1, 2, 4};
  c.learners = {5};
  c.learners_next = {4};
  c.auto_leave = true;
  EXPECT_EQ(c.String(), "voters=(1 2 3)&&(1 2 4) learners=(5) learners_next=(4) autoleave");
  EXPECT_TRUE(c.Joint());
}

TEST(ProgressTrackerTest, NewTrackerIsEmpty) {
  ProgressTracker trk(7, 1024);
  EXPECT_EQ(trk.max_inflight, 7u);
  EXPECT_EQ(trk.max_inflight_bytes, 1024u);
  EXPECT_EQ(trk.config, Config{});
  EXPECT_TRUE(trk.progress.empty());
  EXPECT_TRUE(trk.votes.empty());
  EXPECT_EQ(trk.ConfState(), ConfState{});
  EXPECT_FALSE(trk.IsSingleton());
  // No voters: nothing constrains the commit index.
  EXPECT_EQ(trk.Committed(), quorum::kInfiniteIndex);
}

TEST(ProgressTrackerTest, ConfStateListsSortedIds) {
  ProgressTracker trk = MakeTracker({3, 1, 2}, {4, 1}, {9, 7});
  trk.config.learners_next = {4};
  trk.config.auto_leave = true;
  ConfState want;
  want.voters = {1, 2, 3};
  want.voters_outgoing = {1, 4};
  want.learners = {7, 9};
  want.learners_next = {4};
  want.auto_leave = true;
  EXPECT_EQ(trk.ConfState(), want);
  EXPECT_EQ(trk.VoterNodes(), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(trk.LearnerNodes(), (std::vector<uint64_t>{7, 9}));
}

TEST(ProgressTrackerTest, IsSingleton) {
  EXPECT_TRUE(MakeTracker({1}).IsSingleton());
  EXPECT_TRUE(MakeTracker({1}, {}, {2}).IsSingleton());  // learners do not count
  EXPECT_FALSE(MakeTracker({1, 2}).IsSingleton());
  EXPECT_FALSE(MakeTracker({1}, {1}).IsSingleton());  // joint
}

TEST(ProgressTrackerTest, CommittedFollowsMatchOfAQuorum) {
  ProgressTracker trk = MakeTracker({1, 2, 3}, {}, {4});
  trk.progress[1].match = 10;
  trk.progress[2].match = 7;
  trk.progress[3].match = 3;
  trk.progress[4].match = 100;  // learners do not count
  EXPECT_EQ(trk.Committed(), 7u);

  // Joint: the outgoing half (3 5) holds the commit back.
  ProgressTracker joint = MakeTracker({1, 2, 3}, {3, 5});
  joint.progress[1].match = 10;
  joint.progress[2].match = 7;
  joint.progress[3].match = 3;
  joint.progress[5].match = 9;
  EXPECT_EQ(joint.Committed(), 3u);
}

TEST(ProgressTrackerTest, VisitGoesInIdOrder) {
  ProgressTracker trk = MakeTracker({5, 1, 3}, {}, {2});
  std::vector<uint64_t> seen;
  trk.Visit([&seen](uint64_t id, Progress& pr) {
    seen.push_back(id);
    pr.match = id;  // the visitor may update progress
  });
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2, 3, 5}));
  EXPECT_EQ(trk.progress[5].match, 5u);
  const ProgressTracker& ctrk = trk;
  size_t n = 0;
  ctrk.Visit([&n](uint64_t, const Progress&) { ++n; });
  EXPECT_EQ(n, 4u);
}

TEST(ProgressTrackerTest, QuorumActiveCountsVotersOnly) {
  ProgressTracker trk = MakeTracker({1, 2, 3}, {}, {4, 5});
  EXPECT_TRUE(trk.QuorumActive());
  trk.progress[2].recent_active = false;
  EXPECT_TRUE(trk.QuorumActive());
  trk.progress[3].recent_active = false;
  EXPECT_FALSE(trk.QuorumActive());  // active learners do not help

  // Joint: both halves need an active majority.
  ProgressTracker joint = MakeTracker({1, 2, 3}, {3, 4, 5});
  joint.progress[4].recent_active = false;
  EXPECT_TRUE(joint.QuorumActive());
  joint.progress[5].recent_active = false;
  EXPECT_FALSE(joint.QuorumActive());
}

TEST(ProgressTrackerTest, RecordVoteKeepsTheFirstVote) {
  ProgressTracker trk = MakeTracker({1, 2, 3});
  trk.RecordVote(1, true);
  trk.RecordVote(1, false);  // ignored
  EXPECT_EQ(trk.votes.at(1), true);
  trk.ResetVotes();
  EXPECT_TRUE(trk.votes.empty());
  trk.RecordVote(1, false);
  EXPECT_EQ(trk.votes.at(1), false);
}

TEST(ProgressTrackerTest, TallyVotes) {
  ProgressTracker trk = MakeTracker({1, 2, 3, 4, 5}, {}, {6});
  auto [granted, rejected, result] = trk.TallyVotes();
  EXPECT_EQ(granted, 0u);
  EXPECT_EQ(rejected, 0u);
  EXPECT_EQ(result, quorum::VoteResult::kVotePending);

  trk.RecordVote(1, true);
  trk.RecordVote(2, false);
  trk.RecordVote(6, true);   // a learner: not counted, does not decide
  trk.RecordVote(42, true);  // not a member: not counted
  TallyResult t = trk.TallyVotes();
  EXPECT_EQ(t.granted, 1u);
  EXPECT_EQ(t.rejected, 1u);
  EXPECT_EQ(t.result, quorum::VoteResult::kVotePending);

  trk.RecordVote(3, true);
  trk.RecordVote(4, true);
  t = trk.TallyVotes();
  EXPECT_EQ(t.granted, 3u);
  EXPECT_EQ(t.rejected, 1u);
  EXPECT_EQ(t.result, quorum::VoteResult::kVoteWon);

  ProgressTracker lost = MakeTracker({1, 2, 3});
  lost.RecordVote(2, false);
  lost.RecordVote(3, false);
  t = lost.TallyVotes();
  EXPECT_EQ(t.granted, 0u);
  EXPECT_EQ(t.rejected, 2u);
  EXPECT_EQ(t.result, quorum::VoteResult::kVoteLost);
}

TEST(ProgressTrackerTest, TallyVotesInJointConfigNeedsBothHalves) {
  ProgressTracker trk = MakeTracker({1, 2, 3}, {4, 5, 6});
  trk.RecordVote(1, true);
  trk.RecordVote(2, true);
  EXPECT_EQ(trk.TallyVotes().result, quorum::VoteResult::kVotePending);
  trk.RecordVote(4, false);
  trk.RecordVote(5, false);
  TallyResult t = trk.TallyVotes();
  EXPECT_EQ(t.granted, 2u);
  EXPECT_EQ(t.rejected, 2u);
  EXPECT_EQ(t.result, quorum::VoteResult::kVoteLost);
}

}  // namespace
}  // namespace raftlog::raft::tracker
