// Ports etcd raft's confchange/quick_test.go (TestConfChangeQuick): applying
// changes one at a time with Simple, or all at once through a joint
// configuration (EnterJoint then LeaveJoint), must give the same result.
// Randomized with a fixed seed instead of testing/quick.

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "raftlog/raft/confchange/confchange.h"
#include "raftlog/raft/tracker/tracker.h"

namespace raftlog::raft::confchange {
namespace {

// Installs `cp` into `trk`.
void Install(tracker::ProgressTracker* trk, ConfigAndProgress cp) {
  trk->config = std::move(cp.config);
  trk->progress = std::move(cp.progress);
}

// runWithSimple: the changes one at a time.
Status RunWithSimple(tracker::ProgressTracker* trk, uint64_t last_index,
                     const std::vector<ConfChangeSingle>& ccs) {
  for (const ConfChangeSingle& cc : ccs) {
    RAFTLOG_ASSIGN_OR_RETURN(ConfigAndProgress cp, Changer(*trk, last_index).Simple({&cc, 1}));
    Install(trk, std::move(cp));
  }
  return Status::OK();
}

// runWithJoint: all changes in one joint configuration, entered with and
// without auto-leave (which must not make a difference beyond the flag),
// then left.
Status RunWithJoint(tracker::ProgressTracker* trk, uint64_t last_index,
                    const std::vector<ConfChangeSingle>& ccs) {
  const Changer c(*trk, last_index);
  RAFTLOG_ASSIGN_OR_RETURN(ConfigAndProgress joint, c.EnterJoint(false, ccs));
  RAFTLOG_ASSIGN_OR_RETURN(ConfigAndProgress joint_auto, c.EnterJoint(true, ccs));
  EXPECT_TRUE(joint_auto.config.auto_leave);
  joint_auto.config.auto_leave = false;
  EXPECT_EQ(joint.config, joint_auto.config);
  EXPECT_EQ(joint.progress, joint_auto.progress);

  tracker::ProgressTracker trk_auto = *trk;
  Install(&trk_auto, std::move(joint_auto));
  trk_auto.config.auto_leave = true;
  RAFTLOG_ASSIGN_OR_RETURN(ConfigAndProgress left_auto, Changer(trk_auto, last_index).LeaveJoint());

  Install(trk, std::move(joint));
  RAFTLOG_ASSIGN_OR_RETURN(ConfigAndProgress left, Changer(*trk, last_index).LeaveJoint());
  EXPECT_EQ(left.config, left_auto.config);
  EXPECT_EQ(left.progress, left_auto.progress);
  Install(trk, std::move(left));
  return Status::OK();
}

// initialChanges: node 1 (never touched by the changes below, so that the
// simple protocol can always make progress) plus 1-5 voters among 1..5.
std::vector<ConfChangeSingle> InitialChanges(std::mt19937_64& rng) {
  std::vector<ConfChangeSingle> ccs = {{ConfChangeType::kAddNode, 1}};
  std::uniform_int_distribution<uint64_t> num(1, 5);
  const uint64_t n = num(rng);
  for (uint64_t i = 0; i < n; ++i) ccs.push_back({ConfChangeType::kAddNode, num(rng)});
  return ccs;
}

// confChanges: 1-9 changes of any type on nodes 2..10.
std::vector<ConfChangeSingle> RandomChanges(std::mt19937_64& rng) {
  std::uniform_int_distribution<uint64_t> num(1, 9);
  std::uniform_int_distribution<int> type(0, 3);
  std::vector<ConfChangeSingle> ccs;
  const uint64_t n = num(rng);
  for (uint64_t i = 0; i < n; ++i) {
    ccs.push_back({static_cast<ConfChangeType>(type(rng)), 1 + num(rng)});
  }
  return ccs;
}

TEST(ConfChangeQuickTest, SimpleAndJointAgree) {
  std::mt19937_64 rng(20190712);
  constexpr uint64_t kLastIndex = 10;
  for (int i = 0; i < 1000; ++i) {
    const std::vector<ConfChangeSingle> setup = InitialChanges(rng);
    const std::vector<ConfChangeSingle> ccs = RandomChanges(rng);
    SCOPED_TRACE("setup: " + Describe(setup) + "\nccs: " + Describe(ccs));

    tracker::ProgressTracker simple(10, 0);
    ASSERT_TRUE(RunWithSimple(&simple, kLastIndex, setup).ok());
    tracker::ProgressTracker joint = simple;

    const Status simple_status = RunWithSimple(&simple, kLastIndex, ccs);
    ASSERT_TRUE(simple_status.ok()) << simple_status.ToString();
    const Status joint_status = RunWithJoint(&joint, kLastIndex, ccs);
    ASSERT_TRUE(joint_status.ok()) << joint_status.ToString();

    ASSERT_EQ(simple.config, joint.config)
        << simple.config.String() << " vs " << joint.config.String();
    ASSERT_EQ(simple.progress, joint.progress)
        << simple.progress.String() << " vs " << joint.progress.String();
  }
}

}  // namespace
}  // namespace raftlog::raft::confchange
