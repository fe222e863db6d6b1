#include "raftlog/engine/internal/frame_cache.h"

namespace raftlog::engine::internal {

std::optional<FrameCache::Payload> FrameCache::Lookup(uint64_t segment_id, uint64_t offset) {
  port::MutexLock lock(&mu_);
  auto it = map_.find(Key{segment_id, offset});
  if (it == map_.end()) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->payload;
}

FrameCache::Payload FrameCache::Insert(uint64_t segment_id, uint64_t offset, std::string payload) {
  Payload shared(std::move(payload));  // takes the buffer over, no copy
  const size_t size = shared.size();
  if (size > capacity_bytes_) return shared;  // too big to cache; the caller still uses it
  port::MutexLock lock(&mu_);
  const Key key{segment_id, offset};
  if (auto it = map_.find(key); it != map_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->payload;  // another reader got there first
  }
  lru_.push_front(Item{key, shared});
  map_.emplace(key, lru_.begin());
  bytes_ += size;
  while (bytes_ > capacity_bytes_ && !lru_.empty()) {
    bytes_ -= lru_.back().payload.size();
    map_.erase(lru_.back().key);
    lru_.pop_back();
  }
  return shared;
}

void FrameCache::EraseSegment(uint64_t segment_id) {
  port::MutexLock lock(&mu_);
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (it->key.segment_id == segment_id) {
      bytes_ -= it->payload.size();
      map_.erase(it->key);
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
}

size_t FrameCache::bytes() const {
  port::MutexLock lock(&mu_);
  return bytes_;
}

uint64_t FrameCache::hits() const {
  port::MutexLock lock(&mu_);
  return hits_;
}

uint64_t FrameCache::misses() const {
  port::MutexLock lock(&mu_);
  return misses_;
}

}  // namespace raftlog::engine::internal
