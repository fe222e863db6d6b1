#include "raftlog/snapshot/snapshot_store.h"

#include <algorithm>
#include <array>
#include <string>
#include <tuple>
#include <utility>

#include "raftlog/format/coding.h"
#include "raftlog/snapshot/snapshot_format.h"

namespace raftlog::snapshot {

namespace {

// The directory holding `dir`, for the fsync that makes a new `dir` durable.
std::string ParentDir(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const size_t slash = dir.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return dir.substr(0, slash);
}

// Newest first: by index, then term (for raft the two orders agree: a later
// snapshot never has a lower term).
bool Newer(const SnapshotInfo& a, const SnapshotInfo& b) {
  return std::tie(a.meta.index, a.meta.term) > std::tie(b.meta.index, b.meta.term);
}

Status CheckNameMatchesHeader(const SnapshotReader& reader, const ParsedName& parsed) {
  const SnapshotMeta& meta = reader.meta();
  if (meta.term == parsed.term && meta.index == parsed.index) return Status::OK();
  return CorruptionAt(reader.path(), 16,
                      "header says term " + std::to_string(meta.term) + " index " +
                          std::to_string(meta.index) + " but the file name says term " +
                          std::to_string(parsed.term) + " index " + std::to_string(parsed.index));
}

}  // namespace

SnapshotStore::SnapshotStore(io::FileSystem* fs, std::string dir, Options options)
    : fs_(fs), dir_(std::move(dir)), options_(options) {}

SnapshotStore::~SnapshotStore() {
  port::MutexLock lock(&mu_);
  RAFTLOG_CHECK_MSG(writing_.empty(),
                    "SnapshotStore destroyed while a SnapshotWriter is still writing " +
                        (writing_.empty() ? std::string() : *writing_.begin()));
}

Result<std::unique_ptr<SnapshotStore>> SnapshotStore::Open(io::FileSystem* fs, std::string dir,
                                                           Options options) {
  if (options.keep < 1) return Status::InvalidArgument("snapshot store: keep must be at least 1");
  if (options.block_bytes < 1 || options.block_bytes > kMaxBlockBytes) {
    return Status::InvalidArgument("snapshot store: block_bytes " +
                                   std::to_string(options.block_bytes) + " out of range [1, " +
                                   std::to_string(kMaxBlockBytes) + "]");
  }
  if (dir.empty()) return Status::InvalidArgument("snapshot store: empty directory name");

  if (options.read_only) {
    RAFTLOG_ASSIGN_OR_RETURN(const bool is_dir, fs->IsDirectory(dir));
    if (!is_dir) return Status::InvalidArgument("snapshot store: " + dir + " is not a directory");
  } else {
    const bool existed = fs->Exists(dir);
    RAFTLOG_RETURN_IF_ERROR(fs->CreateDir(dir));
    // A new directory is itself an entry in its parent: without this fsync a
    // crash could lose the directory along with every snapshot in it.
    if (!existed) RAFTLOG_RETURN_IF_ERROR(fs->SyncDir(ParentDir(dir)));
  }

  std::unique_ptr<SnapshotStore> store(new SnapshotStore(fs, std::move(dir), options));
  RAFTLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(store->dir_));
  SnapshotStoreStats stats;
  for (const std::string& name : names) {
    if (!IsTempFileName(name)) continue;
    ++stats.temp_files_found;
    if (options.read_only) continue;
    // A temp file is never complete-and-visible (crash windows 1 and 2 in
    // the header), so removing it loses nothing. Its removal need not be
    // durable: if it comes back after a crash, the next Open removes it.
    Status s = fs->Remove(store->PathOf(name));
    if (s.ok() || s.IsNotFound()) {
      ++stats.temp_files_removed;
    } else {
      return s.WithContext("snapshot store: removing leftover temp file");
    }
  }
  {
    port::MutexLock lock(&store->mu_);
    store->stats_ = stats;
  }
  return store;
}

std::string SnapshotStore::PathOf(std::string_view name) const { return io::JoinPath(dir_, name); }

Status SnapshotStore::CheckWritable() const {
  if (options_.read_only) {
    return Status::FailedPrecondition("snapshot store " + dir_ + " is opened read-only");
  }
  return Status::OK();
}

SnapshotStoreStats SnapshotStore::stats() const {
  port::MutexLock lock(&mu_);
  return stats_;
}

Result<std::unique_ptr<SnapshotWriter>> SnapshotStore::BeginWrite(const SnapshotMeta& meta) {
  RAFTLOG_RETURN_IF_ERROR(CheckWritable());
  if (meta.conf_state.size() > kMaxConfStateBytes) {
    return Status::InvalidArgument(
        "snapshot conf state of " + std::to_string(meta.conf_state.size()) +
        " bytes exceeds the limit of " + std::to_string(kMaxConfStateBytes));
  }
  std::string name = SnapshotFileName(meta.term, meta.index);
  {
    port::MutexLock lock(&mu_);
    if (!writing_.insert(name).second) {
      return Status::Busy("snapshot " + name + " is already being written");
    }
  }
  // From here on a failure must give the name back; on success the writer
  // does (SnapshotWriter::Release).
  auto fail = [&](Status s) {
    EndWrite(name);
    return s;
  };

  const std::string temp_path = PathOf(TempFileName(name));
  // kCreate, then truncate: a stale temp file of the same name (which Open
  // would have removed, unless an unlink failed) is simply overwritten.
  auto file = fs_->Open(temp_path, io::OpenMode::kCreate);
  if (!file.ok()) return fail(file.status());
  const std::string header = EncodeHeader(meta, static_cast<uint32_t>(options_.block_bytes));
  const std::array<std::string_view, 1> pieces = {header};
  Status s = (*file)->Truncate(0);
  if (s.ok()) s = (*file)->PWrite(0, pieces);
  if (!s.ok()) {
    file->reset();
    (void)fs_->Remove(temp_path);
    return fail(std::move(s));
  }
  const uint64_t header_checksum =
      format::DecodeFixed64(header.data() + header.size() - sizeof(uint64_t));
  return std::unique_ptr<SnapshotWriter>(new SnapshotWriter(
      this, fs_, meta, std::move(name), temp_path, std::move(*file),
      static_cast<uint32_t>(options_.block_bytes), header_checksum, header.size()));
}

Result<SnapshotInfo> SnapshotStore::Write(const SnapshotMeta& meta, std::string_view data) {
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<SnapshotWriter> writer, BeginWrite(meta));
  RAFTLOG_RETURN_IF_ERROR(writer->Append(data));
  return writer->Commit();
}

void SnapshotStore::EndWrite(const std::string& name) {
  port::MutexLock lock(&mu_);
  writing_.erase(name);
}

Status SnapshotStore::Publish(const std::string& temp_path, const std::string& name) {
  port::MutexLock publish_lock(&publish_mu_);
  const std::string path = PathOf(name);
  // rename(2) replaces an existing file of the same name atomically: a
  // reader sees the old file or the new one, never neither.
  Status s = fs_->Rename(temp_path, path);
  if (!s.ok()) {
    (void)fs_->Remove(temp_path);
    return s;
  }
  // The rename is durable only once the directory is: until then a crash can
  // undo it. Commit must not report success before, since the caller may
  // then discard what the snapshot replaces (e.g. compact the raft log).
  s = fs_->SyncDir(dir_);
  if (!s.ok()) {
    // Commit fails, so the snapshot must not stay visible either: a caller
    // that retries or gives up must not find it in List later. The file
    // itself is complete; it is only its name's durability that is unknown.
    (void)fs_->Remove(path);
    return s;
  }
  size_t removed = 0;
  Status prune = PruneLocked(options_.keep, name, &removed);
  port::MutexLock lock(&mu_);
  stats_.snapshots_pruned += removed;
  stats_.last_prune_status = std::move(prune);
  return Status::OK();
}

Status SnapshotStore::PruneLocked(size_t keep, std::string_view spare, size_t* removed) {
  *removed = 0;
  RAFTLOG_ASSIGN_OR_RETURN(std::vector<SnapshotInfo> snapshots, List());
  Status first_error;
  // List is newest first: everything past the first `keep` goes.
  for (size_t i = keep; i < snapshots.size(); ++i) {
    if (snapshots[i].name == spare) continue;
    Status s = fs_->Remove(PathOf(snapshots[i].name));
    if (s.ok()) {
      ++*removed;
    } else if (!s.IsNotFound() && first_error.ok()) {
      first_error = std::move(s);
    }
  }
  return first_error;
}

Result<SnapshotListing> SnapshotStore::Scan() {
  RAFTLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->ListDir(dir_));
  SnapshotListing listing;
  for (const std::string& name : names) {
    const std::optional<ParsedName> parsed = ParseSnapshotFileName(name);
    if (!parsed) continue;
    auto reader = SnapshotReader::Open(fs_, PathOf(name));
    Status s = reader.status();
    if (s.IsNotFound()) continue;  // pruned or removed since ListDir
    if (s.ok()) s = CheckNameMatchesHeader(**reader, *parsed);
    if (!s.ok()) {
      listing.damaged.push_back(DamagedSnapshot{name, std::move(s)});
      continue;
    }
    listing.snapshots.push_back((*reader)->info());
  }
  std::sort(listing.snapshots.begin(), listing.snapshots.end(), Newer);
  return listing;
}

Result<std::vector<SnapshotInfo>> SnapshotStore::List() {
  RAFTLOG_ASSIGN_OR_RETURN(SnapshotListing listing, Scan());
  return std::move(listing.snapshots);
}

Result<std::optional<SnapshotInfo>> SnapshotStore::Latest() {
  RAFTLOG_ASSIGN_OR_RETURN(std::vector<SnapshotInfo> snapshots, List());
  if (snapshots.empty()) return std::optional<SnapshotInfo>();
  return std::optional<SnapshotInfo>(std::move(snapshots.front()));
}

Result<std::unique_ptr<SnapshotReader>> SnapshotStore::OpenReader(const std::string& name) {
  const std::optional<ParsedName> parsed = ParseSnapshotFileName(name);
  if (!parsed) {
    return Status::InvalidArgument("\"" + name + "\" is not a snapshot file name");
  }
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<SnapshotReader> reader,
                           SnapshotReader::Open(fs_, PathOf(name)));
  RAFTLOG_RETURN_IF_ERROR(CheckNameMatchesHeader(*reader, *parsed));
  return reader;
}

Result<std::pair<SnapshotInfo, std::string>> SnapshotStore::Load(const std::string& name) {
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<SnapshotReader> reader, OpenReader(name));
  std::string data;
  // data_bytes is bounded by the file's size (SnapshotReader::Open checks
  // that the blocks fill the file exactly), so this is no unchecked length.
  data.reserve(static_cast<size_t>(reader->info().data_bytes));
  while (true) {
    RAFTLOG_ASSIGN_OR_RETURN(std::string_view chunk, reader->ReadChunk());
    if (chunk.empty()) break;
    data.append(chunk);
  }
  return std::make_pair(reader->info(), std::move(data));
}

Status SnapshotStore::Verify(const std::string& name) {
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<SnapshotReader> reader, OpenReader(name));
  while (true) {
    RAFTLOG_ASSIGN_OR_RETURN(std::string_view chunk, reader->ReadChunk());
    if (chunk.empty()) return Status::OK();
  }
}

Status SnapshotStore::Remove(const std::string& name) {
  RAFTLOG_RETURN_IF_ERROR(CheckWritable());
  if (!ParseSnapshotFileName(name)) {
    return Status::InvalidArgument("\"" + name + "\" is not a snapshot file name");
  }
  port::MutexLock publish_lock(&publish_mu_);
  RAFTLOG_RETURN_IF_ERROR(fs_->Remove(PathOf(name)));
  // Durable on return, so that a caller may rely on the file staying gone.
  return fs_->SyncDir(dir_);
}

Status SnapshotStore::Retain(size_t keep) {
  RAFTLOG_RETURN_IF_ERROR(CheckWritable());
  if (keep < 1) return Status::InvalidArgument("snapshot store: Retain(keep) needs keep >= 1");
  port::MutexLock publish_lock(&publish_mu_);
  size_t removed = 0;
  Status s = PruneLocked(keep, {}, &removed);
  {
    port::MutexLock lock(&mu_);
    stats_.snapshots_pruned += removed;
  }
  if (removed > 0) {
    Status synced = fs_->SyncDir(dir_);
    if (s.ok()) s = std::move(synced);
  }
  return s;
}

}  // namespace raftlog::snapshot
