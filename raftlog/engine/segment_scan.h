// ScanSegment: the one scan of an active segment's header and frames, and
// the one classification of what ends them. Recovery (LogEngine's open) and
// the raftlog tool (verify, info, dump, repair, backup) all scan through it
// and apply their own policy to the same findings: recovery cuts a torn
// write or refuses to open; verify reports; repair cuts; info and dump say
// what the engine will do. So the tool can never call lost data a torn write
// while the engine refuses it, or the other way round.
//
// What the scan checks (docs/format.md §6, docs/architecture.md §4.7):
//   - the file holds at least a segment header; the header decodes, is of a
//     format version this build reads, and names the manifest record's
//     segment id, base index and generation;
//   - frames follow from offset 64, each decoding with the segment's seed,
//     holding consecutive indexes from the base index with terms that never
//     decrease;
//   - the frames end at an all-zero frame header followed by nothing but
//     zeros (or the end of the file), or at a footer frame (a seal that was
//     interrupted before the manifest recorded it); in a recycled segment
//     (format::kSegmentFlagStaleTail) at an all-zero frame header that no
//     later valid frame proves durable, whatever stale bytes follow it;
//   - anything else after the last good frame is damage: a torn write if no
//     valid frame after it proves it was durable (a format version 2 frame
//     proves it when the durable offset it records passes the damage; in
//     version 1, any valid frame), else lost acknowledged data;
//   - a file shorter than its header's segment size without a footer was cut.
//
// Thread-compatible (plain functions over a SegmentReader the caller owns).

#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "raftlog/engine/options.h"
#include "raftlog/engine/segment_reader.h"
#include "raftlog/format/compression.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/format/record.h"
#include "raftlog/format/result.h"
#include "raftlog/format/segment_header.h"

namespace raftlog::engine {

// How the scan of a segment ended: the one classification. Exactly one
// applies to every scan.
enum class SegmentFinding : uint8_t {
  // Good frames (maybe none), then zeros to the end of the file.
  kClean,
  // The header is all zeros and no valid frame follows: the segment's first
  // write never reached the disk. Nothing is lost.
  kUnwritten,
  // Good frames, then a valid footer frame: a seal interrupted after the
  // footer was written and before the manifest recorded it (recovery
  // finishes it). Nothing is lost.
  kUnfinishedSeal,
  // Good frames, then bad bytes at damage_offset that no later valid frame
  // proves durable: the last write was torn by a crash. Its entries were
  // never acknowledged; cutting at damage_offset loses nothing acknowledged.
  kTornWrite,
  // Bad bytes at damage_offset followed by a valid frame at valid_after that
  // proves they were durable: acknowledged entries were lost or are behind
  // the damage. Not a torn write.
  kLostAcknowledged,
  // A valid frame at damage_offset holds the wrong index or a lower term.
  kOutOfSequence,
  // The header decodes but belongs to another segment or generation.
  kHeaderMismatch,
  // The header is of a newer format version than this build reads.
  kNewerFormat,
  // The file is shorter than a segment header.
  kShortFile,
  // The file is shorter than its header's segment size and has no footer:
  // it was cut (a truncation, a bad copy), never by the engine.
  kCutFile,
  // The scan stopped after the frame holding ScanOptions::max_index; what
  // follows was not judged.
  kStopped,
};

// "clean", "torn write", ... (for messages and JSON).
std::string_view SegmentFindingName(SegmentFinding finding);

struct ScanOptions {
  // Frames must not have a term below this (the term of the segment before).
  uint64_t min_term = 0;
  // Stop, as at a clean end, after the frame holding this index: beside a
  // live writer, frames past what the engine saw are its progress.
  uint64_t max_index = UINT64_MAX;
  // Called for every good entries frame, in order, with its file offset.
  // A non-OK Status (its message saying what is wrong) makes the scan treat
  // the frame as bad there (as a damaged frame), e.g. a payload check. May
  // be empty.
  std::function<Status(const format::FrameView& frame, uint64_t offset)> on_frame;
};

struct SegmentScan {
  SegmentFinding finding = SegmentFinding::kClean;

  // The header, when it decoded and matched the record.
  std::optional<format::SegmentHeader> header;
  // The header is 64 zero bytes.
  bool header_zero = false;

  // The good frames: [64, good_end) holds good_frames entries frames with
  // the entries record.base_index .. last_index (base_index - 1 if none),
  // the last of term last_term (min_term if none).
  uint64_t good_frames = 0;
  uint64_t good_end = 0;
  uint64_t last_index = 0;
  uint64_t last_term = 0;
  // The largest commit hint the good frames carry, and the most of the
  // segment they record as durable (each frame's durable offset, capped at
  // its own offset).
  uint64_t commit_hint = 0;
  uint64_t durable_seen = 0;

  // kUnfinishedSeal: where the footer frame starts (= good_end).
  uint64_t footer_offset = 0;

  // kTornWrite, kLostAcknowledged, kOutOfSequence, kHeaderMismatch: where the
  // first bad byte or frame is (0 for the header), and what is wrong, as the
  // decoder says it ("<name> at offset <n>: ..." or "<name>: ...").
  uint64_t damage_offset = 0;
  Status damage;
  // kTornWrite, kLostAcknowledged: one past the last non-zero byte from
  // damage_offset on ([damage_offset, damage_end) is what a cut there
  // removes; in a recycled segment, whose tail holds stale bytes, one frame
  // header: zeroing it ends the frames there); the first valid frame after the damage that proves it durable
  // (kLostAcknowledged only) and how many valid frames follow the damage.
  uint64_t damage_end = 0;
  std::optional<uint64_t> valid_after;
  uint64_t valid_frames_after = 0;

  // For the findings that refuse the segment under every policy
  // (kOutOfSequence, kHeaderMismatch, kNewerFormat, kShortFile, kCutFile):
  // the error recovery returns, naming the file and offset.
  Status refusal;

  // A finding that no recovery policy accepts.
  bool refused() const { return !refusal.ok(); }
  // kTornWrite or kLostAcknowledged: bad bytes a recovery cut would drop.
  bool damaged() const {
    return finding == SegmentFinding::kTornWrite || finding == SegmentFinding::kLostAcknowledged;
  }
};

// Scans the active segment `record` through `reader` (whose name() is the
// segment's file name, as messages name it). Returns IOError if reading
// fails; everything about the bytes is in the result.
Result<SegmentScan> ScanSegment(SegmentReader* reader, const format::SegmentRecord& record,
                                const ScanOptions& options = ScanOptions());

// What recovery with `policy` makes of `scan` (of the segment `name`): OK if
// it opens the log (a clean end, an unwritten or unfinished segment, or damage
// the policy lets it cut), else the error it returns. The error's message is
// the one LogEngine::Open returns, so the tool can quote it.
//
//   finding            kTolerateTornTail   kAbsoluteConsistency   kTolerateCorruptedTail
//   kTornWrite         cut                 error                  cut
//   kLostAcknowledged  error               error                  cut
//   refused()          error               error                  error
Status RecoveryVerdict(const SegmentScan& scan, std::string_view name, RecoveryPolicy policy);

// The check of a good frame's payload that reading its entries makes (and
// open does not): it decompresses (into *scratch, with *decompressor) and
// its entry table parses. Corruption saying what is wrong (no file or
// offset) otherwise. For ScanOptions::on_frame in a full check.
Status CheckFramePayload(const format::FrameView& frame, format::Decompressor* decompressor,
                         std::string* scratch);

// "<name>: bad frame at offset <n> (<damage>)": how recovery names damage
// it cuts or refuses.
std::string DescribeDamage(const SegmentScan& scan, std::string_view name);

}  // namespace raftlog::engine
