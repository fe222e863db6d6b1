// What the crash test's child process (raftlog_crash_child) and its parent
// (crash_test.cc) share: the deterministic bytes of every entry and snapshot
// the child writes, and the lines it reports through a pipe.
//
// The child opens a DiskStorage and makes calls until it is killed. Before
// each call it writes an intent line, and after the call returned OK an ack
// line; each line is one write(2) of less than PIPE_BUF bytes, so a line is in
// the pipe whole or not at all when SIGKILL arrives. So the parent knows every
// acknowledged call and the one call (at most) that was in flight, and can
// compute exactly which states the log may be in, byte for byte.
//
//   O <first> <last> <term> <vote> <commit> <snapshot index>
//       the child opened the log and found this (sent once, first)
//   I S <term> <vote> <commit> <first> <count> <entry term> <must_sync> <snap index> <snap term>
//       Save(HardState{term, vote, commit}, CrashEntries(first, count, entry term),
//            snap index ? &CrashSnapshot(snap index, snap term) : nullptr, must_sync)
//   I C <index>      Compact(index)
//   I P <index>      CreateSnapshot(index, &CrashConfState(), CrashSnapshotData(index, term))
//   A                the call of the last I line returned OK
//   E <message>      a call failed (the child then exits with status 2)
//
// Thread-compatible.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/raft/types.h"

namespace raftlog::reliability {

// The data of entry (index, term): 0 to ~2 KiB (sometimes ~20 KiB) of bytes
// that depend on both, so a stale entry of another term never matches.
std::string CrashPayload(uint64_t index, uint64_t term);
std::vector<raft::Entry> CrashEntries(uint64_t first, uint64_t count, uint64_t term);
raft::ConfState CrashConfState();
std::string CrashSnapshotData(uint64_t index, uint64_t term);
raft::Snapshot CrashSnapshot(uint64_t index, uint64_t term);

struct CrashLine {
  enum class Kind : char {
    kOpened = 'O',
    kSave = 'S',
    kCompact = 'C',
    kCreateSnapshot = 'P',
    kAck = 'A',
    kError = 'E',
  };
  Kind kind = Kind::kAck;
  // kOpened: what the child found. kSave: the HardState.
  raft::HardState hs;
  uint64_t first = 0;  // kOpened: FirstIndex; kSave: the first entry's index
  uint64_t last = 0;   // kOpened: LastIndex
  uint64_t count = 0;  // kSave: entries
  uint64_t entry_term = 0;
  bool must_sync = true;
  uint64_t snapshot_index = 0;  // kOpened, kSave (0: none), kCreateSnapshot
  uint64_t snapshot_term = 0;   // kSave
  uint64_t index = 0;           // kCompact
  std::string message;          // kError
};

// The line for `line`, with its '\n'.
std::string EncodeCrashLine(const CrashLine& line);
// Parses one line (without its '\n'); nullopt if malformed.
std::optional<CrashLine> ParseCrashLine(std::string_view text);

}  // namespace raftlog::reliability
