// Stats: counters and gauges of one open LogEngine, for operators (`raftlog
// info`), tests (e.g. that open read footers, not data) and benchmarks (e.g.
// fsyncs per append).

#pragma once

#include <cstdint>

namespace raftlog::engine {

struct Stats {
  // The log.
  uint64_t first_index = 0;
  uint64_t last_index = 0;
  uint64_t segments = 0;  // live segments (sealed + active)
  uint64_t sealed_segments = 0;
  uint64_t segment_file_bytes = 0;  // bytes of live segment files on disk
  uint64_t compressed_segments = 0;  // live segments rewritten compressed (CompressSegment)
  uint64_t term_runs = 0;           // in-memory (first index, term) runs
  // Heap bytes of the in-memory index (frame tables of the active segment,
  // verification bits, term runs), the figure behind "bytes per live entry".
  uint64_t index_heap_bytes = 0;

  // Since open: the write path.
  uint64_t appends = 0;  // Append calls that wrote entries
  uint64_t entries_appended = 0;
  uint64_t frames_written = 0;
  uint64_t compressed_frames = 0;
  uint64_t bytes_written = 0;      // frame bytes (after compression)
  uint64_t raw_bytes_written = 0;  // payload bytes before compression
  uint64_t log_syncs = 0;          // fdatasync calls on segments
  uint64_t write_max_us = 0;       // the longest write of an append's frames (pwritev)
  uint64_t log_sync_max_us = 0;    // the longest fdatasync of an append
  uint64_t meta_commits = 0;       // LMDB transactions
  uint64_t segment_rolls = 0;
  uint64_t suffix_truncations = 0;
  uint64_t segments_compressed = 0;  // CompressSegment rewrites listed by this process
  uint64_t background_seals = 0;     // rolls sealed by the sealer thread (Options::background_seal)
  // Writes that waited for a background seal: a synced append for the old
  // segment's fdatasync, a roll or truncation for the previous seal's commit.
  uint64_t seal_waits = 0;
  uint64_t seal_wait_us = 0;      // the time those writes waited, in all
  uint64_t seal_wait_max_us = 0;  // ... and the longest single wait

  // Since open: the cold-segment worker (Options::compression_mode
  // kColdSegments).
  uint64_t cold_segments_compressed = 0;  // rewrites it listed
  uint64_t cold_segments_kept_raw = 0;    // rewrites not worth keeping (CompressSegmentOptions::max_ratio)
  uint64_t cold_segments_skipped = 0;     // segments passed over: compaction will remove them soon
  uint64_t cold_rewrites_abandoned = 0;   // rewrites stopped midway (close, compaction, truncation)
  uint64_t cold_errors = 0;               // rewrites that failed (the segment is not retried)
  uint64_t cold_bytes_read = 0;           // segment bytes it read: raw files, then rewrites read back (rate-limited)
  uint64_t cold_bytes_saved = 0;          // raw minus compressed bytes of its rewrites
  uint64_t cold_pauses_busy = 0;          // waits because the log appended fast
  uint64_t cold_pauses_cpu = 0;           // waits because the machine had no spare core
  // The worker's estimate of how many entries the log keeps behind its last
  // index when it compacts (0: no compaction seen yet).
  uint64_t cold_compaction_lag = 0;

  // Since open: the read path.
  uint64_t frame_cache_hits = 0;
  uint64_t frame_cache_misses = 0;

  // What open did (recovery).
  uint64_t open_segments_from_footer = 0;  // sealed segments opened by their footer
  uint64_t open_bytes_scanned = 0;         // frame bytes read and checksummed on open
  uint64_t open_frames_scanned = 0;
  uint64_t torn_tail_cuts = 0;        // torn tails cut back (0 or 1 per open)
  uint64_t torn_tail_bytes = 0;       // bytes dropped by those cuts (up to the last non-zero byte)
  uint64_t dropped_valid_frames = 0;  // only with RecoveryPolicy::kTolerateCorruptedTail
  uint64_t stray_files_found = 0;     // files not in the manifest (read-only: left alone)
  uint64_t stray_files_removed = 0;   // ... of them removed on open
  uint64_t unfinished_seals = 0;      // read-only: an active segment ending in a footer
  uint64_t open_bytes_rewritten = 0;  // recovered bytes the device lacked, written back on open
  uint64_t spare_segments_kept = 0;   // prepared spares found and reused on open
  // A roll whose background seal had not committed: the successor segment
  // found by its header and listed (adopted), or dropped because the active
  // segment's recovered end does not reach it (entries never acknowledged).
  uint64_t successors_adopted = 0;
  uint64_t successors_dropped = 0;

  // Since open: how the spare segments were made.
  uint64_t segments_recycled = 0;  // from freed segment files (Options::recycled_segments)
  uint64_t segments_prepared = 0;  // from fresh files (zeros written, or space allocated)
  uint64_t segments_zero_filled = 0;  // ... of them written with zeros (small synced appends)
  // Rolls that found no spare ready and waited for the preparing thread, the
  // time they waited in all, and the longest single wait.
  uint64_t spare_waits = 0;
  uint64_t spare_wait_us = 0;
  uint64_t spare_wait_max_us = 0;
};

}  // namespace raftlog::engine
