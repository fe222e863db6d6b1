// Options of a log engine (LogEngine) and of DiskStorage, every field with its
// default and the reason for it. docs/operations.md explains how to choose.

#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "raftlog/format/compression.h"

namespace raftlog::io {
class FileSystem;
}

namespace raftlog::engine {

// When appended entries become durable.
enum class SyncPolicy : uint8_t {
  // Every Append that asks for durability (the default for a raft Ready that
  // MustSync) is followed by one fdatasync before it returns. Nothing
  // acknowledged is lost on power failure.
  kAlways,
  // Never fdatasync on the append path; the OS writes back when it likes.
  // A crash of the process loses nothing; a power failure may lose recent
  // appends. For benchmarks and for clusters that rely on replication only.
  kNever,
  // fdatasync from a background thread every sync_interval; appends return
  // without waiting. A power failure loses at most about one interval.
  kInterval,
};

// What recovery on open does when a segment's bytes fail their checks.
enum class RecoveryPolicy : uint8_t {
  // Any bad frame, even a torn write at the very end of the log, is an error.
  kAbsoluteConsistency,
  // The default. A bad frame at the end of the active (last) segment with no
  // valid frame of that segment after it is a torn write: the log is cut back
  // to the last good frame and the cut is reported in Stats. A bad frame
  // followed by a valid one, or any bad frame in a sealed segment, is a
  // Corruption error naming the file and offset: that is lost acknowledged
  // data, which must not be dropped silently.
  kTolerateTornTail,
  // Like kTolerateTornTail, but a bad frame in the active segment cuts the log
  // there even if valid frames follow (they are dropped and reported). For
  // logs written with SyncPolicy::kNever/kInterval, where several unsynced
  // frames may reach the disk out of order before a power failure.
  kTolerateCorruptedTail,
};

// Which compression the engine does (docs/operations.md, "Compression").
enum class CompressionMode : uint8_t {
  // None (unless the older switch compression.enabled is set: kEveryFrame).
  kOff,
  // A background thread rewrites sealed segments compressed (LogEngine::
  // CompressSegment) when the log and the machine leave it room; the append
  // path is untouched. See the cold_* fields.
  kColdSegments,
  // Every frame on the append path (the fields of `compression`).
  kEveryFrame,
};

struct Options {
  // The file system to use; nullptr means io::FileSystem::Default(). Not owned;
  // must outlive the engine.
  io::FileSystem* file_system = nullptr;

  // Create the directory and an empty log if it does not exist.
  bool create_if_missing = true;

  // Open for reading only, for tools: no writer lock is taken (a running
  // writer may have the log open), nothing on disk is ever changed, damage
  // that recovery would repair (a torn tail, an interrupted seal, stray
  // files) is only reported in Stats, and every write returns
  // FailedPrecondition. A log being written concurrently is seen as of the
  // moment of opening.
  bool read_only = false;

  // Size of each segment file. Entries are never split across segments, so one
  // entry (with ~100 bytes of overhead) must fit. Between 1 MiB and 2 GiB.
  uint64_t segment_bytes = 64ull << 20;

  // Segments kept prepared (fully written with zeros and synced) ahead of
  // need by a background thread, so an append never waits for allocation and
  // ENOSPC surfaces there, as an error, never as SIGBUS or mid-append.
  // Writing zeros rather than fallocate() makes fdatasync ~2x faster on ext4
  // (docs/architecture.md, "Segments"). 0: no background thread; a segment roll
  // prepares its file itself (slower rolls; deterministic I/O for tests).
  int prepared_segments = 1;

  // Segment files freed by compaction or truncation are kept, up to this
  // many, to be reused as the next prepared segments instead of fresh files:
  // writing into a reused file costs what overwriting costs, while a fresh
  // file costs either its zeros or an extent conversion per fdatasync
  // (docs/benchmarks.md). A file is reused only when no payload returned by
  // Entries() still views it. No fresh file is made while a freed one waits,
  // so waiting files never make the log hold more files than it did at its
  // peak. Each waiting file holds segment_bytes of disk until reused; Close
  // deletes those not used. 0: delete freed files at once.
  int recycled_segments = 64;

  // Seal full segments on a background thread. A roll then only switches
  // to the next (prepared) file and goes on appending; the old segment's
  // footer, its fdatasync and the manifest commit run beside the appends
  // (docs/crash-safety.md, "Background seals"). A synced append that rolled
  // still returns only once the old segment is durable too, so nothing
  // acknowledged depends on the seal's commit. false: the appending thread
  // seals (a roll costs an fdatasync and an LMDB commit inline; I/O in one
  // deterministic order, for fault-injection tests).
  bool background_seal = true;

  SyncPolicy sync = SyncPolicy::kAlways;
  std::chrono::milliseconds sync_interval{100};  // for SyncPolicy::kInterval

  RecoveryPolicy recovery = RecoveryPolicy::kTolerateTornTail;

  // What is compressed: nothing, sealed segments in the background (the
  // default: paced so that the append path does not see it, measured in
  // docs/benchmarks.md), or every frame on the append path.
  CompressionMode compression_mode = CompressionMode::kColdSegments;
  // zstd level of that compression; 0 means the mode's own default: 3 for
  // kColdSegments (chosen by bench/cold_bench.cc's level sweep), and
  // compression.level for kEveryFrame.
  int compression_level = 0;

  // Details of the compression of frames on the append path (see
  // raftlog/format/compression.h). compression.enabled = true alone is the
  // older way to ask for kEveryFrame and still works (at compression.level).
  // Off by default: compressing large batches on the synced path costs more
  // than it saves here (docs/benchmarks.md).
  format::CompressionOptions compression;

  // kColdSegments: the background worker's limits (docs/operations.md,
  // "Cold segments"). It reads at most this many raw segment bytes per
  // second, so its disk and CPU use stay small beside the log's own.
  uint64_t cold_bytes_per_sec = 32ull << 20;
  // While the log appends more than this many bytes per second (a moving
  // average over about 200 ms) it works only cold_busy_share of the time: a
  // busy log keeps the disk nearly to itself. 0: the log never limits it.
  uint64_t cold_busy_bytes_per_sec = 16ull << 20;
  // The same while the machine has this many idle cores or fewer (from
  // /proc/stat, its own use not counted), so it takes little of the last
  // free core from the appender. Negative: the machine never limits it.
  double cold_free_cores = 1.0;
  // The share of wall time it may work while limited (by the two fields
  // above), timed by the worker itself: its CPU time and its I/O and syncs,
  // not its sleeps, its waits for the writer lock or for a CPU.
  // In [0, 1]; 0: it waits until the log is quiet and a core is spare.
  double cold_busy_share = 0.05;

  // Upper bound of a frame's raw payload; larger batches become several
  // frames. Smaller frames make reads of compressed data cheaper.
  uint32_t max_frame_bytes = 1u << 20;

  // Bytes of decompressed frames kept for reads of compressed data.
  size_t frame_cache_bytes = 8u << 20;

  // Receives the engine's notes about what it did on its own initiative
  // (a torn tail cut at open, with the bytes and frames dropped; a segment
  // the cold worker failed to rewrite), one line each without a trailing
  // newline, naming the log's directory. Called on the thread that called
  // Open, or for the cold worker's notes on its own thread (so it must be
  // thread-safe with kColdSegments); it must not call back into the engine.
  // Empty (the default): notes are dropped; the library never writes to
  // stderr by itself. Stats counts the same events (torn_tail_cuts, ...), so
  // nothing is lost for monitoring. StderrNotes() is the sink that prints.
  std::function<void(std::string_view note)> notes;
};

// A notes sink (Options::notes) that writes "raftlog: <note>" lines to
// stderr, for programs without a log of their own.
std::function<void(std::string_view note)> StderrNotes();

// The frame compression the append path uses under `options`: compression
// with enabled set for kEveryFrame (or compression.enabled), and the level
// compression_level gives, if any.
format::CompressionOptions FrameCompression(const Options& options);

// The zstd level kColdSegments rewrites use under `options`.
int ColdCompressionLevel(const Options& options);

}  // namespace raftlog::engine
