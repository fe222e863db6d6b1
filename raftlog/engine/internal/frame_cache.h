// FrameCache: decompressed payloads of compressed frames, least recently used
// evicted first, bounded in bytes. Sequential Entries() calls over a
// compressed frame decompress it once, not once per call.
//
// Thread-safety: safe for concurrent use. Returned payloads are shared Bytes:
// they (and slices of them, the entries' payloads handed to readers) stay
// valid and unchanged for as long as anyone holds them, even once evicted.

#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>

#include "raftlog/format/bytes.h"
#include "raftlog/port/mutex.h"

namespace raftlog::engine::internal {

class FrameCache {
 public:
  explicit FrameCache(size_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

  using Payload = Bytes;

  // The cached payload of the frame at (segment_id, offset), or nullopt.
  std::optional<Payload> Lookup(uint64_t segment_id, uint64_t offset);
  // Caches a payload (if it fits at all) and returns it.
  Payload Insert(uint64_t segment_id, uint64_t offset, std::string payload);
  // Drops every frame of a segment (its file is going away).
  void EraseSegment(uint64_t segment_id);

  size_t bytes() const;
  uint64_t hits() const;
  uint64_t misses() const;

 private:
  struct Key {
    uint64_t segment_id;
    uint64_t offset;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return k.segment_id * 0x9e3779b97f4a7c15ull ^ k.offset;
    }
  };
  struct Item {
    Key key;
    Payload payload;
  };

  const size_t capacity_bytes_;
  mutable port::Mutex mu_;
  std::list<Item> lru_ GUARDED_BY(mu_);  // most recently used first
  std::unordered_map<Key, std::list<Item>::iterator, KeyHash> map_ GUARDED_BY(mu_);
  size_t bytes_ GUARDED_BY(mu_) = 0;
  uint64_t hits_ GUARDED_BY(mu_) = 0;
  uint64_t misses_ GUARDED_BY(mu_) = 0;
};

}  // namespace raftlog::engine::internal
