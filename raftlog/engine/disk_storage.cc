#include "raftlog/engine/disk_storage.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "raftlog/format/bytes.h"
#include "raftlog/format/layout.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/io/file_system.h"
#include "raftlog/snapshot/snapshot_store.h"

namespace raftlog::engine {

namespace {

// The adapter's names in the engine's state, and its snapshot directory:
// format/layout.h.
constexpr std::string_view kHardStateKey = format::layout::kHardStateName;
constexpr std::string_view kSnapshotKey = format::layout::kSnapshotName;
constexpr std::string_view kSnapshotsDir = format::layout::kSnapshotsDir;

format::ConfStateRecord ToRecord(const raft::ConfState& cs) {
  return format::ConfStateRecord{cs.voters, cs.learners, cs.voters_outgoing, cs.learners_next,
                                 cs.auto_leave};
}

raft::ConfState FromRecord(const format::ConfStateRecord& r) {
  return raft::ConfState{r.voters, r.learners, r.voters_outgoing, r.learners_next, r.auto_leave};
}

std::string EncodeHardState(const raft::HardState& hs) {
  return format::EncodeHardState(format::HardStateRecord{hs.term, hs.vote, hs.commit});
}

std::string EncodeSnapshotMeta(const raft::SnapshotMetadata& meta, const std::string& file,
                               uint64_t data_bytes) {
  format::SnapshotMetaRecord r;
  r.index = meta.index;
  r.term = meta.term;
  r.conf_state = ToRecord(meta.conf_state);
  r.file_name = file;
  r.data_bytes = data_bytes;
  return format::EncodeSnapshotMeta(r);
}

}  // namespace

DiskStorage::DiskStorage(std::unique_ptr<LogEngine> engine,
                         std::unique_ptr<snapshot::SnapshotStore> snapshots, size_t snapshots_kept)
    : engine_(std::move(engine)),
      snapshots_(std::move(snapshots)),
      snapshots_kept_(std::max<size_t>(snapshots_kept, 1)) {}

DiskStorage::~DiskStorage() { (void)Close(); }

Result<std::unique_ptr<DiskStorage>> DiskStorage::Open(const std::string& dir,
                                                       const DiskStorageOptions& options) {
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<LogEngine> engine, LogEngine::Open(dir, options.engine));
  io::FileSystem* fs = options.engine.file_system != nullptr ? options.engine.file_system
                                                             : io::FileSystem::Default();
  // The store never prunes by itself: only after the metadata points to a
  // newer snapshot may an older file go (PruneSnapshots).
  snapshot::SnapshotStore::Options store_options;
  store_options.keep = std::numeric_limits<size_t>::max();
  // A read-only storage changes nothing on disk, snapshots included.
  store_options.read_only = options.engine.read_only;
  RAFTLOG_ASSIGN_OR_RETURN(
      std::unique_ptr<snapshot::SnapshotStore> store,
      snapshot::SnapshotStore::Open(fs, io::JoinPath(dir, kSnapshotsDir), store_options));
  std::unique_ptr<DiskStorage> storage(
      new DiskStorage(std::move(engine), std::move(store), options.snapshots_kept));
  RAFTLOG_RETURN_IF_ERROR(storage->Load());
  return storage;
}

Status DiskStorage::Load() {
  port::MutexLock w(&write_mu_);
  port::MutexLock lock(&mu_);
  RAFTLOG_ASSIGN_OR_RETURN(auto hs_bytes, engine_->GetState(kHardStateKey));
  if (hs_bytes.has_value()) {
    auto hs = format::DecodeHardState(*hs_bytes);
    if (!hs.ok()) return hs.status().WithContext("HardState of " + engine_->dir());
    hard_state_ = raft::HardState{hs->term, hs->vote, hs->commit};
  }
  RAFTLOG_ASSIGN_OR_RETURN(auto snap_bytes, engine_->GetState(kSnapshotKey));
  if (snap_bytes.has_value()) {
    auto meta = format::DecodeSnapshotMeta(*snap_bytes);
    if (!meta.ok()) return meta.status().WithContext("snapshot metadata of " + engine_->dir());
    snapshot_meta_ = raft::SnapshotMetadata{FromRecord(meta->conf_state), meta->index, meta->term};
    snapshot_file_ = meta->file_name;
  }
  // The commit index: the larger of the stored one and the one stored with
  // the newest frames (commit bumps are lazy), but never past the last
  // durable entry: LMDB commits before the entries of the same Save, so a
  // crash between them may leave a commit above the log's end.
  // A snapshot is committed by definition, so the commit index is at least
  // its index (raft refuses to start otherwise).
  RAFTLOG_RETURN_IF_ERROR(CheckAgainstLog(snap_bytes.has_value()));
  const uint64_t last = engine_->LastIndex();
  const uint64_t stored_commit = hard_state_.commit;
  hard_state_.commit = std::min(std::max(hard_state_.commit, engine_->recovered_commit_hint()),
                                std::max(last, snapshot_meta_.index));
  hard_state_.commit = std::max(hard_state_.commit, snapshot_meta_.index);
  if (hard_state_.commit != stored_commit && !engine_->read_only()) {
    // Make what was recovered durable now: the frames that carried it may be
    // sealed by this open's recovery and never scanned again. And a commit
    // index capped at the log's end must be stored capped: else it comes
    // back once the log grows past it again, though those entries were
    // never committed.
    RAFTLOG_RETURN_IF_ERROR(engine_->PutState({{std::string(kHardStateKey), EncodeHardState(hard_state_)}}));
  }

  // Snapshot files newer than the one the metadata names are leftovers of a
  // CreateSnapshot/ApplySnapshot interrupted before its metadata commit.
  RAFTLOG_ASSIGN_OR_RETURN(snapshot::SnapshotListing listing, snapshots_->Scan());
  for (const snapshot::DamagedSnapshot& damaged : listing.damaged) {
    // The file the metadata names is unreadable: say why (NotSupported for
    // a newer format, Corruption for damage), not just "missing".
    if (!snapshot_file_.empty() && damaged.name == snapshot_file_) {
      return damaged.status.WithContext("snapshot file " + snapshot_file_ +
                                        " named by the metadata of " + engine_->dir());
    }
  }
  bool referenced_found = snapshot_file_.empty();
  for (const snapshot::SnapshotInfo& info : listing.snapshots) {
    if (info.name == snapshot_file_) {
      referenced_found = true;
      // LMDB has no page checksums of its own: the metadata must agree with
      // the file's own (checksummed) header.
      if (info.meta.index != snapshot_meta_.index || info.meta.term != snapshot_meta_.term) {
        return Status::Corruption(
            "snapshot metadata of " + engine_->dir() + " says index " +
            std::to_string(snapshot_meta_.index) + " term " + std::to_string(snapshot_meta_.term) +
            ", but the snapshot file " + info.name + " it names holds index " +
            std::to_string(info.meta.index) + " term " + std::to_string(info.meta.term));
      }
    } else if (info.meta.index >= snapshot_meta_.index && !engine_->read_only()) {
      RAFTLOG_RETURN_IF_ERROR(snapshots_->Remove(info.name));
    }
  }
  if (!referenced_found) {
    return Status::Corruption("snapshot file " + snapshot_file_ + " named by the metadata of " +
                              engine_->dir() + " is missing or damaged");
  }
  // Values of earlier versions (no checksum): rewritten now, once.
  if (!engine_->read_only()) {
    StateUpdates rewrite;
    if (hs_bytes.has_value() && format::IsOldMetaEncoding(*hs_bytes)) {
      rewrite.emplace_back(kHardStateKey, EncodeHardState(hard_state_));
    }
    if (snap_bytes.has_value() && format::IsOldMetaEncoding(*snap_bytes)) {
      auto meta = format::DecodeSnapshotMeta(*snap_bytes);
      if (meta.ok()) rewrite.emplace_back(kSnapshotKey, format::EncodeSnapshotMeta(*meta));
    }
    if (!rewrite.empty()) RAFTLOG_RETURN_IF_ERROR(engine_->PutState(rewrite));
  }
  return Status::OK();
}

Status DiskStorage::CheckAgainstLog(bool has_snapshot) const {
  const uint64_t last = engine_->LastIndex();
  // Where the log still holds the snapshot's index (log/start's term of the
  // entry before the first, or a segment's entry), it must hold the
  // snapshot's term there.
  if (has_snapshot && snapshot_meta_.index > 0 && snapshot_meta_.index + 1 >= engine_->FirstIndex() &&
      snapshot_meta_.index <= last) {
    auto term = engine_->Term(snapshot_meta_.index);
    if (term.ok() && *term != snapshot_meta_.term) {
      return Status::Corruption(
          "snapshot metadata of " + engine_->dir() + " says index " +
          std::to_string(snapshot_meta_.index) + " has term " +
          std::to_string(snapshot_meta_.term) + ", but the log (" +
          (snapshot_meta_.index + 1 == engine_->FirstIndex() ? "log/start" : "its segments") +
          ") says term " + std::to_string(*term));
    }
  }
  return Status::OK();
}

Status DiskStorage::Close() {
  port::MutexLock lock(&write_mu_);
  if (closed_) return Status::OK();
  closed_ = true;
  return engine_->Close();
}

void DiskStorage::Abandon() {
  port::MutexLock lock(&write_mu_);
  if (closed_) return;
  closed_ = true;
  engine_->Abandon();
}

// --- reading -----------------------------------------------------------------------

Result<raft::StoredState> DiskStorage::InitialState() const {
  port::MutexLock lock(&mu_);
  return raft::StoredState{hard_state_, snapshot_meta_.conf_state};
}

Result<std::vector<raft::Entry>> DiskStorage::Entries(uint64_t lo, uint64_t hi,
                                                      uint64_t max_size) const {
  const uint64_t first = engine_->FirstIndex();
  const uint64_t last = engine_->LastIndex();
  if (lo < first) return Status::Compacted();
  if (hi > last + 1) {
    return Status::InvalidArgument("entries' hi(" + std::to_string(hi) +
                                   ") is out of bound lastindex(" + std::to_string(last) + ")");
  }
  // etcd: with only the compaction point left, even [lo, lo) is Unavailable.
  if (last < first) return Status::Unavailable();
  if (lo > hi) {
    return Status::InvalidArgument("invalid entries range lo(" + std::to_string(lo) + ") > hi(" +
                                   std::to_string(hi) + ")");
  }
  std::vector<raft::Entry> out;
  out.reserve(std::min<uint64_t>(hi - lo, 1024));
  uint64_t size = 0;
  // Payloads share the segment's mapping (or a decompressed frame): no copy.
  // They stay valid after compaction, truncation and Close (ReadShared).
  Status s = engine_->ReadShared(lo, hi, [&](const format::EntryView& e, Bytes data) {
    raft::Entry entry{e.term, e.index, static_cast<raft::EntryType>(e.type), std::move(data)};
    size += raft::EntrySize(entry);
    // At least one entry, then as many as fit (etcd's limitSize).
    if (!out.empty() && size > max_size) return false;
    out.push_back(std::move(entry));
    return true;
  });
  // A compaction or truncation on another thread between our bounds check
  // and the read answers like etcd would have a moment later.
  if (!s.ok()) return s;
  return out;
}

Result<uint64_t> DiskStorage::Term(uint64_t i) const { return engine_->Term(i); }

Result<uint64_t> DiskStorage::LastIndex() const { return engine_->LastIndex(); }

Result<uint64_t> DiskStorage::FirstIndex() const { return engine_->FirstIndex(); }

Result<raft::Snapshot> DiskStorage::Snapshot() const {
  raft::Snapshot snap;
  std::string file;
  {
    port::MutexLock lock(&mu_);
    snap.metadata = snapshot_meta_;
    file = snapshot_file_;
  }
  if (file.empty()) return snap;
  auto loaded = snapshots_->Load(file);
  if (!loaded.ok()) return loaded.status();
  snap.data = std::move(loaded->second);
  return snap;
}

// --- writing -----------------------------------------------------------------------

Status DiskStorage::SetHardState(const raft::HardState& hs) {
  port::MutexLock lock(&write_mu_);
  return SetHardStateLocked(hs);
}

Status DiskStorage::SetHardStateLocked(const raft::HardState& hs) {
  raft::HardState current;
  {
    port::MutexLock lock(&mu_);
    current = hard_state_;
  }
  if (hs == current) return Status::OK();
  if (hs.term != current.term || hs.vote != current.vote) {
    // A vote must survive a crash, or this node could vote twice in a term.
    RAFTLOG_RETURN_IF_ERROR(engine_->PutState({{std::string(kHardStateKey), EncodeHardState(hs)}}));
  } else {
    // Only the commit index moved: no sync needed (etcd's MustSync).
    engine_->PutStateLazy(std::string(kHardStateKey), EncodeHardState(hs));
  }
  port::MutexLock lock(&mu_);
  hard_state_ = hs;
  return Status::OK();
}

Status DiskStorage::Append(std::span<const raft::Entry> entries) {
  port::MutexLock lock(&write_mu_);
  return AppendLocked(entries, /*sync=*/true);
}

Status DiskStorage::AppendLocked(std::span<const raft::Entry> entries, bool sync) {
  if (entries.empty()) return Status::OK();
  // MemoryStorage's rules: a batch wholly at or below the compaction point is
  // a no-op; a part below the first index is dropped.
  const uint64_t first = engine_->FirstIndex();
  const uint64_t batch_last = entries.front().index + entries.size() - 1;
  if (batch_last < first) return Status::OK();
  if (entries.front().index < first) entries = entries.subspan(first - entries.front().index);
  if (entries.front().index > engine_->LastIndex() + 1) {
    return Status::InvalidArgument(
        "missing log entry [last: " + std::to_string(engine_->LastIndex()) +
        ", append at: " + std::to_string(entries.front().index) + "]");
  }
  thread_local std::vector<format::EntryView> views;
  views.clear();
  views.reserve(entries.size());
  for (const raft::Entry& e : entries) {
    views.push_back(format::EntryView{e.index, e.term, static_cast<uint8_t>(e.type), e.data});
  }
  AppendOptions options;
  options.sync = sync;
  {
    port::MutexLock lock(&mu_);
    options.commit_hint = hard_state_.commit;
  }
  return engine_->Append(views, options);
}

Status DiskStorage::Compact(uint64_t compact_index) {
  port::MutexLock lock(&write_mu_);
  const uint64_t first = engine_->FirstIndex();
  if (compact_index < first) return Status::Compacted();
  if (compact_index > engine_->LastIndex()) {
    return Status::InvalidArgument("compact " + std::to_string(compact_index) +
                                   " is out of bound lastindex(" +
                                   std::to_string(engine_->LastIndex()) + ")");
  }
  return engine_->TruncatePrefix(compact_index + 1);
}

Result<std::string> DiskStorage::WriteSnapshotFile(const raft::SnapshotMetadata& meta,
                                                   std::string_view data) {
  snapshot::SnapshotMeta file_meta;
  file_meta.index = meta.index;
  file_meta.term = meta.term;
  file_meta.conf_state = format::EncodeConfState(ToRecord(meta.conf_state));
  RAFTLOG_ASSIGN_OR_RETURN(snapshot::SnapshotInfo info, snapshots_->Write(file_meta, data));
  return info.name;
}

void DiskStorage::PruneSnapshots() {
  // Best effort: a failure leaves an extra file, retried next time.
  (void)snapshots_->Retain(snapshots_kept_);
}

Result<raft::Snapshot> DiskStorage::CreateSnapshot(uint64_t i, const raft::ConfState* conf_state,
                                                   std::string data) {
  port::MutexLock w(&write_mu_);
  raft::SnapshotMetadata meta;
  {
    port::MutexLock lock(&mu_);
    meta = snapshot_meta_;
  }
  if (i <= meta.index) return Status::SnapshotOutOfDate();
  const uint64_t last = engine_->LastIndex();
  if (i > last) {
    return Status::InvalidArgument("snapshot " + std::to_string(i) + " is out of bound lastindex(" +
                                   std::to_string(last) + ")");
  }
  auto term = engine_->Term(i);
  if (!term.ok()) {
    return Status::InvalidArgument("snapshot " + std::to_string(i) +
                                   " is below the compaction point " +
                                   std::to_string(engine_->FirstIndex() - 1));
  }
  meta.index = i;
  meta.term = *term;
  if (conf_state != nullptr) meta.conf_state = *conf_state;
  // The file first (durable), then the metadata that names it: a crash in
  // between leaves an unreferenced file, removed on the next open.
  RAFTLOG_ASSIGN_OR_RETURN(std::string file, WriteSnapshotFile(meta, data));
  RAFTLOG_RETURN_IF_ERROR(
      engine_->PutState({{std::string(kSnapshotKey), EncodeSnapshotMeta(meta, file, data.size())}}));
  {
    port::MutexLock lock(&mu_);
    snapshot_meta_ = meta;
    snapshot_file_ = file;
  }
  PruneSnapshots();
  return raft::Snapshot{std::move(data), meta};
}

Status DiskStorage::ApplySnapshot(const raft::Snapshot& snapshot) {
  port::MutexLock lock(&write_mu_);
  return ApplySnapshotLocked(snapshot);
}

Status DiskStorage::ApplySnapshotLocked(const raft::Snapshot& snapshot, const raft::HardState* hs) {
  // etcd v3.7+: while no snapshot is stored (index 0), any snapshot is
  // accepted, including an index-0 bootstrap snapshot carrying a ConfState.
  uint64_t stored_index;
  {
    port::MutexLock lock(&mu_);
    stored_index = snapshot_meta_.index;
  }
  if (stored_index != 0 && stored_index >= snapshot.metadata.index) {
    return Status::SnapshotOutOfDate();
  }
  RAFTLOG_ASSIGN_OR_RETURN(std::string file, WriteSnapshotFile(snapshot.metadata, snapshot.data));
  // One LMDB transaction replaces the log and records the snapshot; segment
  // files are deleted after it. A crash before it leaves the old log and an
  // unreferenced snapshot file (removed on open); after it, the new state.
  // A HardState saved with the snapshot goes in the same transaction: its
  // commit index (at least the snapshot's, in a Ready) must never be found
  // below the snapshot after a crash.
  StateUpdates state = {
      {std::string(kSnapshotKey), EncodeSnapshotMeta(snapshot.metadata, file, snapshot.data.size())}};
  if (hs != nullptr) state.emplace_back(kHardStateKey, EncodeHardState(*hs));
  RAFTLOG_RETURN_IF_ERROR(engine_->Reset(snapshot.metadata.index, snapshot.metadata.term, state));
  {
    port::MutexLock lock(&mu_);
    snapshot_meta_ = snapshot.metadata;
    snapshot_file_ = file;
    if (hs != nullptr) hard_state_ = *hs;
  }
  PruneSnapshots();
  return Status::OK();
}

Status DiskStorage::Save(const raft::HardState& hs, std::span<const raft::Entry> entries,
                         const raft::Snapshot* snapshot, bool must_sync) {
  port::MutexLock lock(&write_mu_);
  const bool has_hs = !raft::IsEmptyHardState(hs);
  if (snapshot != nullptr && !raft::IsEmptySnap(*snapshot)) {
    // The snapshot and the HardState in one LMDB transaction.
    RAFTLOG_RETURN_IF_ERROR(ApplySnapshotLocked(*snapshot, has_hs ? &hs : nullptr));
  } else if (has_hs) {
    // The HardState before the entries: a new term or vote commits to LMDB
    // (synced) first, so entries of a new term are never on disk without it.
    RAFTLOG_RETURN_IF_ERROR(SetHardStateLocked(hs));
  }
  // One fdatasync for the entries, carrying the commit index with them.
  return AppendLocked(entries, must_sync);
}

}  // namespace raftlog::engine
