// Tests of confchange.go's Changer beyond the datadriven scripts: the
// progress given to new peers, that the input tracker is never modified,
// and every invariant violation CheckInvariants reports.

#include "raftlog/raft/confchange/confchange.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "raftlog/raft/tracker/tracker.h"

namespace raftlog::raft::confchange {
namespace {

using tracker::Config;
using tracker::Progress;
using tracker::ProgressMap;

constexpr ConfChangeType kAdd = ConfChangeType::kAddNode;
constexpr ConfChangeType kLearner = ConfChangeType::kAddLearnerNode;
constexpr ConfChangeType kRemove = ConfChangeType::kRemoveNode;

Progress Voter() {
  Progress pr;
  pr.next = 1;
  return pr;
}

Progress Learner() {
  Progress pr = Voter();
  pr.is_learner = true;
  return pr;
}

TEST(ChangerTest, NewPeersStartAtTheLastIndexAndActive) {
  const tracker::ProgressTracker trk(7, 4096);
  const std::vector<ConfChangeSingle> ccs = {{kAdd, 1}, {kLearner, 2}};
  Result<ConfigAndProgress> r = Changer(trk, 42).Simple(ccs);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (uint64_t id : {1, 2}) {
    const Progress& pr = r->progress.at(id);
    EXPECT_EQ(pr.match, 0u);
    EXPECT_EQ(pr.next, 42u);
    EXPECT_EQ(pr.state, tracker::StateType::kStateProbe);
    EXPECT_TRUE(pr.recent_active);
    EXPECT_EQ(pr.inflights.size(), 7u);
    EXPECT_EQ(pr.inflights.max_bytes(), 4096u);
    EXPECT_EQ(pr.is_learner, id == 2);
  }
  // With last index 0 next is still 1, keeping match < next.
  r = Changer(trk, 0).Simple(ccs);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->progress.at(1).next, 1u);
}

TEST(ChangerTest, TheInputTrackerIsNeverModified) {
  tracker::ProgressTracker trk(10, 0);
  trk.config.voters.incoming = {1, 2, 3};
  for (uint64_t id : {1, 2, 3}) trk.progress[id] = Voter();
  trk.progress[2].match = 5;
  const tracker::ProgressTracker before = trk;
  const std::vector<ConfChangeSingle> ccs = {{kRemove, 1}, {kLearner, 2}, {kAdd, 4}};

  Result<ConfigAndProgress> joint = Changer(trk, 10).EnterJoint(true, ccs);
  ASSERT_TRUE(joint.ok()) << joint.status().ToString();
  EXPECT_EQ(joint->config.String(), "voters=(3 4)&&(1 2 3) learners_next=(2) autoleave");
  // The demoted voter keeps its replication state.
  EXPECT_EQ(joint->progress.at(2).match, 5u);
  EXPECT_EQ(trk.config, before.config);
  EXPECT_EQ(trk.progress, before.progress);

  // A failing change leaves the tracker alone too.
  EXPECT_FALSE(Changer(trk, 10).Simple(ccs).ok());
  EXPECT_EQ(trk.config, before.config);
  EXPECT_EQ(trk.progress, before.progress);
}

TEST(ChangerTest, UnknownChangeTypeIsAnError) {
  const tracker::ProgressTracker trk(10, 0);
  const std::vector<ConfChangeSingle> ccs = {{static_cast<ConfChangeType>(9), 1}};
  Result<ConfigAndProgress> r = Changer(trk, 1).Simple(ccs);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_EQ(r.status().message(), "unexpected conf type 9");
}

TEST(ChangerTest, ATrackerBreakingAnInvariantIsRefused) {
  tracker::ProgressTracker trk(10, 0);
  trk.config.voters.incoming = {1, 2};
  trk.progress[1] = Voter();  // 2 has no progress
  for (Result<ConfigAndProgress> r :
       {Changer(trk, 1).Simple({}), Changer(trk, 1).EnterJoint(false, {}),
        Changer(trk, 1).LeaveJoint()}) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), "no progress for 2");
  }
}

// etcd's checkInvariants, one violation at a time.
TEST(CheckInvariantsTest, ReportsEachViolation) {
  struct Case {
    std::string_view name;
    Config config;
    ProgressMap progress;
    std::string_view want;  // empty: valid
  };
  auto joint = [](quorum::MajorityConfig in, quorum::MajorityConfig out) {
    Config c;
    c.voters = {std::move(in), std::move(out)};
    return c;
  };
  Config learners_next_not_outgoing = joint({1}, {1, 2});
  learners_next_not_outgoing.learners_next = {3};
  Config learners_next_learner = joint({1}, {1, 2});
  learners_next_learner.learners_next = {2};
  Config learner_outgoing = joint({1}, {1, 2});
  learner_outgoing.learners = {2};
  Config learner_incoming = joint({1, 2}, {1});
  learner_incoming.learners = {2};
  Config learner_unmarked = joint({1}, {});
  learner_unmarked.learners = {2};
  Config staged_not_joint = joint({1}, {});
  staged_not_joint.learners_next = {2};
  Config auto_leave_not_joint = joint({1}, {});
  auto_leave_not_joint.auto_leave = true;
  Config valid_joint = joint({1, 3}, {1, 2});
  valid_joint.learners_next = {2};
  valid_joint.learners = {4};
  valid_joint.auto_leave = true;

  const Case kCases[] = {
      {"empty config", Config{}, {}, ""},
      {"voter without progress", joint({1, 2}, {}), {{1, Voter()}}, "no progress for 2"},
      {"outgoing voter without progress", joint({1}, {1, 3}), {{1, Voter()}}, "no progress for 3"},
      {"staged learner not outgoing",
       learners_next_not_outgoing,
       {{1, Voter()}, {2, Voter()}, {3, Voter()}},
       "3 is in LearnersNext, but not Voters[1]"},
      {"staged learner already learner",
       learners_next_learner,
       {{1, Voter()}, {2, Learner()}},
       "2 is in LearnersNext, but is already marked as learner"},
      {"learner and outgoing voter",
       learner_outgoing,
       {{1, Voter()}, {2, Learner()}},
       "2 is in Learners and Voters[1]"},
      {"learner and incoming voter",
       learner_incoming,
       {{1, Voter()}, {2, Learner()}},
       "2 is in Learners and Voters[0]"},
      {"learner not marked",
       learner_unmarked,
       {{1, Voter()}, {2, Voter()}},
       "2 is in Learners, but is not marked as learner"},
      {"staged learner outside joint",
       staged_not_joint,
       {{1, Voter()}, {2, Voter()}},
       "2 is in LearnersNext, but not Voters[1]"},
      {"autoleave outside joint",
       auto_leave_not_joint,
       {{1, Voter()}},
       "AutoLeave must be false when not joint"},
      {"valid joint config",
       valid_joint,
       {{1, Voter()}, {2, Voter()}, {3, Voter()}, {4, Learner()}},
       ""},
  };
  for (const Case& tc : kCases) {
    const Status s = CheckInvariants(tc.config, tc.progress);
    if (tc.want.empty()) {
      EXPECT_TRUE(s.ok()) << tc.name << ": " << s.ToString();
    } else {
      EXPECT_TRUE(s.IsInvalidArgument()) << tc.name;
      EXPECT_EQ(s.message(), tc.want) << tc.name;
    }
  }
}

TEST(DescribeTest, PrintsTypesAndIds) {
  const std::vector<ConfChangeSingle> ccs = {
      {kAdd, 1}, {kRemove, 2}, {kLearner, 3}, {ConfChangeType::kUpdateNode, 4}};
  EXPECT_EQ(Describe(ccs),
            "ConfChangeAddNode(1) ConfChangeRemoveNode(2) ConfChangeAddLearnerNode(3) "
            "ConfChangeUpdateNode(4)");
  EXPECT_EQ(Describe({}), "");
}

}  // namespace
}  // namespace raftlog::raft::confchange
