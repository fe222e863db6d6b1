// Progress: the leader's view of one follower's log (etcd raft's
// tracker/progress.go), and ProgressMap, the progress of every peer.
//
// Design. As in etcd, Progress is a plain struct whose fields the raft core
// reads and writes directly (etcd's Match, Next, State, ... become `match`,
// `next`, `state`, ...), plus the transition methods below that keep its
// invariants when the state changes. Fields are public because the raft core
// legitimately sets several of them (recent_active on every message,
// msg_app_flow_paused on heartbeat responses, is_learner on conf changes);
// the one field etcd keeps package-private, sentCommit, is `sent_commit`
// here and is written only by the methods.
//
// Invariants (etcd's): 0 <= match < next (so next >= 1 once initialized);
// in StateSnapshot, next == pending_snapshot + 1 and
// sent_commit == pending_snapshot.
//
// Thread-safety: thread-compatible (owned by the raft core's thread).

#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "raftlog/raft/tracker/inflights.h"
#include "raftlog/raft/tracker/state.h"

namespace raftlog::raft::tracker {

struct Progress {
  // The index up to which the follower's log is known to match the leader's.
  uint64_t match = 0;
  // The index of the next entry to send to the follower. The entries in
  // (match, next) are in flight.
  uint64_t next = 0;
  // The highest commit index in flight to the follower. Mostly monotonic,
  // but it regresses when the flow is reset (BecomeProbe, a rejection).
  // Written only by the methods below (package-private in etcd).
  uint64_t sent_commit = 0;

  // How the leader interacts with the follower:
  // - kStateProbe: at most one MsgApp per heartbeat interval, to find the
  //   follower's actual last index;
  // - kStateReplicate: next advances optimistically as MsgApps are sent, and
  //   the inflights window limits what is in flight;
  // - kStateSnapshot: a snapshot was sent; no MsgApp until it is resolved.
  StateType state = StateType::kStateProbe;

  // In kStateSnapshot: the leader's last index when it found that a
  // snapshot was needed (the index of the MsgSnap's snapshot); else 0.
  // Replication resumes when an MsgAppResp reconnects the follower to the
  // log (whatever the index of the snapshot it actually applied), or when
  // ReportSnapshot moves the follower to kStateProbe.
  uint64_t pending_snapshot = 0;

  // Whether the follower was heard from recently. Any message from it sets
  // this; CheckQuorum resets it every election timeout. Always true for
  // the leader itself.
  bool recent_active = false;

  // Whether the MsgApp flow to the follower is throttled: in kStateProbe
  // after a probe was sent, in kStateReplicate when the inflights window is
  // saturated. A throttled flow still sends an MsgApp now and then (the flag
  // is cleared by a heartbeat response) so that progress is guaranteed
  // without overflowing the follower. See IsPaused().
  bool msg_app_flow_paused = false;

  // The MsgApps in flight (kStateReplicate only); each is recorded with the
  // index of its last entry, in order, and freed by FreeLE(acked index).
  Inflights inflights{0, 0};

  // Whether this progress tracks a learner.
  bool is_learner = false;

  // Moves to `state`, clearing msg_app_flow_paused, pending_snapshot and the
  // inflights window.
  void ResetState(StateType new_state);

  // Moves to kStateProbe with next = match + 1, or, coming from
  // kStateSnapshot, max(match, pending_snapshot) + 1 (the snapshot was sent,
  // so probing starts after it).
  void BecomeProbe();

  // Moves to kStateReplicate with next = match + 1.
  void BecomeReplicate();

  // Moves to kStateSnapshot waiting for the snapshot at `snapshot_index`.
  void BecomeSnapshot(uint64_t snapshot_index);

  // Records an MsgApp of `entries` consecutive entries starting at `next`,
  // carrying `bytes` payload bytes: in kStateReplicate next advances and the
  // message enters the inflights window (the flow pauses if that fills it);
  // in kStateProbe a non-empty message pauses the flow.
  // REQUIRES: state is kStateProbe or kStateReplicate (aborts otherwise).
  void SentEntries(size_t entries, uint64_t bytes);

  // Whether sending commit index `index` may advance the follower's commit
  // index: it must exceed what was sent, and what was sent must not already
  // cover every entry the follower has (next - 1).
  bool CanBumpCommit(uint64_t index) const { return index > sent_commit && sent_commit < next - 1; }

  // Records that commit index `commit` was sent to the follower.
  void SentCommit(uint64_t commit) { sent_commit = commit; }

  // Handles an MsgAppResp acknowledging index `n`. Returns false (changing
  // nothing) if `n` is stale (<= match); otherwise raises match to `n`,
  // next to at least n + 1, unpauses the flow and returns true.
  bool MaybeUpdate(uint64_t n);

  // Handles an MsgApp rejection: `rejected` is the index of the rejected
  // MsgApp, `match_hint` the follower's hint of its matching index. Returns
  // false (changing nothing) for a stale rejection: in kStateReplicate one
  // at or below match, otherwise one that is not for next - 1 (probes go one
  // message at a time). Otherwise lowers next (to match + 1 in
  // kStateReplicate; to max(min(rejected, match_hint + 1), match + 1) else),
  // unpauses the flow in the probing states and returns true.
  bool MaybeDecrTo(uint64_t rejected, uint64_t match_hint);

  // Whether sending entries to the follower is throttled: the flow is paused
  // (kStateProbe, kStateReplicate) or a snapshot is pending (always, in
  // kStateSnapshot).
  bool IsPaused() const;

  // etcd's format, e.g. "StateReplicate match=5 next=7 learner paused
  // pendingSnap=3 inactive inflight=2[full]" (optional parts only when set).
  std::string String() const;

  // Field by field (the inflights windows compare by content).
  friend bool operator==(const Progress&, const Progress&) = default;
};

// The progress of every tracked peer (voters and learners), ordered by id.
// A std::map so that references to a Progress stay valid while other peers
// are added or removed, and so that iteration is in id order (etcd sorts
// the ids wherever order matters).
// NB: no virtual destructor; never delete through a std::map pointer.
class ProgressMap : public std::map<uint64_t, Progress> {
 public:
  using std::map<uint64_t, Progress>::map;

  // One "<id>: <Progress::String()>\n" line per peer, in id order.
  std::string String() const;
};

}  // namespace raftlog::raft::tracker
