// Ports etcd raft's confchange/restore_test.go (TestRestore): restoring a
// ConfState and reading it back gives the same ConfState, for fixed cases
// and for 1000 random valid ConfStates (fixed seed).

#include "raftlog/raft/confchange/restore.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "raftlog/raft/tracker/tracker.h"

namespace raftlog::raft::confchange {
namespace {

std::string ToString(const ConfState& cs) {
  auto list = [](const std::vector<uint64_t>& ids) {
    std::string s = "(";
    for (size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
    return s + ")";
  };
  return "voters=" + list(cs.voters) + " learners=" + list(cs.learners) +
         " outgoing=" + list(cs.voters_outgoing) + " learners_next=" + list(cs.learners_next) +
         (cs.auto_leave ? " autoleave" : "");
}

// Restores `cs` on an empty tracker and checks that its ConfState reads back
// the same (up to the order of the ids).
void CheckRoundTrip(ConfState cs) {
  SCOPED_TRACE(ToString(cs));
  const tracker::ProgressTracker empty(20, 0);
  Result<ConfigAndProgress> r = Restore(Changer(empty, 10), cs);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  tracker::ProgressTracker trk(20, 0);
  trk.config = r->config;
  trk.progress = r->progress;

  for (auto* ids : {&cs.voters, &cs.learners, &cs.voters_outgoing, &cs.learners_next}) {
    std::sort(ids->begin(), ids->end());
  }
  const ConfState cs2 = trk.ConfState();
  EXPECT_EQ(cs, cs2) << ToString(cs2);
  EXPECT_TRUE(Equivalent(cs, cs2));
  EXPECT_TRUE(Equivalent(cs2, cs));
  EXPECT_TRUE(CheckInvariants(trk.config, trk.progress).ok());
  // Every member is tracked with a fresh progress.
  for (const auto& [id, pr] : trk.progress) {
    EXPECT_EQ(pr.next, 10u) << id;
    EXPECT_TRUE(pr.recent_active) << id;
    EXPECT_EQ(pr.inflights.size(), 20u) << id;
  }
}

// etcd's rndConfChange generator: a random valid ConfState, never empty.
ConfState RandomConfState(std::mt19937_64& rng) {
  auto intn = [&rng](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  const int n_voters = 1 + intn(5);
  const int n_learners = intn(5);
  // Voters of the outgoing config that are not incoming voters; a random
  // number of incoming voters are retained as outgoing ones below.
  const int n_removed_voters = intn(3);

  // Voters, learners and removed voters must not overlap: draw distinct ids.
  std::vector<uint64_t> ids(2 * (n_voters + n_learners + n_removed_voters));
  std::iota(ids.begin(), ids.end(), 1);
  std::shuffle(ids.begin(), ids.end(), rng);
  auto take = [&ids](int n) {
    std::vector<uint64_t> out(ids.begin(), ids.begin() + n);
    ids.erase(ids.begin(), ids.begin() + n);
    return out;
  };

  ConfState cs;
  cs.voters = take(n_voters);
  cs.learners = take(n_learners);
  const int n_outgoing_retained_voters = intn(n_voters + 1);
  const std::vector<uint64_t> removed(ids.begin(), ids.begin() + n_removed_voters);
  if (n_outgoing_retained_voters > 0 || n_removed_voters > 0) {
    cs.voters_outgoing.assign(cs.voters.begin(), cs.voters.begin() + n_outgoing_retained_voters);
    cs.voters_outgoing.insert(cs.voters_outgoing.end(), removed.begin(), removed.end());
  }
  // Only outgoing voters that are not incoming voters can be in
  // learners_next (they are demotions).
  if (n_removed_voters > 0) {
    const int n_learners_next = intn(n_removed_voters + 1);
    cs.learners_next.assign(removed.begin(), removed.begin() + n_learners_next);
  }
  cs.auto_leave = !cs.voters_outgoing.empty() && intn(2) == 1;
  return cs;
}

TEST(RestoreTest, FixedConfStatesRoundTrip) {
  CheckRoundTrip(ConfState{});
  CheckRoundTrip(ConfState{{1, 2, 3}, {}, {}, {}, false});
  CheckRoundTrip(ConfState{{1, 2, 3}, {4, 5, 6}, {}, {}, false});
  CheckRoundTrip(ConfState{{1, 2, 3}, {5}, {1, 2, 4, 6}, {4}, false});
  CheckRoundTrip(ConfState{{3, 1, 2}, {5}, {6, 4, 2, 1}, {4}, true});
}

TEST(RestoreTest, RandomConfStatesRoundTrip) {
  std::mt19937_64 rng(20190808);
  for (int i = 0; i < 1000; ++i) {
    CheckRoundTrip(RandomConfState(rng));
    if (HasFatalFailure()) return;
  }
}

TEST(RestoreTest, JointExampleOfTheHeader) {
  ConfState cs{{1, 2, 3}, {5}, {1, 2, 4, 6}, {4}, false};
  const tracker::ProgressTracker empty(20, 0);
  Result<ConfigAndProgress> r = Restore(Changer(empty, 10), cs);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.String(), "voters=(1 2 3)&&(1 2 4 6) learners=(5) learners_next=(4)");
  // 4 and 6 are tracked as outgoing voters, 4 not yet as a learner.
  EXPECT_EQ(r->progress.size(), 6u);
  EXPECT_FALSE(r->progress.at(4).is_learner);
  EXPECT_TRUE(r->progress.at(5).is_learner);
}

TEST(RestoreTest, ConfStateWithoutVotersIsRefused) {
  const tracker::ProgressTracker empty(20, 0);
  Result<ConfigAndProgress> r = Restore(Changer(empty, 10), ConfState{{}, {1}, {}, {}, false});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_EQ(r.status().message(), "removed all voters");
}

}  // namespace
}  // namespace raftlog::raft::confchange
