// StateType: how the leader replicates to one follower (etcd raft's
// tracker/state.go). See Progress (progress.h) for the transitions.
//
// Thread-safety: an enum and a pure function.

#pragma once

#include <cstdint>
#include <string_view>

namespace raftlog::raft::tracker {

enum class StateType : uint8_t {
  // The leader does not know the follower's last index: it sends at most one
  // MsgApp per heartbeat interval and waits for the answer (probing).
  kStateProbe = 0,
  // Steady state: the leader streams MsgApps optimistically, limited by the
  // Inflights window.
  kStateReplicate = 1,
  // The follower needs a snapshot; replication is paused until it is applied
  // or reported as failed.
  kStateSnapshot = 2,
};

// "StateProbe", "StateReplicate" or "StateSnapshot" (etcd's names).
std::string_view StateTypeName(StateType state);

}  // namespace raftlog::raft::tracker
