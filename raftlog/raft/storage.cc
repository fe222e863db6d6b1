#include "raftlog/raft/storage.h"

namespace raftlog::raft {

Status WritableStorage::Save(const HardState& hs, std::span<const Entry> entries,
                             const raft::Snapshot* snapshot, bool /*must_sync*/) {
  // The snapshot (which replaces the log) first, so that the HardState's
  // commit index never points past a durable log; then the entries that
  // follow the snapshot.
  if (snapshot != nullptr && !IsEmptySnap(*snapshot)) {
    RAFTLOG_RETURN_IF_ERROR(ApplySnapshot(*snapshot));
  }
  if (!IsEmptyHardState(hs)) RAFTLOG_RETURN_IF_ERROR(SetHardState(hs));
  return Append(entries);
}

}  // namespace raftlog::raft
