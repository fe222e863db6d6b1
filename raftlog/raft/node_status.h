// NodeStatus and BasicStatus: a snapshot of one node's view of the group
// (etcd raft's status.go; etcd calls the first one Status, which would clash
// with our error type).
//
// Thread-safety: value types; thread-compatible.

#pragma once

#include <cstdint>
#include <string>

#include "raftlog/raft/ready.h"
#include "raftlog/raft/tracker/progress.h"
#include "raftlog/raft/tracker/tracker.h"
#include "raftlog/raft/types.h"

namespace raftlog::raft {

// Basic information about the node. Cheap: copying it allocates nothing.
struct BasicStatus {
  uint64_t id = kNone;
  HardState hard_state;
  SoftState soft_state;
  uint64_t applied = 0;
  uint64_t lead_transferee = kNone;

  friend bool operator==(const BasicStatus&, const BasicStatus&) = default;
};

// BasicStatus plus the active configuration and, on the leader only, the
// progress of every peer (copies; this allocates).
struct NodeStatus : BasicStatus {
  tracker::Config config;
  // Empty unless the node is the leader.
  tracker::ProgressMap progress;

  // etcd's JSON form, e.g. {"id":"1","term":2,"vote":"1","commit":5,
  // "lead":"1","raftState":"StateLeader","applied":5,"progress":{"1":{
  // "match":5,"next":6,"state":"StateReplicate"}},"leadtransferee":"0"}
  // (ids in hex; progress entries in id order).
  std::string String() const;
};

// Whether a progress visited by RawNode::WithProgress is a voter's or a
// learner's (etcd's ProgressType).
enum class ProgressType : uint8_t {
  kProgressTypePeer = 0,
  kProgressTypeLearner = 1,
};

}  // namespace raftlog::raft
