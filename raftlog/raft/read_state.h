// ReadState and ReadOnlyOption: the public side of linearizable reads
// (ReadIndex, Raft thesis §6.4), from etcd raft's read_only.go.
//
// The application asks for a read with RawNode::ReadIndex(ctx); once the
// leader has confirmed its leadership (ReadOnlySafe) or trusts its lease
// (ReadOnlyLeaseBased), a ReadState carrying the same ctx appears in a
// Ready. The read may be served once the application has applied up to
// ReadState::index.
//
// Thread-safety: value types; thread-compatible.

#pragma once

#include <cstdint>
#include <string>

#include "raftlog/format/bytes.h"

namespace raftlog::raft {

// How read-only requests are served (etcd's ReadOnlyOption).
enum class ReadOnlyOption : unsigned char {
  // Linearizable: confirmed by a quorum of heartbeat responses. The default
  // and the recommended option.
  kReadOnlySafe = 0,
  // Served from the leader lease without a round trip. Depends on bounded
  // clock drift between nodes (a leader whose clock pauses or runs slow may
  // keep a lease it lost); requires Config::check_quorum.
  kReadOnlyLeaseBased = 1,
};

// The answer to a read-only request, handed to the application in a Ready.
// The application may serve the read once it has applied up to `index`. It
// is the application's job to match `request_ctx` with its request, e.g. by
// using a unique id as the context.
struct ReadState {
  uint64_t index = 0;
  Bytes request_ctx;  // the context given to RawNode::ReadIndex

  friend bool operator==(const ReadState&, const ReadState&) = default;
};

}  // namespace raftlog::raft
