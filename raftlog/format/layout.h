// The on-disk layout of a log directory, defined once: every file and
// directory name, how ids are written into names, and every LMDB key
// (docs/format.md §11, docs/architecture.md §4.1). The engine, the snapshot
// store, DiskStorage and the raftlog tool all name files and keys through
// this header and nowhere else, so that no two of them can disagree on what
// a name means.
//
//   <dir>/LOCK                        flock'ed by the one writer
//   <dir>/meta.mdb, meta.mdb-lock     LMDB: format, log/…, seg/<id>, state/…
//   <dir>/creating.tmp/               a new log's metadata before it is renamed
//   <dir>/segments/<id>.seg           segments; spares are prepared as <id>.seg.tmp
//   <dir>/segments/<id>-<gen>.zseg    a sealed segment rewritten compressed, under a
//                                     new generation (LogEngine::CompressSegment)
//   <dir>/snapshots/<term>-<index>.snap   snapshots; written as <name>.tmp
//   <dir>/repair-<UTC time>-<id>.seg.cut  bytes raftlog repair cut from a segment
//
// Ids in names are 16 lowercase hex digits, so that names sort as ids do.
// Parsing accepts exactly what formatting produces (no upper case, no other
// length), so a name round-trips and a foreign file is never taken for ours.
//
// Everything here is pure (no I/O, no state) and thread-safe.

#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace raftlog::format::layout {

// --- files and directories of a log directory -----------------------------------

inline constexpr std::string_view kLockFile = "LOCK";
inline constexpr std::string_view kMetaFile = "meta.mdb";
// LMDB's own lock file beside meta.mdb (the tool and the engine never lock it
// for reading: MDB_NOLOCK readers; a writer's LMDB creates it).
inline constexpr std::string_view kMetaLockFile = "meta.mdb-lock";
// Where a new log's metadata is made before it is renamed into place.
inline constexpr std::string_view kStagingDir = "creating.tmp";
inline constexpr std::string_view kSegmentsDir = "segments";
inline constexpr std::string_view kSnapshotsDir = "snapshots";
// Appended to a final name to name the file it is written as before the
// rename that publishes it (a spare segment, a snapshot).
inline constexpr std::string_view kTempSuffix = ".tmp";

inline constexpr std::string_view kSegmentSuffix = ".seg";
inline constexpr std::string_view kCompressedSegmentSuffix = ".zseg";
inline constexpr std::string_view kSnapshotSuffix = ".snap";

// Entries an interrupted creation of a log (before meta.mdb was renamed into
// place) can leave in its directory: LOCK, meta.mdb-lock and the staging
// directory.
bool IsCreationLeftover(std::string_view name);

// --- ids ------------------------------------------------------------------------

inline constexpr size_t kHexIdDigits = 16;
// `id` as 16 lowercase hex digits.
std::string FormatHexId(uint64_t id);
// The inverse of FormatHexId: nullopt unless `text` is exactly 16 lowercase
// hex digits.
std::optional<uint64_t> ParseHexId(std::string_view text);

// --- segments -------------------------------------------------------------------

// "<id>.seg".
std::string SegmentFileName(uint64_t id);
// The id of a name SegmentFileName made; nullopt for any other name.
std::optional<uint64_t> ParseSegmentFileName(std::string_view name);
// "segments/<id>.seg": how a segment is named relative to the log directory
// (in the tool's findings and messages).
std::string SegmentRelPath(uint64_t id);
// "<id>-<generation>.zseg": a sealed segment rewritten with compressed
// frames under a new generation. The generation is in the name so that the
// rewritten file never has the name of the file it replaces, nor of an
// earlier attempt's leftover of another generation.
std::string CompressedSegmentFileName(uint64_t id, uint64_t generation);
struct CompressedSegmentName {
  uint64_t id = 0;
  uint64_t generation = 0;
};
// The id and generation of a name CompressedSegmentFileName made; nullopt for
// any other name.
std::optional<CompressedSegmentName> ParseCompressedSegmentFileName(std::string_view name);
// "<id>.seg.tmp": a spare segment while it is being prepared.
std::string SpareTempFileName(uint64_t id);
// True for names that end in ".tmp" (a spare or snapshot being written).
bool IsTempName(std::string_view name);

// --- snapshots ------------------------------------------------------------------

// "<term>-<index>.snap": names sort by term, then index, like etcd's snap
// files.
std::string SnapshotFileName(uint64_t term, uint64_t index);
struct SnapshotName {
  uint64_t term = 0;
  uint64_t index = 0;
};
// The term and index of a name SnapshotFileName made, or nullopt for any
// other name (temp names included).
std::optional<SnapshotName> ParseSnapshotFileName(std::string_view name);
// "<final_name>.tmp": the file a snapshot is written to before its rename.
std::string SnapshotTempFileName(std::string_view final_name);
// True exactly for names SnapshotTempFileName can make from a snapshot name.
bool IsSnapshotTempFileName(std::string_view name);

// --- side files of raftlog repair ---------------------------------------------------

// "repair-<time as YYYYMMDDTHHMMSSZ, UTC>-<segment file name>.cut": the
// bytes one repair cut from `segment_name`, saved before they were zeroed.
std::string RepairSideFileName(std::string_view segment_name, std::time_t when);
// True exactly for names RepairSideFileName can make.
bool IsRepairSideFileName(std::string_view name);

// --- LMDB keys (meta.mdb) ---------------------------------------------------------

// The format version (2 bytes, little-endian).
inline constexpr std::string_view kFormatKey = "format";
// LogStartRecord: the first index and the term of the entry before it.
inline constexpr std::string_view kStartKey = "log/start";
// Counters (format::EncodeCounter): the next segment id, the generation.
inline constexpr std::string_view kNextSegmentIdKey = "log/next_segment_id";
inline constexpr std::string_view kGenerationKey = "log/generation";
// DurableRecord: how much of the active segment the last commit knew synced.
inline constexpr std::string_view kDurableKey = "log/durable";
// SegmentRecord of each segment: "seg/<id>" (the manifest).
inline constexpr std::string_view kSegmentKeyPrefix = "seg/";
std::string SegmentKey(uint64_t id);
// The id in a key SegmentKey made; nullopt for any other key.
std::optional<uint64_t> ParseSegmentKey(std::string_view key);

// The engine's state (LogEngine::PutState/GetState) lives under "state/";
// the engine's callers name their keys without the prefix.
inline constexpr std::string_view kStatePrefix = "state/";
std::string StateKey(std::string_view name);
// DiskStorage's two state names, and their full keys.
inline constexpr std::string_view kHardStateName = "hardstate";  // HardStateRecord
inline constexpr std::string_view kSnapshotName = "snapshot";    // SnapshotMetaRecord
inline constexpr std::string_view kHardStateKey = "state/hardstate";
inline constexpr std::string_view kSnapshotKey = "state/snapshot";

}  // namespace raftlog::format::layout
