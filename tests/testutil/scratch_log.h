// Entries and options for tests that build small scratch logs with
// DiskStorage: the helpers engine and reliability tests share instead of
// each keeping its own copy. Header-only, so that raftlog_testutil (which
// links only raftlog::io) does not depend on the engine.

#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/engine/disk_storage.h"
#include "raftlog/io/file_system.h"
#include "raftlog/raft/types.h"

namespace raftlog::testutil {

// Normal entries first .. first+n-1, all of `term`, with data(index) as data.
template <typename DataFn>
std::vector<raft::Entry> MakeEntries(uint64_t first, uint64_t n, uint64_t term, DataFn data) {
  std::vector<raft::Entry> out;
  out.reserve(n);
  for (uint64_t i = first; i < first + n; ++i) {
    out.push_back(raft::Entry{term, i, raft::EntryType::kNormal, std::string(data(i))});
  }
  return out;
}

// Data "<prefix><index>": every entry tells which it is when read back.
inline std::vector<raft::Entry> NumberedEntries(uint64_t first, uint64_t n, uint64_t term,
                                                std::string_view prefix) {
  return MakeEntries(first, n, term,
                     [prefix](uint64_t i) { return std::string(prefix) + std::to_string(i); });
}

// Data of `bytes` bytes of 'x': for tests that count sizes, not contents.
inline std::vector<raft::Entry> SizedEntries(uint64_t first, uint64_t n, uint64_t term,
                                             size_t bytes) {
  return MakeEntries(first, n, term, [bytes](uint64_t) { return std::string(bytes, 'x'); });
}

// A small scratch log: 1 MiB segments and no spare segments prepared in the
// background (so that the file-system calls are deterministic), through
// `fs` (nullptr: the default file system).
inline engine::DiskStorageOptions ScratchLogOptions(io::FileSystem* fs = nullptr) {
  engine::DiskStorageOptions options;
  options.engine.file_system = fs;
  options.engine.segment_bytes = 1 << 20;
  options.engine.prepared_segments = 0;
  return options;
}

}  // namespace raftlog::testutil
