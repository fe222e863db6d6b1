// EntryID and LogSlice: etcd raft's types.go.
//
// Thread-safety: plain value types; thread-compatible.

#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "raftlog/format/status.h"
#include "raftlog/raft/types.h"

namespace raftlog::raft::internal {

// Uniquely identifies a raft log entry.
//
// Every entry is associated with the leadership term that issued it and first
// appended it to the log. There is at most one leader per term, and a leader
// never issues two entries with the same index, so (term, index) names one
// entry across all logs.
struct EntryID {
  uint64_t term = 0;
  uint64_t index = 0;

  friend bool operator==(const EntryID&, const EntryID&) = default;
};

// The ID of `e` (etcd's pbEntryID).
inline EntryID PbEntryID(const Entry& e) { return EntryID{e.term, e.index}; }

// Go's %+v of an entryID, "{term:5 index:10}", used in etcd's messages.
std::string ToString(const EntryID& id);

// A correct slice of a raft log, in the context of a leader term.
//
// The term of the slice need not match the terms of its entries: a leader's
// log holds entries of its own term and of earlier ones. Two slices with the
// same `term` are consistent (they never hold two different entries at one
// index); slices of different terms share a common prefix and then diverge
// permanently.
//
// A well-formed LogSlice satisfies:
//   1. entries[i].index == prev.index + 1 + i   (contiguous),
//   2. prev.term <= entries[0].term,
//   3. entries[i-1].term <= entries[i].term     (terms never regress),
//   4. entries.back().term <= term              (no entry from a later term).
// Code may assume these hold. The exception is "gateway" code that builds a
// LogSlice from something untrusted (a message off the wire, Storage, a test
// fixture): it must call Valid() first.
struct LogSlice {
  // The leader term whose log contains these entries.
  uint64_t term = 0;
  // The entry immediately before `entries`.
  EntryID prev;
  std::vector<Entry> entries;

  // The index of the last entry, or prev.index if there are none.
  uint64_t LastIndex() const { return prev.index + entries.size(); }

  // The ID of the last entry, or prev if there are none.
  EntryID LastEntryID() const { return entries.empty() ? prev : PbEntryID(entries.back()); }

  // OK iff the slice is well-formed (properties 1-4 above); otherwise
  // kInvalidArgument with etcd's text, e.g.
  // "leader term 10: entries {term:5 index:123} and {term:5 index:111} not consistent".
  Status Valid() const;
};

}  // namespace raftlog::raft::internal
