// Ready: the batch of work the raft core hands to the application (etcd
// raft's node.go: Ready, SoftState, StateType, MustSync).
//
// RawNode::Ready() returns one; the application persists, sends and applies
// what it holds in the order rawnode.h's contract describes, then calls
// RawNode::Advance(). Everything in a Ready is the application's own value:
// it may be moved out, kept or modified freely. Entry payloads are shared
// immutable Bytes (with the raft core, the storage, the messages), never
// copied; keeping them keeps their buffers alive.
//
// Thread-safety: value types; thread-compatible.

#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "raftlog/raft/read_state.h"
#include "raftlog/raft/types.h"

namespace raftlog::raft {

// The role of a node (etcd's StateType). Not to be confused with
// tracker::StateType, the replication state of one follower.
enum class StateType : uint8_t {
  kStateFollower = 0,
  kStateCandidate = 1,
  kStateLeader = 2,
  kStatePreCandidate = 3,
};

// "StateFollower", "StateCandidate", "StateLeader", "StatePreCandidate".
std::string_view StateTypeName(StateType state);

// The volatile state of a node: who it thinks leads, and its role. It need
// not be persisted.
struct SoftState {
  uint64_t lead = kNone;
  StateType raft_state = StateType::kStateFollower;

  friend bool operator==(const SoftState&, const SoftState&) = default;
};

struct Ready {
  // The current volatile state, if it changed since the last Ready; it is
  // not required to consume or store it.
  std::optional<SoftState> soft_state;

  // The state to save to stable storage BEFORE Messages are sent; empty
  // (IsEmptyHardState) if it did not change. With async storage writes it
  // is also carried by the MsgStorageAppend message and need not be acted on
  // here.
  HardState hard_state;

  // Answers to ReadIndex requests: a linearizable read may be served locally
  // once the applied index reaches ReadState::index. Each is only valid for
  // the request that asked for it.
  std::vector<ReadState> read_states;

  // Entries to save to stable storage BEFORE Messages are sent.
  std::vector<Entry> entries;

  // The snapshot to save to stable storage (and apply), or null if none.
  // Immutable and shared with the raft core (and any MsgStorageAppend).
  std::shared_ptr<const Snapshot> snapshot;

  // Entries to apply to the state machine. They have been committed by a
  // quorum; in the synchronous mode some may be part of `entries` of this
  // very Ready, so persist `entries` first.
  std::vector<Entry> committed_entries;

  // Outbound messages. Without async storage writes they must be sent AFTER
  // `entries`, `hard_state` and `snapshot` are durably stored. With async
  // storage writes they may be sent at once: the messages that depend on a
  // write ride inside the MsgStorageAppend / MsgStorageApply messages (which
  // target kLocalAppendThread / kLocalApplyThread) as their responses. For a
  // MsgSnap the application must later call RawNode::ReportSnapshot.
  std::vector<Message> messages;

  // Whether hard_state and entries must be durably written (fsync) before
  // messages go out, or a non-durable write is permissible. See MustSync().
  bool must_sync = false;

  // Whether a snapshot is present (etcd's !IsEmptySnap(rd.Snapshot)).
  bool HasSnapshot() const { return snapshot != nullptr && !IsEmptySnap(*snapshot); }
};

// Whether a synchronous write is needed: Raft persists currentTerm, votedFor
// and the log entries before responding to RPCs (paper Figure 2), so a new
// term, a new vote or any entry needs one; a commit index change alone does
// not. `prev` is the HardState last handed out.
inline bool MustSync(const HardState& st, const HardState& prev, size_t entries_count) {
  return entries_count != 0 || st.vote != prev.vote || st.term != prev.term;
}

}  // namespace raftlog::raft
