// Restore: rebuilds a tracker configuration from a ConfState (etcd raft's
// confchange/restore.go), as the raft core does on startup and when it
// applies a snapshot.
//
// Thread-safety: a pure function of its arguments.

#pragma once

#include "raftlog/format/result.h"
#include "raftlog/raft/confchange/confchange.h"
#include "raftlog/raft/types.h"

namespace raftlog::raft::confchange {

// Runs, on the (empty) configuration of `changer`, the sequence of Simple
// and EnterJoint changes that produces the configuration `cs` describes:
// - not joint: one Simple change per voter, then per learner;
// - joint: first the outgoing voters one by one (so that they form the
//   configuration being left), then one EnterJoint(cs.auto_leave) that
//   removes them, adds the incoming voters, the learners, and the
//   learners_next (which, being outgoing voters, get staged).
// E.g. voters=(1 2 3) learners=(5) voters_outgoing=(1 2 4 6)
// learners_next=(4) gives voters=(1 2 3)&&(1 2 4 6) learners=(5)
// learners_next=(4). New progresses are made as Changer describes.
// REQUIRES: changer's tracker has an empty configuration (etcd's contract;
// the changes are applied on top of whatever it holds).
// Errors: those of Changer (InvalidArgument), e.g. "removed all voters" for
// a ConfState with learners but no voters. The empty ConfState gives the
// empty configuration.
Result<ConfigAndProgress> Restore(const Changer& changer, const ConfState& cs);

}  // namespace raftlog::raft::confchange
