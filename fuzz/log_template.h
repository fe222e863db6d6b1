// A small DiskStorage log for the fuzz targets that start from a real log
// and damage it (segment_recovery, meta_records): built once per process, then
// copied afresh for every input; and the checks every opened log must pass.
//
// Thread-compatible.

#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "raftlog/engine/disk_storage.h"
#include "fuzz/fuzz_util.h"

namespace raftlog::fuzz {

struct TemplateSegment {
  std::string name;   // file name in segments/
  uint64_t seed = 0;  // FrameSeed(id, generation) from its header
};

// The template: ~170 entries of two terms in three 64 KiB segments (two
// sealed, one active), compacted to index 20, a snapshot at 30, a HardState.
struct LogTemplate {
  std::string dir;
  std::vector<TemplateSegment> segments;  // in id order; the last is active
};
const LogTemplate& Template();

// The options the template was written with (no background threads, 64 KiB
// segments), with the given recovery policy and read-only flag.
engine::DiskStorageOptions FuzzOptions(engine::RecoveryPolicy recovery, bool read_only);

// Replaces `dir` by a copy of the template.
void CopyTemplate(const std::string& dir);

// Damages the segment files of the copy in `dir` as the input says (the
// format is described in segment_recovery_fuzzer.cc): either replaces the
// active segment's bytes after its header by the rest of the input, or
// applies up to 16 patches; then, if `fix_checksums`, recomputes every
// checksum of every segment.
void DamageSegments(FuzzInput& in, const std::string& dir, bool replace_active, bool fix_checksums);

// Opens the log in `dir` and, if that succeeds, reads everything back and
// checks what a reader may rely on (consecutive entries whose terms agree
// with Term(), terms not decreasing, a commit index within the log); then,
// unless read-only or a read failed, writes one more entry, closes, and
// checks that the log reopens holding it. A violated property aborts
// (FuzzFail); errors (Corruption, NotSupported, ...) are fine, unless
// `must_work` (a checker found nothing wrong): then the open, every read and
// the write must succeed. `checksums_forged`: the damage recomputed
// checksums (some consistency checks are then known to be missing).
void ExerciseLog(const std::string& dir, const engine::DiskStorageOptions& options,
                 bool must_work = false, bool checksums_forged = false);

}  // namespace raftlog::fuzz
