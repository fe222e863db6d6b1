// ClassifyLogDirectory: the one decision of what each entry of a log
// directory is (docs/format.md §11): part of the log, a prepared spare
// segment, a leftover of an interrupted operation, a side file of raftlog
// repair, or something that is not ours. The engine's open applies its
// policy to it (removes strays, keeps complete spares, refuses a log whose
// sealed segment is missing) and `raftlog verify` reports it, so that the
// two never disagree on what a file is.
//
// What is classified: the names in the log directory itself and in
// segments/ (snapshots/ is the snapshot store's, which classifies its own
// files). The classification is by name, the manifest and the file's size;
// the contents are the policies' business (verify checks that a spare is
// all zeros).
//
// Thread-compatible (a plain function).

#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/format/meta_records.h"
#include "raftlog/format/result.h"
#include "raftlog/io/file_system.h"

namespace raftlog::engine {

enum class DirEntryKind : uint8_t {
  // --- the log directory ---
  // LOCK, meta.mdb, meta.mdb-lock, segments/, snapshots/: the log's own.
  kLogFile,
  // creating.tmp/: the staging directory of a creation interrupted after
  // meta.mdb was renamed into place (the engine removes it).
  kInterruptedCreation,
  // repair-<time>-<segment>.seg.cut: bytes raftlog repair cut, kept for the
  // operator; never part of the log, never removed by the engine.
  kRepairSideFile,
  // --- segments/ ---
  // A segment the manifest lists.
  kListedSegment,
  // A segment the manifest lists whose file is not there.
  kMissingSegment,
  // "<id>.seg" with an id at or past log/next_segment_id: a spare segment
  // prepared for the next roll (the engine keeps it if it has the full
  // segment size: it was renamed into place only once complete).
  kSpareSegment,
  // "<id>.seg" with an id below log/next_segment_id that the manifest does
  // not list: left by a compaction or truncation whose removal was
  // interrupted, or a segment dropped on open. Also the raw "<id>.seg" of a
  // segment the manifest lists compressed, and a compressed rewrite
  // "<id>-<generation>.zseg" the manifest does not list (an interrupted
  // compression, either side of its commit).
  kStraySegment,
  // "<name>.tmp": a spare segment whose preparation was interrupted before
  // its rename.
  kInterruptedSpare,
  // --- either ---
  // A name that is none of the above: not ours.
  kForeign,
};

// "log file", "interrupted creation", ... (for messages).
std::string_view DirEntryKindName(DirEntryKind kind);

struct DirEntry {
  // Relative to the log directory: "meta.mdb", "segments/<id>.seg".
  std::string name;
  DirEntryKind kind = DirEntryKind::kForeign;
  // Why it is that kind, in words (for reports).
  std::string reason;
  // In segments/ (else in the log directory itself).
  bool in_segments = false;
  // Segment entries: the id the name gives.
  std::optional<uint64_t> segment_id;
  // Files in segments/ that are not listed (the policies need it: a spare is
  // complete only at the full segment size); nullopt otherwise, or if the
  // file cannot be opened.
  std::optional<uint64_t> size;
};

struct DirScanInput {
  // The segments the manifest lists (the engine: those it loaded).
  std::set<uint64_t> listed;
  // Of those, the ones listed compressed, with their generation: their file
  // is "<id>-<generation>.zseg", not "<id>.seg".
  std::map<uint64_t, uint64_t> compressed;
  // log/next_segment_id; nullopt if unknown (the manifest is unreadable:
  // any unlisted segment name may then be a spare).
  std::optional<uint64_t> next_segment_id;
};

// Lists and classifies `dir` and its segments/ (NotFound or IOError if a
// directory cannot be listed; a missing segments/ is empty). Entries in
// name order, the directory's first, then segments/, then a kMissingSegment
// entry for each listed segment without a file.
Result<std::vector<DirEntry>> ClassifyLogDirectory(io::FileSystem* fs, const std::string& dir,
                                                   const DirScanInput& input);

// --- the successor of an unfinished roll ---------------------------------------
//
// A roll sealed in the background (Options::background_seal) writes into the
// next spare before any manifest record lists it: until the seal commits,
// that file is found only by its header (id, generation, base index), which
// its first frame write put there. These are the one rule by which recovery
// and `raftlog verify` recognise it (docs/crash-safety.md, "Background
// seals"): the spare whose valid header has the active segment's generation
// and the base index right after the log's recovered end continues the log.
// Every other spare with a non-zero header holds nothing acknowledged (a
// successor the recovered log does not reach, or a torn first write) and is
// dropped.

struct SpareHeaders {
  // The successor, as the manifest record the seal would have committed
  // (state active, last_index a hint), if a spare continues the log.
  std::optional<format::SegmentRecord> successor;
  // The other spares with a header that is not all zero, by id, with why
  // they do not continue the log.
  std::map<uint64_t, std::string> dropped;
};

// Reads the header of every spare "<id>.seg" in `segments_dir` with id >=
// first_spare_id (log/next_segment_id) and applies the rule above for a log
// whose active segment has `generation` and whose recovered entries end at
// next_index - 1. IOError if the directory cannot be listed or a spare
// cannot be read.
Result<SpareHeaders> FindSuccessor(io::FileSystem* fs, const std::string& segments_dir,
                                   uint64_t first_spare_id, uint64_t generation,
                                   uint64_t next_index);

// The classification of one name in segments/ (no I/O: size unknown).
DirEntry ClassifySegmentsEntry(std::string_view name, const DirScanInput& input);
// The classification of one name in the log directory itself (no I/O).
DirEntry ClassifyTopEntry(std::string_view name);

}  // namespace raftlog::engine
