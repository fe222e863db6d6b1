// The snapshot files of a log directory (DIR/snapshots, written by
// DiskStorage through snapshot::SnapshotStore), listed read-only.
//
// Thread-compatible.

#pragma once

#include <memory>
#include <string>

#include "raftlog/format/meta_records.h"
#include "raftlog/format/result.h"
#include "raftlog/snapshot/snapshot_store.h"
#include "tools/json.h"
#include "tools/log_dir.h"

namespace raftlog::tools {

// Opens DIR/snapshots read-only (never creating it, never removing temp
// files). Returns nullptr if the directory does not exist (a log without
// snapshots); errors as SnapshotStore::Open.
Result<std::unique_ptr<snapshot::SnapshotStore>> OpenSnapshotsReadOnly(const LogDir& dir);

// The ConfState record as JSON: {"voters": [...], "learners": [...],
// "voters_outgoing": [...], "learners_next": [...], "auto_leave": bool}.
Json ConfStateJson(const format::ConfStateRecord& cs);
// "voters [1 2 3]", plus the other lists when they are not empty.
std::string ConfStateText(const format::ConfStateRecord& cs);

}  // namespace raftlog::tools
