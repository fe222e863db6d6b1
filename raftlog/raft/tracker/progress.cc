#include "raftlog/raft/tracker/progress.h"

#include <algorithm>

#include "raftlog/format/status.h"

namespace raftlog::raft::tracker {

void Progress::ResetState(StateType new_state) {
  msg_app_flow_paused = false;
  pending_snapshot = 0;
  state = new_state;
  inflights.Reset();
}

void Progress::BecomeProbe() {
  if (state == StateType::kStateSnapshot) {
    // The pending snapshot was sent successfully, so probing continues after
    // it rather than at match + 1.
    const uint64_t snapshot_index = pending_snapshot;
    ResetState(StateType::kStateProbe);
    next = std::max(match + 1, snapshot_index + 1);
  } else {
    ResetState(StateType::kStateProbe);
    next = match + 1;
  }
  sent_commit = std::min(sent_commit, next - 1);
}

void Progress::BecomeReplicate() {
  ResetState(StateType::kStateReplicate);
  next = match + 1;
}

void Progress::BecomeSnapshot(uint64_t snapshot_index) {
  ResetState(StateType::kStateSnapshot);
  pending_snapshot = snapshot_index;
  next = snapshot_index + 1;
  sent_commit = snapshot_index;
}

void Progress::SentEntries(size_t entries, uint64_t bytes) {
  switch (state) {
    case StateType::kStateReplicate:
      if (entries > 0) {
        next += entries;
        inflights.Add(next - 1, bytes);
      }
      // A message that fills the window, or one sent while it was already
      // full, counts as a probe: the flow pauses.
      msg_app_flow_paused = inflights.Full();
      return;
    case StateType::kStateProbe:
      // etcd pauses only after a non-empty probe (its TODO considers pausing
      // unconditionally); we keep that behaviour.
      if (entries > 0) msg_app_flow_paused = true;
      return;
    case StateType::kStateSnapshot:
      break;
  }
  RAFTLOG_CHECK_MSG(false,
                    "sending append in unhandled state " + std::string(StateTypeName(state)));
}

bool Progress::MaybeUpdate(uint64_t n) {
  if (n <= match) return false;
  match = n;
  next = std::max(next, n + 1);  // invariant: match < next
  msg_app_flow_paused = false;
  return true;
}

bool Progress::MaybeDecrTo(uint64_t rejected, uint64_t match_hint) {
  if (state == StateType::kStateReplicate) {
    // Everything up to match is acknowledged, so a rejection at or below it
    // is stale (reordered or duplicated).
    if (rejected <= match) return false;
    // Resume right after the known match (etcd does not use the hint here).
    next = match + 1;
    // The commit index sent with the rejected messages was likely not
    // applied by the follower.
    sent_commit = std::min(sent_commit, next - 1);
    return true;
  }

  // Outside kStateReplicate the follower is probed one message at a time, so
  // a genuine rejection is for next - 1; anything else is stale (best effort:
  // reordering is assumed rare).
  if (next - 1 != rejected) return false;

  next = std::max(std::min(rejected, match_hint + 1), match + 1);
  sent_commit = std::min(sent_commit, next - 1);
  msg_app_flow_paused = false;
  return true;
}

bool Progress::IsPaused() const {
  switch (state) {
    case StateType::kStateProbe:
    case StateType::kStateReplicate:
      return msg_app_flow_paused;
    case StateType::kStateSnapshot:
      return true;
  }
  RAFTLOG_CHECK_MSG(false, "unexpected state");
  return true;
}

std::string Progress::String() const {
  std::string out(StateTypeName(state));
  out += " match=" + std::to_string(match) + " next=" + std::to_string(next);
  if (is_learner) out += " learner";
  if (IsPaused()) out += " paused";
  if (pending_snapshot > 0) out += " pendingSnap=" + std::to_string(pending_snapshot);
  if (!recent_active) out += " inactive";
  if (size_t n = inflights.Count(); n > 0) {
    out += " inflight=" + std::to_string(n);
    if (inflights.Full()) out += "[full]";
  }
  return out;
}

std::string ProgressMap::String() const {
  std::string out;
  for (const auto& [id, pr] : *this) {
    out += std::to_string(id) + ": " + pr.String() + "\n";
  }
  return out;
}

}  // namespace raftlog::raft::tracker
