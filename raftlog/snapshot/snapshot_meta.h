// The vocabulary of snapshot/: what a snapshot is about (SnapshotMeta) and
// what the store knows of one snapshot file (SnapshotInfo).
//
// snapshot/ is raft-agnostic: the raft adapter (engine/disk_storage) maps
// raft::SnapshotMetadata onto SnapshotMeta, encoding the ConfState into the
// opaque conf_state bytes, and back.
//
// Thread-safety: plain values.

#pragma once

#include <cstdint>
#include <string>

namespace raftlog::snapshot {

// What a snapshot covers: the state machine up to and including `index`,
// whose entry had `term`, under the configuration `conf_state`.
struct SnapshotMeta {
  uint64_t index = 0;
  uint64_t term = 0;
  // Opaque to snapshot/ (the adapter encodes the raft ConfState here). At
  // most kMaxConfStateBytes (snapshot_format.h).
  std::string conf_state;

  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

// One complete snapshot file, as described by its header and trailer.
struct SnapshotInfo {
  SnapshotMeta meta;
  // The file's name within the store's directory (SnapshotFileName(term,
  // index)), not a path.
  std::string name;
  // Bytes of snapshot data (the payload, without framing).
  uint64_t data_bytes = 0;
  // Size of the whole file: header, framed blocks and trailer.
  uint64_t file_bytes = 0;
  // XXH3-64 (seed 0) of all data bytes, from the trailer: an identity for
  // the payload that tools can compare across copies.
  uint64_t data_checksum = 0;

  friend bool operator==(const SnapshotInfo&, const SnapshotInfo&) = default;
};

}  // namespace raftlog::snapshot
