// Logs for the CLI tests, made by the engine itself (DiskStorage), and the
// sabotage helpers that damage them in known ways.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "raftlog/format/status.h"
#include "raftlog/raft/types.h"

namespace raftlog::tools::testing {

struct LogSpec {
  uint64_t segment_bytes = 1u << 20;
  uint64_t entries = 3000;
  size_t entry_bytes = 1000;
  uint64_t batch = 50;
  // Entries up to entries/2 have term 1, the rest term 2, unless
  // term_starts is given: (index, term) pairs in increasing order, each
  // entry taking the term of the last pair at or below its index.
  std::vector<std::pair<uint64_t, uint64_t>> term_starts;
  // Conf changes at these indexes (0: none): a V1 AddNode 2 and a V2
  // "v3 l4".
  uint64_t conf_change_index = 505;
  uint64_t conf_change_v2_index = 506;
  // A snapshot at this index (0: none), with voters {1,2,3}, learners {4}.
  uint64_t snapshot_index = 1000;
  // Compact the log so it starts at compact_index (0: no compaction).
  uint64_t compact_index = 500;
  raft::HardState hard_state{2, 1, 2900};
  bool compression = false;
  // Data that zstd compresses well instead of EntryData's pseudo-random
  // bytes.
  bool compressible = false;
};

// The data of entry `index` for a spec: deterministic, so tests can check
// what dump prints.
std::string EntryData(const LogSpec& spec, uint64_t index);

// Creates the log in `dir` (which must not exist or be empty).
Status BuildLog(const std::string& dir, const LogSpec& spec);

// "<dir>/segments/<16 hex>.seg"
std::string SegmentPath(const std::string& dir, uint64_t id);

// Offsets of the entries frames of a segment file, with each frame's first
// index, in file order (read with format/).
struct FrameAt {
  uint64_t offset = 0;
  uint64_t first_index = 0;
  uint64_t frame_bytes = 0;
};
std::vector<FrameAt> Frames(const std::string& segment_path);

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& bytes);
void FlipByte(const std::string& path, uint64_t offset);
// Every regular file under dir as (relative path, "<size>:<hash of the
// contents>"), for "changed nothing" checks; LMDB's lock file (its reader
// table) is left out.
std::vector<std::pair<std::string, std::string>> DirContents(const std::string& dir);

std::string Base64Decode(const std::string& in);

}  // namespace raftlog::tools::testing
