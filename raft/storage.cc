#include "raft/storage.h"

namespace raftlog::raft {

Status WritableStorage::Save(const HardState& hs, std::span<const Entry> entries,
                             const raft::Snapshot* snapshot, bool /*must_sync*/) {
  // etcd's order (rafttest's processAppend): HardState, then the snapshot,
  // which replaces the log, then the entries that follow it.
  if (!IsEmptyHardState(hs)) RAFTLOG_RETURN_IF_ERROR(SetHardState(hs));
  if (snapshot != nullptr && !IsEmptySnap(*snapshot)) {
    RAFTLOG_RETURN_IF_ERROR(ApplySnapshot(*snapshot));
  }
  return Append(entries);
}

}  // namespace raftlog::raft
