// ScanSealedSegment: the one walk of a sealed segment (header, trailer,
// footer, every frame up to the footer), with what is wrong classified by
// the entries it costs. The raftlog tool's verify (a full check that keeps
// going after damage) and its entry walker (info, dump: stops at the first
// loss) both read sealed segments through it; the engine checks a sealed
// segment's size, header, trailer and footer with the same function
// (CheckSealedStructure) when it first reads the segment
// (docs/architecture.md §4.7).
//
// Thread-compatible (a plain function over a SegmentReader the caller owns).

#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "raftlog/engine/segment_reader.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/format/record.h"
#include "raftlog/format/result.h"
#include "raftlog/format/segment_footer.h"

namespace raftlog::engine {

// One problem found in a sealed segment.
struct SealedProblem {
  // Where (a frame, the header at 0, the trailer, the footer); nullopt for
  // the file as a whole (shorter than the manifest says).
  std::optional<uint64_t> offset;
  // What is wrong, without the file name and offset.
  std::string what;
  // The entries it makes unreadable, when the footer's frame table says
  // which frame it is: [first_index, last_index]; else both 0.
  uint64_t first_index = 0;
  uint64_t last_index = 0;
  // All of those entries are below the log's first index: compacted away,
  // never read again by the engine. Nothing acknowledged is lost.
  bool compacted = false;
};

struct SealedScanOptions {
  // The log's first index: damage to frames wholly below it is compacted.
  uint64_t first_index = 1;
  // Frames must not have a term below this (the term of the segment before).
  uint64_t min_term = 0;
  // Start at the frame holding this index, found through the footer (from
  // the first frame if the footer cannot be read); 0: from the first frame.
  uint64_t from_index = 0;
  // Stop after the frame holding this index (e.g. the manifest's last index:
  // frames after it were cut by a suffix truncation).
  uint64_t max_index = UINT64_MAX;
  // Stop at the first problem that loses entries (a reader of entries);
  // otherwise keep going through the footer's frame table (a full check).
  bool stop_at_loss = true;
  // Called for every good entries frame, in order, with its file offset; a
  // non-OK Status makes the frame a problem there (e.g. a payload check).
  std::function<Status(const format::FrameView& frame, uint64_t offset)> on_frame;
};

struct SealedScan {
  // The footer, when the trailer and it are sound and agree with the record.
  std::optional<format::FooterContents> footer;
  // In file order. The scan stops at the first problem of the header or of
  // the file's size, and with stop_at_loss at the first loss.
  std::vector<SealedProblem> problems;
  uint64_t good_frames = 0;
  // The highest term of the good frames (min_term if none).
  uint64_t last_term = 0;
  // Stopped after the frame holding max_index.
  bool stopped = false;

  // A problem that is not compacted: acknowledged entries are unreadable.
  bool lost() const;
};

// The checks of a sealed segment that come before its frames, made by the
// engine on its first read of the segment (internal::Segment) and by
// ScanSealedSegment, so that there is one set of them: the file holds at
// least the manifest's size; the header decodes and matches the record
// (id, base index, generation); the trailer decodes and points at the
// manifest's footer offset; the footer frame decodes, its table starts at
// the base index and it covers the manifest's last index. The first
// problem found, or nullopt with *footer set (may be null). `ends_only` is
// set on a problem of the trailer or footer (the frames may still be
// walked), cleared on one of the size or header (they may not). IOError if
// reading fails.
struct SealedStructureProblem {
  SealedProblem problem;
  bool ends_only = false;
};
Result<std::optional<SealedStructureProblem>> CheckSealedStructure(
    SegmentReader* reader, const format::SegmentRecord& record,
    std::optional<format::FooterContents>* footer);

// Scans the sealed segment `record` through `reader` (whose name() names it
// in messages). IOError if reading fails; everything about the bytes is in
// the result.
Result<SealedScan> ScanSealedSegment(SegmentReader* reader, const format::SegmentRecord& record,
                                     const SealedScanOptions& options);

// What a segment file says of itself, without the manifest (for a reader
// whose metadata is unreadable): its header's id, base index and generation,
// and, when its trailer and footer are sound, kSealed with the footer's last
// index, the footer offset and the file's size; else kActive. nullopt if the
// header does not decode or names another segment than `id`. IOError if
// reading fails.
Result<std::optional<format::SegmentRecord>> DescribeSegmentFile(SegmentReader* reader,
                                                                 uint64_t id);

// DescribeSegmentFile for the file `name` at `path` in a segments
// directory, whichever its form: "<id>.seg", or "<id>-<generation>.zseg" (a
// compressed rewrite; described only if sealed and of that generation, with
// form kCompressed). nullopt for other names, for files that cannot be
// opened, and for DescribeSegmentFile's nullopt; its IOError otherwise.
Result<std::optional<format::SegmentRecord>> DescribeSegmentFileNamed(io::FileSystem* fs,
                                                                      const std::string& path,
                                                                      const std::string& name);

// Sorts records made from files by segment id and keeps one per id: where a
// raw file and its compressed rewrite both remain (a crash between the
// rewrite's commit and the raw file's removal, or before that commit), the
// raw one, which holds the same entries and is the original.
void OneRecordPerSegment(std::vector<format::SegmentRecord>* records);

}  // namespace raftlog::engine
