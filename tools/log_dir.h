// Read-only access to a log directory's files as docs/format.md §11 lays
// them out, for the raftlog tool: the names, the LMDB metadata (opened
// read-only, without the writer lock), and the decoded manifest.
//
// The tool reads the files through the library's public readers (the LMDB
// records of format/, engine::SegmentReader and engine::ScanSegment) rather
// than through an open LogEngine, so that it can describe a log the engine
// refuses to open and keep going after a problem.
//
// Thread-compatible.

#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "raftlog/engine/meta_store.h"
#include "raftlog/format/layout.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/format/result.h"
#include "raftlog/io/file_system.h"
#include "tools/findings.h"

namespace raftlog::tools {

// Names and LMDB keys of a log directory: format/layout.h, the one
// definition the engine uses too.
using format::layout::kFormatKey;
using format::layout::kGenerationKey;
using format::layout::kHardStateKey;
using format::layout::kLockFile;
using format::layout::kMetaFile;
using format::layout::kNextSegmentIdKey;
using format::layout::kSegmentKeyPrefix;
using format::layout::kSegmentsDir;
using format::layout::kSnapshotKey;
using format::layout::kSnapshotsDir;
using format::layout::kStartKey;
using format::layout::ParseSegmentFileName;
using format::layout::SegmentFileName;
using format::layout::SegmentRelPath;

// The metadata as decoded from LMDB. A field whose key is missing or does
// not decode is left empty and reported as a finding.
struct LogMetadata {
  std::optional<uint16_t> format_version;
  // log/start: entries live from first_index on; prev_term is the term of
  // first_index - 1 (the compaction point).
  std::optional<uint64_t> first_index;
  uint64_t prev_term = 0;
  std::optional<uint64_t> next_segment_id;
  std::optional<uint64_t> generation;
  // The manifest, sorted by segment id; records that do not decode are left
  // out (and reported).
  std::vector<format::SegmentRecord> segments;
  std::optional<format::HardStateRecord> hard_state;
  std::optional<format::SnapshotMetaRecord> snapshot;
  // log/durable (format::kDurableKey): how much of the active segment the
  // last LMDB commit knew synced; absent in logs written before it existed.
  std::optional<format::DurableRecord> durable;

  // OK if the keys a reader needs to find the entries (format, log/start,
  // the manifest) all decoded; else the first problem with them, naming
  // meta.mdb and the key (NotSupported for a newer format, else Corruption).
  Status problem;
};

// A log directory opened for reading. Never takes the LOCK and never writes.
class LogDir {
 public:
  // Checks that `dir` exists, is a directory and holds meta.mdb, checks
  // meta.mdb's header (CheckLmdbFile: a truncated file would crash LMDB) and
  // opens it read-only. Returns NotFound (no such directory),
  // InvalidArgument (not a directory, or not a raftlog log), Corruption (a
  // damaged meta.mdb), IOError, with a one-line message naming the path.
  static Result<std::unique_ptr<LogDir>> Open(io::FileSystem* fs, const std::string& dir);

  // Checks only that `dir` looks like a log directory (the first steps of
  // Open), for commands that go on without the metadata.
  static Status CheckIsLogDir(io::FileSystem* fs, const std::string& dir);

  // Decodes every key the engine and DiskStorage write. Each problem is
  // added to *findings (may be null) as an error naming meta.mdb and the key.
  // Returns an error only if LMDB itself cannot be read.
  Result<LogMetadata> ReadMetadata(Findings* findings) const;

  // Beside a live writer's cold worker: whether the manifest as of now lists
  // the raw segment `raw` rewritten compressed, whose swap removed the raw
  // file: the same id and first index, and the same entries if `raw` was
  // sealed (an active one was sealed first, with its entries and perhaps
  // more). Its record then; nullopt otherwise (also when the metadata cannot
  // be read again).
  std::optional<format::SegmentRecord> CompressedRewriteNow(
      const format::SegmentRecord& raw) const;

  io::FileSystem* fs() const { return fs_; }
  const std::string& dir() const { return dir_; }
  std::string Path(std::string_view rel) const { return io::JoinPath(dir_, rel); }
  std::string SegmentPath(uint64_t id) const;
  // The file `record` names (a compressed segment's name has its generation).
  std::string SegmentPath(const format::SegmentRecord& record) const;
  const engine::MetaStore& meta() const { return *meta_; }

 private:
  LogDir(io::FileSystem* fs, std::string dir, std::unique_ptr<engine::MetaStore> meta)
      : fs_(fs), dir_(std::move(dir)), meta_(std::move(meta)) {}

  io::FileSystem* const fs_;
  const std::string dir_;
  std::unique_ptr<engine::MetaStore> meta_;
};

}  // namespace raftlog::tools
