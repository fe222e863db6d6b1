#include "raftlog/raft/memory_storage.h"

#include <cstdio>
#include <string>
#include <utility>

namespace raftlog::raft {

namespace {

std::string Fmt(const char* format, uint64_t a, uint64_t b) {
  char buf[160];
  std::snprintf(buf, sizeof(buf), format, static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b));
  return buf;
}

}  // namespace

MemoryStorage::MemoryStorage() { ents_.emplace_back(); }

MemoryStorage MemoryStorage::WithEntries(std::vector<Entry> entries) {
  RAFTLOG_CHECK_MSG(!entries.empty(), "MemoryStorage needs at least the dummy entry");
  for (size_t k = 1; k < entries.size(); ++k) {
    RAFTLOG_CHECK_MSG(entries[k].index == entries[0].index + k, "entries are not consecutive");
  }
  MemoryStorage s;
  port::MutexLock lock(&s.mu_);
  s.ents_.assign(std::make_move_iterator(entries.begin()), std::make_move_iterator(entries.end()));
  return s;
}

MemoryStorage::MemoryStorage(MemoryStorage&& other) noexcept {
  port::MutexLock lock(&other.mu_);
  hard_state_ = other.hard_state_;
  snapshot_ = std::move(other.snapshot_);
  ents_ = std::move(other.ents_);
  other.ents_.assign(1, Entry{});
}

Result<StoredState> MemoryStorage::InitialState() const {
  port::MutexLock lock(&mu_);
  return StoredState{hard_state_, snapshot_.metadata.conf_state};
}

Status MemoryStorage::SetHardState(const HardState& hs) {
  port::MutexLock lock(&mu_);
  hard_state_ = hs;
  return Status::OK();
}

Result<std::vector<Entry>> MemoryStorage::Entries(uint64_t lo, uint64_t hi,
                                                  uint64_t max_size) const {
  port::MutexLock lock(&mu_);
  const uint64_t offset = ents_.front().index;
  if (lo <= offset) return Status::Compacted();
  RAFTLOG_CHECK_MSG(
      hi <= LastIndexLocked() + 1,
      Fmt("entries' hi(%llu) is out of bound lastindex(%llu)", hi, LastIndexLocked()));
  // Only the dummy: etcd reports Unavailable even for the empty range lo == hi.
  if (ents_.size() == 1) return Status::Unavailable();
  RAFTLOG_CHECK_MSG(lo <= hi, Fmt("invalid entries range lo(%llu) > hi(%llu)", lo, hi));

  std::vector<Entry> out;
  uint64_t size = 0;
  for (uint64_t i = lo; i < hi; ++i) {
    const Entry& e = ents_[i - offset];
    size += EntrySize(e);
    // Always at least one entry (limitSize).
    if (!out.empty() && size > max_size) break;
    out.push_back(e);
  }
  return out;
}

Result<uint64_t> MemoryStorage::Term(uint64_t i) const {
  port::MutexLock lock(&mu_);
  const uint64_t offset = ents_.front().index;
  if (i < offset) return Status::Compacted();
  if (i - offset >= ents_.size()) return Status::Unavailable();
  return ents_[i - offset].term;
}

Result<uint64_t> MemoryStorage::LastIndex() const {
  port::MutexLock lock(&mu_);
  return LastIndexLocked();
}

Result<uint64_t> MemoryStorage::FirstIndex() const {
  port::MutexLock lock(&mu_);
  return FirstIndexLocked();
}

Result<raft::Snapshot> MemoryStorage::Snapshot() const {
  port::MutexLock lock(&mu_);
  return snapshot_;
}

Status MemoryStorage::ApplySnapshot(const raft::Snapshot& snapshot) {
  port::MutexLock lock(&mu_);
  // etcd v3.7+: while no snapshot is stored (index 0), any snapshot is
  // accepted, including an index-0 bootstrap snapshot carrying a ConfState.
  const uint64_t stored = snapshot_.metadata.index;
  if (stored != 0 && stored >= snapshot.metadata.index) return Status::SnapshotOutOfDate();
  snapshot_ = snapshot;
  ents_.assign(1, Entry{snapshot.metadata.term, snapshot.metadata.index, EntryType::kNormal, {}});
  return Status::OK();
}

Result<raft::Snapshot> MemoryStorage::CreateSnapshot(uint64_t i, const ConfState* conf_state,
                                                     std::string data) {
  port::MutexLock lock(&mu_);
  if (i <= snapshot_.metadata.index) return Status::SnapshotOutOfDate();
  const uint64_t offset = ents_.front().index;
  RAFTLOG_CHECK_MSG(i <= LastIndexLocked(),
                    Fmt("snapshot %llu is out of bound lastindex(%llu)", i, LastIndexLocked()));
  // etcd indexes out of range here (an undocumented runtime panic); say why.
  RAFTLOG_CHECK_MSG(i >= offset,
                    Fmt("snapshot %llu is below the compaction point %llu", i, offset));
  snapshot_.metadata.index = i;
  snapshot_.metadata.term = ents_[i - offset].term;
  if (conf_state != nullptr) snapshot_.metadata.conf_state = *conf_state;
  snapshot_.data = std::move(data);
  return snapshot_;
}

Status MemoryStorage::Compact(uint64_t compact_index) {
  port::MutexLock lock(&mu_);
  const uint64_t offset = ents_.front().index;
  if (compact_index <= offset) return Status::Compacted();
  RAFTLOG_CHECK_MSG(
      compact_index <= LastIndexLocked(),
      Fmt("compact %llu is out of bound lastindex(%llu)", compact_index, LastIndexLocked()));
  // Entry compact_index becomes the dummy: keep its index and term, drop its data.
  const uint64_t k = compact_index - offset;
  ents_.erase(ents_.begin(), ents_.begin() + static_cast<std::ptrdiff_t>(k));
  ents_.front().data.clear();  // releases its share of the payload
  ents_.front().type = EntryType::kNormal;
  return Status::OK();
}

Status MemoryStorage::Append(std::span<const Entry> entries) {
  if (entries.empty()) return Status::OK();
  port::MutexLock lock(&mu_);
  const uint64_t first = FirstIndexLocked();
  const uint64_t last = entries.front().index + entries.size() - 1;
  if (last < first) return Status::OK();  // wholly compacted away
  if (entries.front().index < first) {
    entries = entries.subspan(first - entries.front().index);
  }
  const uint64_t offset = ents_.front().index;
  const uint64_t k = entries.front().index - offset;  // >= 1: the dummy is never replaced
  RAFTLOG_CHECK_MSG(k <= ents_.size(), Fmt("missing log entry [last: %llu, append at: %llu]",
                                           LastIndexLocked(), entries.front().index));
  // Every stored entry at index >= the first new one goes, even a longer tail
  // whose terms agree: the batch is the new tail.
  ents_.resize(k);
  ents_.insert(ents_.end(), entries.begin(), entries.end());
  return Status::OK();
}

std::vector<Entry> MemoryStorage::AllEntriesForTest() const {
  port::MutexLock lock(&mu_);
  return {ents_.begin(), ents_.end()};
}

}  // namespace raftlog::raft
