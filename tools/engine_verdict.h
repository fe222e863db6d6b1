// EngineVerdict: what the engine itself makes of a log, so that every
// command of the tool gives the same verdict as the application's next open.
// The tool's own readers (EntryWalker, LogChecker) may find more, and say
// where; they never overrule the engine: a log the engine refuses is refused
// by info and dump and is an error for verify, whatever the tool's own
// reading found.
//
// The log is opened read-only (no lock, nothing changed) twice at most:
//   1. with RecoveryPolicy::kAbsoluteConsistency, the strictest policy: if
//      it opens, the engine serves the log as it is and would cut nothing;
//   2. otherwise with the default RecoveryPolicy::kTolerateTornTail, what an
//      application's next open does: it either refuses the log (the error,
//      naming file and offset, is the verdict) or would cut a torn tail,
//      which its Stats describe (torn_tail_cuts, torn_tail_bytes,
//      dropped_valid_frames).
// Then what DiskStorage::Open adds on top of the engine, read-only: the
// HardState and the snapshot metadata must decode, and the snapshot file the
// metadata names must be there and valid. And one rule of the data: the
// stored HardState's commit index must not be beyond the entries the engine
// serves (or the snapshot): committed entries are then gone.
//
// DiskStorage::Open itself is not used: with a read-only engine it still
// opens the snapshot store for writing (creating snapshots/, removing temp
// files) and removes snapshot files newer than the one the metadata names,
// which beside a live writer would delete a snapshot whose metadata commit
// is about to happen. The checks it makes are repeated here instead.

#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "raftlog/engine/stats.h"
#include "raftlog/format/status.h"

namespace raftlog::tools {

struct EngineVerdict {
  // OK if the engine (default recovery) and DiskStorage's checks accept the
  // log; else the error an application's open gets.
  Status open_status;
  // The strict open succeeded: nothing would be cut.
  bool nothing_cut = false;
  // The entries the engine serves (after any cut): [first_index, last_index].
  uint64_t first_index = 0;
  uint64_t last_index = 0;
  // The open's statistics: torn tail cuts, unfinished seals, stray files.
  engine::Stats stats;
  // The stored HardState's commit index, if there is a HardState.
  std::optional<uint64_t> stored_commit;
  uint64_t snapshot_index = 0;

  // The log grew between two opens: a writer has it open (see
  // JudgeWithEngine), and what looked like a torn tail was its progress.
  bool live_writer = false;

  bool refused() const { return !open_status.ok(); }
  // Opens, serves the log as it is, and no committed entry is missing.
  bool clean() const;
  // Entries the stored commit index covers that the engine does not serve:
  // committed (so acknowledged) entries are gone. 0 if none.
  uint64_t committed_missing() const;
  // A one-line description of the missing committed entries, or "".
  std::string CommittedMissingText() const;
};

// Judges the log in `dir` as described above. Never changes anything. A
// verdict that is not clean is taken again twice (10 and 40 ms later), so that a
// live writer's progress (a frame half written when the engine read it) is
// not taken for damage.
EngineVerdict JudgeWithEngine(const std::string& dir);

}  // namespace raftlog::tools
