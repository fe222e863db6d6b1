// Config: the parameters of one raft node (etcd raft's Config).
//
// Every field of etcd's Config is here under its snake_case name, with
// etcd's meaning and defaults; Validate() applies etcd's rules. The TLA+
// TraceLogger is not ported.
//
// Thread-safety: a value type; thread-compatible.

#pragma once

#include <cstdint>

#include "raftlog/format/status.h"
#include "raftlog/raft/logger.h"
#include "raftlog/raft/read_state.h"
#include "raftlog/raft/storage.h"
#include "raftlog/raft/types.h"

namespace raftlog::raft {

struct Config {
  // The identity of the local node. Must not be kNone (0) nor a local
  // storage-thread id.
  uint64_t id = kNone;

  // Ticks that must pass without hearing from a leader before a follower
  // campaigns. The actual timeout is randomized in
  // [election_tick, 2 * election_tick - 1]. Must be > heartbeat_tick; 10 *
  // heartbeat_tick avoids needless leader changes.
  int election_tick = 0;
  // Ticks between the leader's heartbeats. Must be > 0.
  int heartbeat_tick = 0;

  // Where raft reads the persisted log and state from (and, on restart, its
  // previous state and configuration). Required. Borrowed: must outlive the
  // node. The application writes to it; raft only reads.
  const Storage* storage = nullptr;

  // The last applied index, set only on restart: raft will not hand out
  // committed entries at or below it. If unset on restart, previously
  // applied entries may be handed out again.
  uint64_t applied = 0;

  // Write to local storage through messages instead of Ready/Advance: the
  // Ready's messages then include MsgStorageAppend (to kLocalAppendThread:
  // entries, HardState, snapshot) and MsgStorageApply (to
  // kLocalApplyThread: committed entries), each carrying the responses to
  // deliver once the write is done. Messages to one thread must be processed
  // reliably and in order. All writes of a MsgStorageAppend must be durable
  // before its responses are delivered (unless it carries none). Advance()
  // must not be called in this mode.
  bool async_storage_writes = false;

  // The byte limit (EntrySize sums) of one MsgApp. kNoLimit for none; 0 for
  // at most one entry per message. NB (as in etcd): it is also the default of
  // max_committed_size_per_ready, and a budget of 0 for applying committed
  // entries aborts at the first commit; leaving both at 0 is an error that
  // shows only then, so set at least one.
  uint64_t max_size_per_msg = 0;
  // The byte limit of the committed entries being applied at the same time,
  // across Readys (and unacknowledged MsgStorageApply). 0 means
  // max_size_per_msg.
  uint64_t max_committed_size_per_ready = 0;
  // The byte limit (PayloadSize sums) of the leader's uncommitted log tail;
  // proposals beyond it fail with ErrProposalDropped. 0 means no limit.
  uint64_t max_uncommitted_entries_size = 0;
  // The limit of in-flight MsgApps per follower during optimistic
  // replication. Must be > 0.
  int max_inflight_msgs = 0;
  // The limit of in-flight payload bytes per follower; bounds the
  // bandwidth-delay product. 0 means no limit; otherwise it must be >=
  // max_size_per_msg.
  uint64_t max_inflight_bytes = 0;

  // The leader steps down when a quorum was not active within an election
  // timeout. Also enables the leader lease against disruptive votes.
  bool check_quorum = false;
  // The pre-vote phase (Raft thesis §9.6): a node that rejoins after a
  // partition cannot disrupt the cluster.
  bool pre_vote = false;

  // How read-only requests are served; kReadOnlyLeaseBased requires
  // check_quorum.
  ReadOnlyOption read_only_option = ReadOnlyOption::kReadOnlySafe;

  // Where the node logs. Borrowed: must outlive the node. nullptr means the
  // package logger (GetLogger()).
  Logger* logger = nullptr;

  // Followers drop proposals (ErrProposalDropped) instead of forwarding
  // them to the leader, e.g. when the leader must compute the proposal's
  // data itself.
  bool disable_proposal_forwarding = false;

  // Skips the propose-time checks of conf changes against the active
  // configuration (one pending change; leave only a joint configuration;
  // nothing new while joint). The checks have false positives because the
  // active configuration may trail the log; use only if something above
  // raft serializes and verifies conf changes: an invalid change that gets
  // applied panics (etcd makes the same trade-off).
  bool disable_conf_change_validation = false;

  // The leader steps down when it is removed or demoted to learner (this
  // is planned to become unconditional in etcd).
  bool step_down_on_removal = false;

  // Checks the configuration and fills the defaults (etcd's validate):
  // max_uncommitted_entries_size 0 -> kNoLimit, max_committed_size_per_ready
  // 0 -> max_size_per_msg, max_inflight_bytes 0 -> kNoLimit, logger nullptr
  // -> GetLogger(). Idempotent.
  // Returns kInvalidArgument with etcd's text for the first rule broken:
  //   "cannot use none as id", "cannot use local target as id",
  //   "heartbeat tick must be greater than 0",
  //   "election tick must be greater than heartbeat tick",
  //   "storage cannot be nil", "max inflight messages must be greater than 0",
  //   "max inflight bytes must be >= max message size",
  //   "CheckQuorum must be enabled when ReadOnlyOption is ReadOnlyLeaseBased".
  Status Validate();
};

}  // namespace raftlog::raft
