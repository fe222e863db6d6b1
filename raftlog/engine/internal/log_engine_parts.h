// The parts of LogEngine (raftlog/engine/log_engine.h) share this header:
// its nested structs and the small helpers every part uses. LogEngine's
// definitions are split by job, each file in one reading:
//   log_engine.cc           open/close lifecycle, the lock, notes
//   log_engine_open.cc      opening: metadata, format, the segment list
//   log_engine_recover.cc   recovery of the active segment and the checks after it
//   log_engine_read.cc      the read path, state records and Stats
//   log_engine_write.cc     appends: frames into the active segment, LMDB commits
//   log_engine_segments.cc  rolls, seals, truncation, compaction, reset, sync
//   log_engine_seal.cc      the background seal of a full segment
//   log_engine_compress.cc  rewriting a sealed segment compressed (cold segments)
//   log_engine_cold.cc      the background worker that does it (internal/cold_worker.h)
// Private to the engine: not installed.

#pragma once

#include "raftlog/engine/log_engine.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <set>

#include "raftlog/engine/internal/cold_worker.h"
#include "raftlog/engine/internal/durable_progress.h"
#include "raftlog/engine/internal/elapsed.h"
#include "raftlog/engine/internal/frame_cache.h"
#include "raftlog/engine/internal/preallocator.h"
#include "raftlog/engine/internal/segment.h"
#include "raftlog/engine/segment_reader.h"
#include "raftlog/engine/segment_scan.h"
#include "raftlog/format/coding.h"
#include "raftlog/format/compression.h"
#include "raftlog/format/layout.h"
#include "raftlog/format/record_format.h"
#include "raftlog/format/segment_header.h"
#include "raftlog/io/file_system.h"

namespace raftlog::engine {

namespace internal::log_engine_detail {

// Names and keys: format/layout.h.
using format::layout::IsCreationLeftover;
using format::layout::kFormatKey;
using format::layout::kGenerationKey;
using format::layout::kLockFile;
using format::layout::kMetaFile;
using format::layout::kNextSegmentIdKey;
using format::layout::kSegmentKeyPrefix;
using format::layout::kSegmentsDir;
using format::layout::kStagingDir;
using format::layout::kStartKey;
using format::layout::kStatePrefix;
using format::layout::SegmentKey;

constexpr uint64_t kMinSegmentBytes = 64u << 10;
constexpr uint64_t kMaxSegmentBytes = 2ull << 30;

// The counters under log/ (next segment id, generation): format::EncodeCounter.
inline std::string Counter(std::string_view key, uint64_t v) { return format::EncodeCounter(key, v); }

inline Result<uint64_t> DecodeCounterValue(const std::optional<std::string>& v, std::string_view key) {
  if (!v.has_value()) return Status::Corruption("metadata key " + std::string(key) + " is missing");
  auto decoded = format::DecodeCounter(key, *v);
  if (!decoded.ok()) return decoded.status().WithContext("metadata key " + std::string(key));
  return *decoded;
}

// "log/start": the first index and the term of the entry before it.
inline std::string EncodeStart(uint64_t first_index, uint64_t prev_term) {
  return format::EncodeLogStart(format::LogStartRecord{first_index, prev_term});
}

// Bytes a footer with `frames` frames and `runs` term runs needs, trailer
// included: what must stay free at the end of an active segment.
inline uint64_t SealReserve(uint64_t frames, uint64_t runs) {
  return format::FrameBytes(16 + 8 * frames + 16 * runs) + format::kTrailerBytes;
}

// Raw payload bytes of a frame holding `count` entries with `data` bytes.
inline uint64_t RawPayloadBytes(uint64_t count, uint64_t data) { return count * 5 + data; }

inline std::string ParentDir(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return p.substr(0, slash);
}


using internal::ElapsedNs;

// Raises *max to ns. REQUIRES: one writer at a time (the caller holds the
// lock that orders the writes); readers (GetStats) may read any time.
inline void RaiseMax(std::atomic<uint64_t>* max, uint64_t ns) {
  if (ns > max->load(std::memory_order_relaxed)) max->store(ns, std::memory_order_relaxed);
}

// The manifest record of `segment` once sealed: its entries end at
// last_index, in the term runs `runs`, its footer at footer_offset, the file
// file_bytes long (what WriteSeal returned). Every seal commits this record:
// on a roll, by the sealer, and when recovery finishes a seal.
inline format::SegmentRecord SealedRecord(const Segment& segment, uint64_t last_index,
                                          uint64_t footer_offset, uint64_t file_bytes,
                                          std::vector<format::TermRun> runs) {
  format::SegmentRecord sealed = segment.record();
  sealed.state = format::SegmentState::kSealed;
  sealed.last_index = last_index;
  sealed.footer_offset = footer_offset;
  sealed.file_bytes = file_bytes;
  sealed.term_runs = std::move(runs);
  return sealed;
}

}  // namespace internal::log_engine_detail

struct LogEngine::Counters {
  std::atomic<uint64_t> appends{0}, entries_appended{0}, frames_written{0}, compressed_frames{0},
      bytes_written{0}, raw_bytes_written{0}, log_syncs{0}, meta_commits{0}, segment_rolls{0},
      suffix_truncations{0}, segments_compressed{0}, background_seals{0}, seal_waits{0},
      seal_wait_ns{0}, seal_wait_max_ns{0},  // the wait times: written under seal_mu_
      write_max_ns{0}, log_sync_max_ns{0};   // an append's pwritev / fdatasync: under write_mu_
  // Set during open only (single-threaded).
  uint64_t open_segments_from_footer = 0, open_bytes_scanned = 0, open_frames_scanned = 0,
           torn_tail_cuts = 0, torn_tail_bytes = 0, dropped_valid_frames = 0, stray_files_found = 0,
           stray_files_removed = 0, spare_segments_kept = 0, unfinished_seals = 0,
           open_bytes_rewritten = 0, successors_adopted = 0, successors_dropped = 0;
};

// Frames written to the active segment but not yet published to readers.
struct LogEngine::PendingFrames {
  std::vector<format::FrameRef> frames;
  std::vector<format::TermRun> runs;  // runs that are new to term_runs_
  uint32_t segment_runs = 0;          // runs new to the active segment's footer
  uint64_t last_index = 0;
  bool empty() const { return frames.empty(); }
};

// A roll's seal, handed to the sealer thread (log_engine_seal.cc).
struct LogEngine::SealJob {
  // The full segment. It stays in segments_ (readers go on reading it as an
  // active segment) and nobody else changes it until the sealer seals it.
  internal::Segment* segment = nullptr;
  uint64_t write_offset = 0;    // where its frames end: the footer goes here
  uint64_t last_index = 0;      // its last entry
  uint64_t durable_offset = 0;  // its bytes known synced before the roll
  std::vector<format::TermRun> runs;
  // Listed active in the seal's commit, with log/next_segment_id moved past it.
  format::SegmentRecord successor;
  uint64_t next_segment_id = 0;

  // Set: not a seal but a cold segment's swap (SwapCompressed), which the
  // sealer commits so that the writer lock is not held across an LMDB
  // commit. The seal slot gives it the seal's exclusion: a roll, a
  // truncation, a compaction, a reset and Close wait for it, so the raw
  // record the worker checked under the writer lock stays listed unchanged
  // until the commit.
  struct ColdSwap {
    // Declared, not defaulted: clang does not take a nested struct with
    // default member initializers as default-constructible inside its
    // still incomplete enclosing struct (std::optional<ColdSwap>::emplace).
    ColdSwap() {}
    format::SegmentRecord compressed;
    uint64_t generation_counter = 0;  // stored with it: max(generation_, its generation)
    // Filled by the sealer; read by the worker once `done` (under seal_mu_).
    struct Outcome {
      bool done = false;
      Status status;
      std::unique_ptr<internal::Segment> old;  // set once swapped
    };
    std::shared_ptr<Outcome> outcome = std::make_shared<Outcome>();
  };
  std::optional<ColdSwap> cold;
};

}  // namespace raftlog::engine
