// Changer: computes the configuration that results from membership changes
// (etcd raft's confchange/confchange.go), validating them before anything
// affects the active configuration.
//
// Two protocols are supported:
// - Simple: changes that alter the set of voters by at most one (one voter
//   added or removed; learners are free), applied directly.
// - Joint consensus (Raft thesis §4.3): EnterJoint moves from C_old to
//   C_{old,new}, where decisions need a majority of both the incoming
//   (C_new) and the outgoing (C_old) voters; LeaveJoint then moves to C_new.
//
// A Changer never modifies the tracker it reads: each method returns a new
// Config and ProgressMap, which the caller installs if it wants them. Errors
// are Status::InvalidArgument with etcd's exact texts:
//   "config is already joint", "can't make a zero-voter config joint",
//   "can't leave a non-joint config",
//   "can't apply simple config change in joint config",
//   "more than one voter changed without entering joint config",
//   "removed all voters", "unexpected conf type <n>",
// and, when the tracker given (or the result) breaks an invariant, the
// texts of CheckInvariants below.
//
// Thread-safety: a Changer only reads its tracker; it is as thread-safe as
// concurrent reads of that tracker are.

#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "raftlog/format/result.h"
#include "raftlog/format/status.h"
#include "raftlog/raft/tracker/progress.h"
#include "raftlog/raft/tracker/tracker.h"
#include "raftlog/raft/types.h"

namespace raftlog::raft::confchange {

// A configuration and the matching progress map, as computed by a Changer.
struct ConfigAndProgress {
  tracker::Config config;
  tracker::ProgressMap progress;
};

class Changer {
 public:
  // Changes relative to `tracker`'s configuration and progress. New peers
  // get a Progress with match 0, next max(last_index, 1) (so that they are
  // probed at the leader's last index), recent_active true (so that
  // CheckQuorum does not count them as inactive before they could answer),
  // and an inflights window with the tracker's limits.
  // `tracker` is borrowed: it must outlive the Changer and not change while
  // the Changer's methods run.
  Changer(const tracker::ProgressTracker& tracker, uint64_t last_index)
      : tracker_(&tracker), last_index_(last_index) {}

  // Enters a joint configuration: the outgoing voters become a copy of the
  // incoming ones, then `changes` are applied to the incoming half, giving
  // C_{new,old}. `auto_leave` is recorded in the result (raft then leaves
  // the joint configuration by itself).
  // Errors: "config is already joint"; "can't make a zero-voter config
  // joint" (the current config has no voters); the errors of the changes.
  Result<ConfigAndProgress> EnterJoint(bool auto_leave,
                                       std::span<const ConfChangeSingle> changes) const;

  // Leaves a joint configuration: the outgoing half is dropped, voters
  // staged in learners_next become learners, and the progress of peers that
  // are neither incoming voters nor learners is dropped.
  // Errors: "can't leave a non-joint config".
  Result<ConfigAndProgress> LeaveJoint() const;

  // Applies `changes`, which together may change the voters by at most one.
  // Errors: "can't apply simple config change in joint config"; "more than
  // one voter changed without entering joint config"; the errors of the
  // changes.
  Result<ConfigAndProgress> Simple(std::span<const ConfChangeSingle> changes) const;

  const tracker::ProgressTracker& tracker() const { return *tracker_; }
  uint64_t last_index() const { return last_index_; }

 private:
  // A copy of the tracker's configuration and progress, or the error of
  // CheckInvariants if the tracker breaks one.
  Result<ConfigAndProgress> CheckAndCopy() const;

  // Applies `changes` to the incoming half (changes to voters always go
  // there; the outgoing half only preserves C_old while joint). Changes of
  // node 0 are skipped: etcd zeroes the node id of a change it decided not
  // to apply. Errors: "unexpected conf type <n>", "removed all voters".
  Status Apply(ConfigAndProgress* cp, std::span<const ConfChangeSingle> changes) const;
  // Adds `id` as an incoming voter, or promotes it.
  void MakeVoter(ConfigAndProgress* cp, uint64_t id) const;
  // Adds `id` as a learner, demotes it, or, if it is an outgoing voter,
  // stages it in learners_next until the joint configuration is left.
  void MakeLearner(ConfigAndProgress* cp, uint64_t id) const;
  // Removes `id` as incoming voter or learner; its progress stays while it
  // is an outgoing voter.
  void Remove(ConfigAndProgress* cp, uint64_t id) const;
  // Tracks the new peer `id` as an incoming voter or a learner.
  void InitProgress(ConfigAndProgress* cp, uint64_t id, bool is_learner) const;

  const tracker::ProgressTracker* tracker_;  // borrowed; see the constructor
  uint64_t last_index_;
};

// Checks that a configuration and a progress map fit each other (etcd's
// checkInvariants), returning InvalidArgument with etcd's text for the first
// violation found (peers are checked in ascending id order):
//   "no progress for <id>"  (every voter, learner and staged learner)
//   "<id> is in LearnersNext, but not Voters[1]"
//   "<id> is in LearnersNext, but is already marked as learner"
//   "<id> is in Learners and Voters[1]" / "... and Voters[0]"
//   "<id> is in Learners, but is not marked as learner"
//   "cfg.LearnersNext must be nil when not joint"
//   "AutoLeave must be false when not joint"
// The empty configuration is valid (configurations are built from it).
Status CheckInvariants(const tracker::Config& config, const tracker::ProgressMap& progress);

// The changes as "ConfChangeAddNode(1) ConfChangeRemoveNode(2)" (etcd's
// Describe), for logs and test failures.
std::string Describe(std::span<const ConfChangeSingle> changes);

}  // namespace raftlog::raft::confchange
