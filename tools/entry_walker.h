// EntryWalker: reads the live entries of a log in index order, straight from
// the segment files (engine::SegmentReader) as the manifest lists them, in
// constant memory. What dump and info are built on. The active segment is
// read through engine::ScanSegment, the scan recovery makes, so the walk
// ends where the engine's open does and calls damage what the engine calls it.
//
// It applies the rules a reader of docs/format.md must: a segment's header
// must match its manifest record; frames hold consecutive indexes from the
// segment's base index with terms that never decrease; a sealed segment
// ends at the manifest's last index (frames after it were cut by a suffix
// truncation) and its footer points the walk straight at the frame holding
// the first index wanted; the active segment ends at the first all-zero
// frame header. A bad frame at the end of the active segment with no valid
// frame after it is a torn write, which the engine cuts on its next open:
// the walk ends there and reports it. Any other bad frame is damage: the
// walk stops with Corruption naming the file and offset, after delivering
// every entry before it.
//
// Thread-compatible.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "raftlog/format/meta_records.h"
#include "raftlog/format/record.h"
#include "raftlog/format/status.h"
#include "tools/log_dir.h"

namespace raftlog::tools {

// What the walk tells its user. Default implementations do nothing.
class WalkVisitor {
 public:
  virtual ~WalkVisitor() = default;
  // Before the frames of each segment the walk reads. file_bytes is the
  // file's size.
  virtual void OnSegment(const format::SegmentRecord& record, uint64_t file_bytes);
  // Every entries frame read (including frames that hold only compacted
  // entries, or none the walk was asked for), at file offset `offset`.
  virtual void OnFrame(const format::SegmentRecord& record, const format::FrameView& frame,
                       uint64_t offset);
  // Each live entry in the range asked for, in index order; entry.data is
  // valid during the call only. Returning false ends the walk (OK).
  virtual bool OnEntry(const format::EntryView& entry);
};

// A torn write at the end of the active segment (see above).
struct TornTail {
  std::string file;     // "segments/<id>.seg"
  uint64_t offset = 0;  // where the bad frame starts
  std::string what;     // the decoder's description
};

// A damaged frame of a sealed segment that holds only compacted entries
// (below the log's first index): the engine never reads it again.
struct CompactedDamage {
  std::string file;  // "segments/<id>.seg"
  uint64_t offset = 0;
  uint64_t first_index = 0, last_index = 0;  // the entries it held
  std::string what;
};

struct WalkResult {
  // The last entry of the log (first_index - 1 if it is empty), if the walk
  // reached the end; else the last index it read.
  uint64_t last_index = 0;
  // The walk went through every segment (it was not stopped by `to` or the
  // visitor).
  bool reached_end = false;
  std::optional<TornTail> torn_tail;
  std::vector<CompactedDamage> compacted_damage;
  // Where the walk was last: the segment ("segments/<id>.seg") and the
  // offset of the frame being read. When Walk fails, where the problem is.
  std::string at_file;
  std::optional<uint64_t> at_offset;
  // When the walk stopped at `to`: where the frame holding `to` ends in
  // at_file.
  std::optional<uint64_t> end_offset;
  // The spare that continues the log past the manifest's active segment (a
  // roll whose background seal has not committed), when the walk reached
  // and read it: the last segment of the log.
  std::optional<format::SegmentRecord> successor;
};

// The segments of the log as a walk found them: the manifest's, then the
// successor the walk read, if any.
std::vector<format::SegmentRecord> WalkedSegments(const LogMetadata& meta, const WalkResult& walk);

class EntryWalker {
 public:
  // `dir` and `meta` must outlive the walker. REQUIRES: meta.problem.ok().
  EntryWalker(const LogDir* dir, const LogMetadata* meta) : dir_(dir), meta_(meta) {}

  // Delivers the live entries with index in [from, to] (first_index caps
  // `from`). With `seek`, the walk starts reading a sealed segment at the
  // frame that holds `from` (found through its footer); without, it reads
  // (and reports to OnFrame) every frame of every segment it visits. Returns Corruption (naming the
  // file and offset) for damage, NotFound for a segment file the manifest lists but that is
  // missing, IOError; *result is filled in either case (as far as the walk got).
  // Beside a live writer, a segment rewritten compressed since `meta` was
  // read is read in its new form, and a walk that ends short of `to` reads
  // on in the segments the manifest lists by then (`to` must not exceed the
  // last index the engine served before `meta` was read).
  Status Walk(uint64_t from, uint64_t to, bool seek, WalkVisitor* visitor, WalkResult* result);

 private:
  const LogDir* const dir_;
  const LogMetadata* const meta_;
};

}  // namespace raftlog::tools
