// FaultFileSystem: see the header for the durability model.
//
// The class mirrors the part of the namespace it has seen as a tree of Nodes
// (one per inode: file or directory). A node is where its real file is: a
// visible name in its parent, or a trash name there once removed. Each
// directory keeps a log of entry changes since its last SyncDir; each file a
// log of undo records since its last Sync. Power loss rolls the real files
// back through those logs, then forgets the tree: what is on disk is then the
// durable baseline, and nodes are learned again lazily, as durable.

#include "tests/testutil/fault_file_system.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <set>
#include <system_error>
#include <utility>

namespace raftlog::testutil {

namespace {

constexpr std::string_view kTrashPrefix = ".faultfs-trash-";
constexpr uint64_t kBlockBytes = 4096;

bool IsTrashName(std::string_view name) { return name.starts_with(kTrashPrefix); }

// splitmix64: small, seedable, and the same on every platform.
uint64_t NextRandom(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The same shape as PosixError in raftlog/io/posix_file_system.cc.
Status PosixLikeError(std::string_view syscall, const std::string& path, int err) {
  std::string context(syscall);
  context += ' ';
  context += path;
  if (err == ENOENT) return Status::NotFound(context + ": No such file or directory");
  return Status::FromErrno(context, err);
}

// The components of `path` made absolute, with "." and ".." resolved
// lexically (symlinks are not followed).
std::vector<std::string> SplitPath(const std::string& path) {
  std::string full = path;
  if (full.empty() || full.front() != '/') {
    std::error_code ec;
    full = std::filesystem::current_path(ec).string() + "/" + full;
  }
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= full.size()) {
    size_t next = full.find('/', pos);
    if (next == std::string::npos) next = full.size();
    std::string part = full.substr(pos, next - pos);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(std::move(part));
    }
    pos = next + 1;
  }
  return parts;
}

Result<std::string> ReadRange(io::File* file, uint64_t offset, uint64_t len) {
  std::string out(static_cast<size_t>(len), '\0');
  RAFTLOG_ASSIGN_OR_RETURN(std::string_view got, file->PRead(offset, out.size(), out.data()));
  out.resize(got.size());
  return out;
}

Status WriteAt(io::File* file, uint64_t offset, std::string_view bytes) {
  if (bytes.empty()) return Status::OK();
  std::string_view pieces[] = {bytes};
  return file->PWrite(offset, pieces);
}

}  // namespace

std::string_view FsOpName(FsOp op) {
  switch (op) {
    case FsOp::kOpen:
      return "Open";
    case FsOp::kCreate:
      return "Create";
    case FsOp::kPWrite:
      return "PWrite";
    case FsOp::kPRead:
      return "PRead";
    case FsOp::kSync:
      return "Sync";
    case FsOp::kAllocate:
      return "Allocate";
    case FsOp::kTruncate:
      return "Truncate";
    case FsOp::kSize:
      return "Size";
    case FsOp::kMap:
      return "Map";
    case FsOp::kCreateDir:
      return "CreateDir";
    case FsOp::kSyncDir:
      return "SyncDir";
    case FsOp::kListDir:
      return "ListDir";
    case FsOp::kRename:
      return "Rename";
    case FsOp::kRemove:
      return "Remove";
    case FsOp::kRemoveDir:
      return "RemoveDir";
    case FsOp::kStat:
      return "Stat";
    case FsOp::kLock:
      return "Lock";
    case FsOp::kAny:
      return "Any";
  }
  return "?";
}

// One change to a file since its last successful Sync. Undoing it (set the
// size back to prev_size, then write the old pieces back) restores the file
// as it was just before the change, provided every later change was undone
// first.
struct FaultFileSystem::DataRecord {
  enum class State {
    kUnsynced,  // no Sync has covered it yet
    kPoisoned,  // a Sync covering it failed: never durable (until power loss)
    kDurable,   // a later Sync succeeded while the log held poisoned records;
                // kept so that power loss can replay it after undoing them
  };
  uint64_t seq = 0;
  State state = State::kUnsynced;
  uint64_t prev_size = 0;
  // The previous contents of what the change overwrote or cut, as (offset,
  // bytes) pieces below prev_size. Bytes the change added beyond prev_size
  // need no undo: restoring the size drops them. A Truncate leaves out
  // all-zero stretches of what it cut, because its undo starts by extending
  // the file back with zeros (so cutting a preallocated tail costs nothing).
  std::vector<std::pair<uint64_t, std::string>> old_pieces;
  // [dirty_lo, dirty_hi): every byte whose contents or existence the change
  // may have altered (for writes past the end, the zero-filled gap too).
  uint64_t dirty_lo = 0;
  uint64_t dirty_hi = 0;
  // kDurable only: the file size and the contents of
  // [dirty_lo, min(dirty_hi, synced_size)) when the covering Sync succeeded.
  uint64_t synced_size = 0;
  std::string synced_bytes;
};

// `name` in a directory pointed at `before` and now points at `after`
// (nullptr: no entry).
struct FaultFileSystem::DirChange {
  std::string name;
  Node* before = nullptr;
  Node* after = nullptr;
};

// Changes that happened atomically (a rename within a directory is two).
struct FaultFileSystem::DirOp {
  std::vector<DirChange> changes;
};

struct FaultFileSystem::Node {
  uint64_t id = 0;
  bool is_dir = false;
  // Where the real file is: parent directory (nullptr for "/") and the real
  // name there, visible or trash. Invariant: parent->children[name] == this
  // unless deleted.
  Node* parent = nullptr;
  std::string name;
  bool in_trash = false;  // name is a trash name
  bool deleted = false;   // really gone; handles on it write to an unlinked inode

  // Directories: the children seen so far, by real name; and the entry
  // changes since the last successful SyncDir, oldest first.
  std::map<std::string, Node*> children;
  std::vector<DirOp> dir_log;

  // Files: changes since the last successful Sync (all of them, while any is
  // poisoned), oldest first, with increasing seq.
  std::deque<DataRecord> data_log;
  uint64_t next_seq = 1;
  bool poisoned = false;  // data_log holds a kPoisoned record
};

// ---------------------------------------------------------------------------
// FaultFile

class FaultFileSystem::FaultFile final : public io::File {
 public:
  FaultFile(FaultFileSystem* fs, std::unique_ptr<io::File> base, std::shared_ptr<Node> node,
            uint64_t epoch)
      : fs_(fs), base_(std::move(base)), node_(std::move(node)), epoch_(epoch) {}
  FaultFile(const FaultFile&) = delete;
  FaultFile& operator=(const FaultFile&) = delete;

  const std::string& path() const override { return base_->path(); }

  Status PWrite(uint64_t offset, std::span<const std::string_view> pieces) override {
    port::MutexLock lock(&fs_->mu_);
    RAFTLOG_RETURN_IF_ERROR(CheckAlive("pwritev"));
    std::optional<uint64_t> short_write;
    Status injected = fs_->CheckFault(FsOp::kPWrite, "pwritev", path(), {}, &short_write);
    if (!injected.ok() && !short_write) return injected;
    uint64_t total = 0;
    for (std::string_view p : pieces) total += p.size();
    // Recorded before writing and even if the write fails: a failed pwritev
    // may still have written a prefix, and undoing an unchanged range is
    // harmless.
    RAFTLOG_RETURN_IF_ERROR(fs_->RecordWrite(node_.get(), base_.get(), offset, total));
    if (!short_write) return base_->PWrite(offset, pieces);

    uint64_t left = std::min(*short_write, total);
    std::vector<std::string_view> prefix;
    for (std::string_view p : pieces) {
      if (left == 0) break;
      const size_t take = static_cast<size_t>(std::min<uint64_t>(left, p.size()));
      prefix.push_back(p.substr(0, take));
      left -= take;
    }
    RAFTLOG_RETURN_IF_ERROR(base_->PWrite(offset, prefix));
    return injected;
  }

  Result<std::string> ReadFromDevice(uint64_t offset, size_t n) const override {
    port::MutexLock lock(&fs_->mu_);
    RAFTLOG_RETURN_IF_ERROR(CheckAlive("pread(O_DIRECT)"));
    RAFTLOG_RETURN_IF_ERROR(fs_->CheckFault(FsOp::kPRead, "pread(O_DIRECT)", path()));
    if (!fs_->direct_reads_supported_) {
      return Status::NotSupported(path() + ": direct read refused");
    }
    return fs_->DurableRange(node_.get(), base_.get(), offset, n);
  }

  Result<std::string_view> PRead(uint64_t offset, size_t n, char* scratch) const override {
    {
      port::MutexLock lock(&fs_->mu_);
      RAFTLOG_RETURN_IF_ERROR(CheckAlive("pread"));
      RAFTLOG_RETURN_IF_ERROR(fs_->CheckFault(FsOp::kPRead, "pread", path()));
    }
    // Outside the lock: readers may run concurrently, as with the POSIX FS.
    return base_->PRead(offset, n, scratch);
  }

  Status Sync() override {
    uint64_t up_to_seq;
    {
      port::MutexLock lock(&fs_->mu_);
      RAFTLOG_RETURN_IF_ERROR(CheckAlive("fdatasync"));
      up_to_seq = node_->next_seq - 1;
      Status injected = fs_->CheckFault(FsOp::kSync, "fdatasync", path());
      if (!injected.ok()) {
        fs_->MarkSynced(node_.get(), up_to_seq, base_.get(), /*ok=*/false);
        return injected;
      }
    }
    // fdatasync outside the lock, so that readers and other files don't wait
    // behind it. It covers the changes logged before it started (up_to_seq);
    // a change racing with it counts as not covered, the conservative answer.
    Status s = base_->Sync();
    port::MutexLock lock(&fs_->mu_);
    if (fs_->epoch_ == epoch_) fs_->MarkSynced(node_.get(), up_to_seq, base_.get(), s.ok());
    return s;
  }

  Status Allocate(uint64_t offset, uint64_t len) override {
    port::MutexLock lock(&fs_->mu_);
    RAFTLOG_RETURN_IF_ERROR(CheckAlive("fallocate"));
    RAFTLOG_RETURN_IF_ERROR(fs_->CheckFault(FsOp::kAllocate, "fallocate", path()));
    RAFTLOG_RETURN_IF_ERROR(fs_->RecordResize(node_.get(), base_.get(), offset + len, true));
    return base_->Allocate(offset, len);
  }

  Status Truncate(uint64_t size) override {
    port::MutexLock lock(&fs_->mu_);
    RAFTLOG_RETURN_IF_ERROR(CheckAlive("ftruncate"));
    RAFTLOG_RETURN_IF_ERROR(fs_->CheckFault(FsOp::kTruncate, "ftruncate", path()));
    RAFTLOG_RETURN_IF_ERROR(fs_->RecordResize(node_.get(), base_.get(), size, false));
    return base_->Truncate(size);
  }

  Result<uint64_t> Size() const override {
    {
      port::MutexLock lock(&fs_->mu_);
      RAFTLOG_RETURN_IF_ERROR(CheckAlive("fstat"));
      RAFTLOG_RETURN_IF_ERROR(fs_->CheckFault(FsOp::kSize, "fstat", path()));
    }
    return base_->Size();
  }

  Result<std::unique_ptr<io::MappedRegion>> Map(uint64_t offset, uint64_t len) const override {
    {
      port::MutexLock lock(&fs_->mu_);
      RAFTLOG_RETURN_IF_ERROR(CheckAlive("mmap"));
      RAFTLOG_RETURN_IF_ERROR(fs_->CheckFault(FsOp::kMap, "mmap", path()));
    }
    return base_->Map(offset, len);
  }

  void AdviseWillNeed(uint64_t offset, uint64_t len) const override {
    if (Alive()) base_->AdviseWillNeed(offset, len);
  }
  void AdviseDontNeed(uint64_t offset, uint64_t len) const override {
    if (Alive()) base_->AdviseDontNeed(offset, len);
  }

 private:
  bool Alive() const {
    port::MutexLock lock(&fs_->mu_);
    return fs_->epoch_ == epoch_;
  }

  Status CheckAlive(std::string_view syscall) const REQUIRES(fs_->mu_) {
    if (fs_->epoch_ == epoch_) return Status::OK();
    return Status::IOError(std::string(syscall) + " " + path() +
                           ": file handle from before simulated power loss");
  }

  FaultFileSystem* const fs_;
  const std::unique_ptr<io::File> base_;
  const std::shared_ptr<Node> node_;
  const uint64_t epoch_;  // fs_->epoch_ when opened
};

// ---------------------------------------------------------------------------
// Fault injection and counters

FaultFileSystem::FaultFileSystem(io::FileSystem* base) : base_(base) {
  port::MutexLock lock(&mu_);
  ForgetTracking();
}

FaultFileSystem::~FaultFileSystem() { MarkAllDurable(); }

void FaultFileSystem::Inject(Fault fault) {
  RAFTLOG_CHECK_MSG(fault.nth >= 1, "Fault::nth counts from 1");
  port::MutexLock lock(&mu_);
  rules_.push_back(Rule{std::move(fault)});
}

// (Designated initializers would be shorter, but g++ 12 warns about every
// member they leave out.)
void FaultFileSystem::FailNth(FsOp op, uint64_t nth, int error, std::string path_contains) {
  Fault fault;
  fault.op = op;
  fault.nth = nth;
  fault.error = error;
  fault.path_contains = std::move(path_contains);
  Inject(std::move(fault));
}

void FaultFileSystem::FailAlways(FsOp op, int error, std::string path_contains) {
  Fault fault;
  fault.op = op;
  fault.sticky = true;
  fault.error = error;
  fault.path_contains = std::move(path_contains);
  Inject(std::move(fault));
}

void FaultFileSystem::ShortWriteNth(uint64_t nth, uint64_t bytes_written, int error,
                                    std::string path_contains) {
  Fault fault;
  fault.op = FsOp::kPWrite;
  fault.nth = nth;
  fault.error = error;
  fault.path_contains = std::move(path_contains);
  fault.short_write_bytes = bytes_written;
  Inject(std::move(fault));
}

void FaultFileSystem::ClearFaults() {
  port::MutexLock lock(&mu_);
  rules_.clear();
}

uint64_t FaultFileSystem::faults_fired() const {
  port::MutexLock lock(&mu_);
  return faults_fired_;
}

uint64_t FaultFileSystem::calls(FsOp op) const {
  port::MutexLock lock(&mu_);
  return counts_[static_cast<size_t>(op)];
}

void FaultFileSystem::ResetCounters() {
  port::MutexLock lock(&mu_);
  std::fill(std::begin(counts_), std::end(counts_), 0);
  faults_fired_ = 0;
}

void FaultFileSystem::Reset() {
  ClearFaults();
  ResetCounters();
}

void FaultFileSystem::set_failed_sync_loses_data(bool on) {
  port::MutexLock lock(&mu_);
  failed_sync_loses_data_ = on;
}

Status FaultFileSystem::CheckFault(FsOp op, std::string_view syscall, const std::string& path,
                                   const std::string& path2,
                                   std::optional<uint64_t>* short_write_bytes) {
  ++counts_[static_cast<size_t>(op)];
  ++counts_[static_cast<size_t>(FsOp::kAny)];
  Status result;
  for (Rule& rule : rules_) {
    const Fault& f = rule.fault;
    if (f.op != FsOp::kAny && f.op != op) continue;
    if (!f.path_contains.empty() && path.find(f.path_contains) == std::string::npos &&
        (path2.empty() || path2.find(f.path_contains) == std::string::npos)) {
      continue;
    }
    ++rule.seen;
    const bool fire = rule.seen == f.nth || (f.sticky && rule.seen > f.nth);
    if (!fire || !result.ok()) continue;  // the first firing rule decides
    result = PosixLikeError(syscall, path2.empty() ? path : path + " to " + path2, f.error);
    if (op == FsOp::kPWrite && f.short_write_bytes && short_write_bytes != nullptr) {
      *short_write_bytes = f.short_write_bytes;
    }
  }
  std::erase_if(rules_, [](const Rule& r) { return !r.fault.sticky && r.seen >= r.fault.nth; });
  if (!result.ok()) ++faults_fired_;
  return result;
}

// ---------------------------------------------------------------------------
// The namespace mirror

FaultFileSystem::Node* FaultFileSystem::NewNode(bool is_dir, Node* parent, std::string name) {
  auto node = std::make_shared<Node>();
  node->id = next_node_id_++;
  node->is_dir = is_dir;
  node->parent = parent;
  node->name = std::move(name);
  node->in_trash = IsTrashName(node->name);
  if (parent != nullptr) parent->children[node->name] = node.get();
  Node* raw = node.get();
  nodes_[raw->id] = std::move(node);
  return raw;
}

std::string FaultFileSystem::RealPath(const Node* node) const {
  std::vector<const std::string*> names;
  for (const Node* n = node; n->parent != nullptr; n = n->parent) names.push_back(&n->name);
  if (names.empty()) return "/";
  std::string path;
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    path += '/';
    path += **it;
  }
  return path;
}

FaultFileSystem::Node* FaultFileSystem::Resolve(const std::string& path) {
  Node* node = root_;
  for (std::string& part : SplitPath(path)) {
    if (!node->is_dir) return nullptr;
    auto it = node->children.find(part);
    if (it != node->children.end()) {
      node = it->second;
      continue;
    }
    // Not seen before: whatever is really there predates our tracking (or was
    // made behind our back) and is taken as durable.
    Result<bool> is_dir = base_->IsDirectory(io::JoinPath(RealPath(node), part));
    if (!is_dir.ok()) return nullptr;
    node = NewNode(*is_dir, node, std::move(part));
  }
  return node;
}

std::pair<FaultFileSystem::Node*, std::string> FaultFileSystem::ResolveParent(
    const std::string& path) {
  std::vector<std::string> parts = SplitPath(path);
  if (parts.empty()) return {nullptr, ""};
  std::string name = std::move(parts.back());
  parts.pop_back();
  std::string parent = "/";
  for (const std::string& p : parts) parent = io::JoinPath(parent, p);
  Node* dir = Resolve(parent);
  if (dir == nullptr || !dir->is_dir) return {nullptr, ""};
  return {dir, std::move(name)};
}

void FaultFileSystem::LogDirOp(Node* dir, std::vector<DirChange> changes) {
  dir->dir_log.push_back(DirOp{std::move(changes)});
}

Status FaultFileSystem::Relocate(Node* node, Node* dir, std::string name) {
  const std::string from = RealPath(node);
  const std::string to = io::JoinPath(RealPath(dir), name);
  RAFTLOG_RETURN_IF_ERROR(base_->Rename(from, to));
  node->parent->children.erase(node->name);
  node->parent = dir;
  node->name = std::move(name);
  node->in_trash = IsTrashName(node->name);
  dir->children[node->name] = node;
  return Status::OK();
}

Status FaultFileSystem::MoveToTrash(Node* node) {
  return Relocate(node, node->parent, std::string(kTrashPrefix) + std::to_string(node->id));
}

bool FaultFileSystem::InTrash(const Node* node) const {
  for (; node != nullptr; node = node->parent) {
    if (node->in_trash) return true;
  }
  return false;
}

void FaultFileSystem::CollectTrash() {
  // A trashed node can be deleted once no un-synced change recorded outside
  // its own subtree mentions it or anything inside it: nothing could bring it
  // back. Changes logged inside the subtree only matter if it comes back.
  bool progress = true;
  while (progress) {
    progress = false;
    for (auto& [id, candidate] : nodes_) {
      if (!candidate->in_trash || candidate->deleted) continue;
      std::set<const Node*> subtree;
      std::vector<const Node*> stack = {candidate.get()};
      while (!stack.empty()) {
        const Node* n = stack.back();
        stack.pop_back();
        subtree.insert(n);
        for (const auto& [name, child] : n->children) stack.push_back(child);
      }
      bool referenced = false;
      for (const auto& [dir_id, dir] : nodes_) {
        if (!dir->is_dir || dir->deleted || subtree.count(dir.get()) > 0) continue;
        for (const DirOp& op : dir->dir_log) {
          for (const DirChange& c : op.changes) {
            if (subtree.count(c.before) > 0 || subtree.count(c.after) > 0) referenced = true;
          }
        }
      }
      if (referenced) continue;
      // Best effort: a failure leaves a hidden file behind, which ListDir
      // hides anyway.
      (void)DeleteForReal(candidate.get());
      progress = true;
    }
  }
}

Status FaultFileSystem::DeleteForReal(Node* node) {
  const std::string path = RealPath(node);
  Status s = node->is_dir ? DeleteTreeForReal(path) : base_->Remove(path);
  std::vector<Node*> stack = {node};
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    n->deleted = true;
    for (auto& [name, child] : n->children) stack.push_back(child);
  }
  if (node->parent != nullptr) node->parent->children.erase(node->name);
  return s.IsNotFound() ? Status::OK() : s;
}

Status FaultFileSystem::DeleteTreeForReal(const std::string& path) {
  RAFTLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, base_->ListDir(path));
  for (const std::string& name : names) {
    const std::string child = io::JoinPath(path, name);
    RAFTLOG_ASSIGN_OR_RETURN(bool is_dir, base_->IsDirectory(child));
    RAFTLOG_RETURN_IF_ERROR(is_dir ? DeleteTreeForReal(child) : base_->Remove(child));
  }
  return base_->RemoveDir(path);
}

// ---------------------------------------------------------------------------
// File data tracking

void FaultFileSystem::AppendRecord(Node* node, DataRecord record) {
  record.seq = node->next_seq++;
  node->data_log.push_back(std::move(record));
}

Status FaultFileSystem::RecordWrite(Node* node, io::File* base, uint64_t offset, uint64_t len) {
  if (node->deleted || len == 0) return Status::OK();
  RAFTLOG_ASSIGN_OR_RETURN(uint64_t size, base->Size());
  DataRecord r;
  r.prev_size = size;
  if (offset < size) {
    RAFTLOG_ASSIGN_OR_RETURN(std::string old,
                             ReadRange(base, offset, std::min(len, size - offset)));
    r.old_pieces.emplace_back(offset, std::move(old));
  }
  r.dirty_lo = std::min(offset, size);  // from the old end if the write leaves a gap
  r.dirty_hi = offset + len;
  AppendRecord(node, std::move(r));
  return Status::OK();
}

Status FaultFileSystem::RecordResize(Node* node, io::File* base, uint64_t new_size,
                                     bool grow_only) {
  if (node->deleted) return Status::OK();
  RAFTLOG_ASSIGN_OR_RETURN(uint64_t size, base->Size());
  // fallocate never shrinks a file and leaves existing bytes alone.
  if (new_size == size || (grow_only && new_size < size)) return Status::OK();
  DataRecord r;
  r.prev_size = size;
  constexpr uint64_t kChunkBytes = 64 << 10;
  for (uint64_t at = new_size; at < size; at += kChunkBytes) {
    RAFTLOG_ASSIGN_OR_RETURN(std::string chunk,
                             ReadRange(base, at, std::min(kChunkBytes, size - at)));
    if (chunk.find_first_not_of('\0') != std::string::npos) {
      r.old_pieces.emplace_back(at, std::move(chunk));
    }
  }
  r.dirty_lo = std::min(new_size, size);
  r.dirty_hi = std::max(new_size, size);
  AppendRecord(node, std::move(r));
  return Status::OK();
}

void FaultFileSystem::MarkSynced(Node* node, uint64_t up_to_seq, io::File* base, bool ok) {
  if (node->deleted) return;
  using State = DataRecord::State;
  if (!ok) {
    if (!failed_sync_loses_data_) return;
    for (DataRecord& r : node->data_log) {
      if (r.seq <= up_to_seq && r.state == State::kUnsynced) {
        r.state = State::kPoisoned;
        node->poisoned = true;
      }
    }
    return;
  }
  if (!node->poisoned) {
    while (!node->data_log.empty() && node->data_log.front().seq <= up_to_seq) {
      node->data_log.pop_front();
    }
    return;
  }
  // Poisoned records must still be undone at power loss, and undoing them
  // needs every later record undone too; so the records this Sync covers are
  // kept, with what they made durable, to be replayed afterwards.
  Result<uint64_t> size = base->Size();
  if (!size.ok()) return;  // leave them un-synced: conservative
  for (DataRecord& r : node->data_log) {
    if (r.seq > up_to_seq || r.state != State::kUnsynced) continue;
    const uint64_t hi = std::min(r.dirty_hi, *size);
    std::string bytes;
    if (r.dirty_lo < hi) {
      Result<std::string> got = ReadRange(base, r.dirty_lo, hi - r.dirty_lo);
      if (!got.ok()) continue;
      bytes = std::move(*got);
    }
    r.state = State::kDurable;
    r.synced_size = *size;
    r.synced_bytes = std::move(bytes);
  }
}

// ---------------------------------------------------------------------------
// Durability

void FaultFileSystem::MarkAllDurable() {
  port::MutexLock lock(&mu_);
  for (auto& [id, node] : nodes_) {
    node->dir_log.clear();
    node->data_log.clear();
    node->poisoned = false;
  }
  CollectTrash();
}

std::vector<std::string> FaultFileSystem::UnsyncedPaths() const {
  port::MutexLock lock(&mu_);
  std::vector<std::string> paths;
  for (const auto& [id, node] : nodes_) {
    if (node->deleted || InTrash(node.get())) continue;
    const bool unsynced_data =
        std::any_of(node->data_log.begin(), node->data_log.end(),
                    [](const DataRecord& r) { return r.state != DataRecord::State::kDurable; });
    if (unsynced_data || !node->dir_log.empty()) paths.push_back(RealPath(node.get()));
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

Status FaultFileSystem::SimulatePowerLoss(PowerLossMode mode, uint64_t seed) {
  port::MutexLock lock(&mu_);
  ++epoch_;  // every File opened so far is dead from here on
  uint64_t rng = seed;
  Status result;
  // Data first, while every node is still where the tree says it is.
  for (auto& [id, node] : nodes_) {
    if (node->is_dir || node->deleted || node->data_log.empty()) continue;
    Status s = RestoreData(node.get(), mode, &rng);
    if (result.ok() && !s.ok()) result = s.WithContext("simulating power loss");
  }
  Status s = RestoreNamespace(mode, &rng);
  if (result.ok() && !s.ok()) result = s.WithContext("simulating power loss");
  ForgetTracking();
  return result;
}

Result<std::string> FaultFileSystem::DurableRange(Node* node, io::File* base, uint64_t offset,
                                                  size_t n) {
  using State = DataRecord::State;
  RAFTLOG_ASSIGN_OR_RETURN(const uint64_t current_size, base->Size());
  // The range's bytes as readers see them, then RestoreData's steps applied
  // to this copy: undo every record newest first, replay the durable ones.
  const uint64_t end = offset + n;
  std::string img(static_cast<size_t>(n), '\0');
  if (offset < current_size) {
    RAFTLOG_ASSIGN_OR_RETURN(std::string now,
                             ReadRange(base, offset, std::min<uint64_t>(n, current_size - offset)));
    img.replace(0, now.size(), now);
  }
  uint64_t size = current_size;
  // A size change: bytes past the new size are gone, and read as zeros if a
  // later step extends the file again.
  auto set_size = [&](uint64_t s) {
    for (uint64_t pos = std::max(s, offset); pos < end; ++pos) img[pos - offset] = '\0';
    size = s;
  };
  auto put = [&](uint64_t at, std::string_view bytes) {
    const uint64_t lo = std::max(at, offset), hi = std::min(at + bytes.size(), end);
    for (uint64_t pos = lo; pos < hi; ++pos) img[pos - offset] = bytes[pos - at];
  };
  for (auto it = node->data_log.rbegin(); it != node->data_log.rend(); ++it) {
    if (size != it->prev_size) set_size(it->prev_size);
    for (const auto& [at, bytes] : it->old_pieces) put(at, bytes);
  }
  for (const DataRecord& r : node->data_log) {
    if (r.state != State::kDurable) continue;
    if (size != r.synced_size) set_size(r.synced_size);
    put(r.dirty_lo, r.synced_bytes);
  }
  img.resize(static_cast<size_t>(size > offset ? std::min<uint64_t>(size - offset, n) : 0));
  return img;
}

Status FaultFileSystem::RestoreData(Node* node, PowerLossMode mode, uint64_t* rng) {
  using State = DataRecord::State;
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<io::File> file,
                           base_->Open(RealPath(node), io::OpenMode::kReadWrite));
  RAFTLOG_ASSIGN_OR_RETURN(const uint64_t current_size, file->Size());

  // The byte ranges that may differ between the disk and what readers saw.
  // A range that a later change rewrote and a later Sync made durable (after
  // a poisoning failure) is durable again: not dirty.
  std::vector<std::pair<uint64_t, uint64_t>> dirty;
  for (const DataRecord& r : node->data_log) {
    if (r.state == State::kDurable || r.dirty_lo >= r.dirty_hi) continue;
    std::vector<std::pair<uint64_t, uint64_t>> left = {{r.dirty_lo, r.dirty_hi}};
    for (const DataRecord& later : node->data_log) {
      if (later.state != State::kDurable || later.seq <= r.seq) continue;
      const uint64_t lo = later.dirty_lo, hi = std::min(later.dirty_hi, later.synced_size);
      std::vector<std::pair<uint64_t, uint64_t>> next;
      for (const auto& [a, b] : left) {
        if (hi <= a || lo >= b) {
          next.emplace_back(a, b);
          continue;
        }
        if (a < lo) next.emplace_back(a, lo);
        if (hi < b) next.emplace_back(hi, b);
      }
      left = std::move(next);
    }
    dirty.insert(dirty.end(), left.begin(), left.end());
  }
  std::sort(dirty.begin(), dirty.end());
  std::vector<std::pair<uint64_t, uint64_t>> merged;
  for (const auto& range : dirty) {
    if (!merged.empty() && range.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, range.second);
    } else {
      merged.push_back(range);
    }
  }

  // Torn: remember what readers saw in each touched 4 KiB block.
  std::map<uint64_t, std::string> seen_blocks;  // block start -> bytes (to EOF)
  if (mode == PowerLossMode::kTornUnsynced) {
    for (const auto& [lo, hi] : merged) {
      for (uint64_t b = lo / kBlockBytes * kBlockBytes; b < hi; b += kBlockBytes) {
        if (seen_blocks.count(b) > 0) continue;
        std::string bytes;
        if (b < current_size) {
          RAFTLOG_ASSIGN_OR_RETURN(
              bytes, ReadRange(file.get(), b, std::min(kBlockBytes, current_size - b)));
        }
        seen_blocks[b] = std::move(bytes);
      }
    }
  }

  // Roll back to the state before the oldest record, then replay what later
  // Syncs made durable (only present after a poisoning failure).
  uint64_t size = current_size;
  for (auto it = node->data_log.rbegin(); it != node->data_log.rend(); ++it) {
    if (size != it->prev_size) {
      RAFTLOG_RETURN_IF_ERROR(file->Truncate(it->prev_size));
      size = it->prev_size;
    }
    for (const auto& [offset, bytes] : it->old_pieces) {
      RAFTLOG_RETURN_IF_ERROR(WriteAt(file.get(), offset, bytes));
    }
  }
  for (const DataRecord& r : node->data_log) {
    if (r.state != State::kDurable) continue;
    if (size != r.synced_size) {
      RAFTLOG_RETURN_IF_ERROR(file->Truncate(r.synced_size));
      size = r.synced_size;
    }
    RAFTLOG_RETURN_IF_ERROR(WriteAt(file.get(), r.dirty_lo, r.synced_bytes));
  }
  const uint64_t durable_size = size;

  switch (mode) {
    case PowerLossMode::kDropUnsynced:
      break;
    case PowerLossMode::kTornUnsynced: {
      // The size is metadata, written independently of the data blocks;
      // blocks past the durable size that did not make it read as zeros.
      const uint64_t final_size = (NextRandom(rng) & 1) ? current_size : durable_size;
      if (final_size != size) RAFTLOG_RETURN_IF_ERROR(file->Truncate(final_size));
      for (const auto& [start, bytes] : seen_blocks) {
        if ((NextRandom(rng) & 1) == 0 || start >= final_size) continue;
        const size_t keep =
            static_cast<size_t>(std::min<uint64_t>(bytes.size(), final_size - start));
        RAFTLOG_RETURN_IF_ERROR(
            WriteAt(file.get(), start, std::string_view(bytes).substr(0, keep)));
      }
      break;
    }
    case PowerLossMode::kGarbleUnsynced: {
      const uint64_t final_size = std::max(current_size, durable_size);
      if (final_size != size) RAFTLOG_RETURN_IF_ERROR(file->Truncate(final_size));
      for (const auto& [lo, hi] : merged) {
        const uint64_t end = std::min(hi, final_size);
        if (lo >= end) continue;
        std::string garbage(static_cast<size_t>(end - lo), '\0');
        for (size_t i = 0; i < garbage.size(); i += 8) {
          const uint64_t word = NextRandom(rng);
          std::memcpy(garbage.data() + i, &word, std::min<size_t>(8, garbage.size() - i));
        }
        RAFTLOG_RETURN_IF_ERROR(WriteAt(file.get(), lo, garbage));
      }
      break;
    }
  }
  return Status::OK();
}

Status FaultFileSystem::RestoreNamespace(PowerLossMode mode, uint64_t* rng) {
  // What each touched entry must hold after the loss: the `before` of the
  // oldest change to it that is undone. Keyed by (directory id, name) so the
  // order, and so the outcome, is deterministic.
  std::map<std::pair<uint64_t, std::string>, Node*> targets;
  for (auto& [id, dir] : nodes_) {
    if (!dir->is_dir || dir->deleted || dir->dir_log.empty()) continue;
    size_t keep = 0;
    if (mode == PowerLossMode::kTornUnsynced) {
      keep = static_cast<size_t>(NextRandom(rng) % (dir->dir_log.size() + 1));
    }
    for (size_t i = dir->dir_log.size(); i-- > keep;) {
      const std::vector<DirChange>& changes = dir->dir_log[i].changes;
      for (auto c = changes.rbegin(); c != changes.rend(); ++c) {
        targets[{id, c->name}] = c->before;
      }
    }
  }

  // Detach whatever sits at a touched entry and should not, then attach the
  // wanted nodes. A node wanted in two places (possible only through a
  // cross-directory rename) is copied; an unwanted one stays in the trash.
  for (const auto& [key, want] : targets) {
    Node* dir = nodes_.at(key.first).get();
    auto it = dir->children.find(key.second);
    if (it != dir->children.end() && it->second != want) {
      RAFTLOG_RETURN_IF_ERROR(MoveToTrash(it->second));
    }
  }
  for (const auto& [key, want] : targets) {
    Node* dir = nodes_.at(key.first).get();
    if (want == nullptr || want->deleted) continue;
    auto it = dir->children.find(key.second);
    if (it != dir->children.end() && it->second == want) continue;
    if (want->in_trash) {
      RAFTLOG_RETURN_IF_ERROR(Relocate(want, dir, key.second));
    } else if (!want->is_dir) {
      RAFTLOG_ASSIGN_OR_RETURN(std::string bytes, io::ReadFileToString(base_, RealPath(want)));
      RAFTLOG_ASSIGN_OR_RETURN(
          std::unique_ptr<io::File> copy,
          base_->Open(io::JoinPath(RealPath(dir), key.second), io::OpenMode::kCreate));
      RAFTLOG_RETURN_IF_ERROR(copy->Truncate(0));
      RAFTLOG_RETURN_IF_ERROR(WriteAt(copy.get(), 0, bytes));
    }
  }

  // Whatever is still in the trash was durably removed or never durably
  // created.
  for (auto& [id, node] : nodes_) {
    if (node->in_trash && !node->deleted) RAFTLOG_RETURN_IF_ERROR(DeleteForReal(node.get()));
  }
  return Status::OK();
}

void FaultFileSystem::ForgetTracking() {
  nodes_.clear();
  root_ = NewNode(/*is_dir=*/true, nullptr, "");
}

// ---------------------------------------------------------------------------
// io::FileSystem

Result<std::unique_ptr<io::File>> FaultFileSystem::Open(const std::string& path,
                                                        io::OpenMode mode) {
  port::MutexLock lock(&mu_);
  const bool creating = mode == io::OpenMode::kCreate || mode == io::OpenMode::kCreateExclusive;
  RAFTLOG_RETURN_IF_ERROR(CheckFault(creating ? FsOp::kCreate : FsOp::kOpen, "open", path));
  Node* node = Resolve(path);
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<io::File> file, base_->Open(path, mode));
  if (node == nullptr && creating) {
    // The open created the file: a new entry, durable only after SyncDir.
    auto [dir, name] = ResolveParent(path);
    RAFTLOG_CHECK_MSG(dir != nullptr,
                      "FaultFileSystem: created " + path + " in an unknown directory");
    node = NewNode(/*is_dir=*/false, dir, name);
    LogDirOp(dir, {DirChange{name, nullptr, node}});
  } else if (node == nullptr) {
    node = Resolve(path);  // appeared behind our back: take it as durable
    RAFTLOG_CHECK_MSG(node != nullptr, "FaultFileSystem: opened " + path + " but cannot find it");
  }
  return std::unique_ptr<io::File>(
      std::make_unique<FaultFile>(this, std::move(file), nodes_.at(node->id), epoch_));
}

Status FaultFileSystem::CreateDir(const std::string& path) {
  port::MutexLock lock(&mu_);
  RAFTLOG_RETURN_IF_ERROR(CheckFault(FsOp::kCreateDir, "mkdir", path));
  Node* existing = Resolve(path);
  RAFTLOG_RETURN_IF_ERROR(base_->CreateDir(path));
  if (existing == nullptr) {
    auto [dir, name] = ResolveParent(path);
    RAFTLOG_CHECK_MSG(dir != nullptr, "FaultFileSystem: made " + path + " in an unknown directory");
    Node* node = NewNode(/*is_dir=*/true, dir, name);
    LogDirOp(dir, {DirChange{name, nullptr, node}});
  }
  return Status::OK();
}

Status FaultFileSystem::SyncDir(const std::string& path) {
  port::MutexLock lock(&mu_);
  RAFTLOG_RETURN_IF_ERROR(CheckFault(FsOp::kSyncDir, "fsync directory", path));
  Node* dir = Resolve(path);
  RAFTLOG_RETURN_IF_ERROR(base_->SyncDir(path));
  if (dir != nullptr && dir->is_dir) {
    dir->dir_log.clear();
    CollectTrash();
  }
  return Status::OK();
}

Result<std::vector<std::string>> FaultFileSystem::ListDir(const std::string& path) {
  port::MutexLock lock(&mu_);
  RAFTLOG_RETURN_IF_ERROR(CheckFault(FsOp::kListDir, "opendir", path));
  RAFTLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, base_->ListDir(path));
  std::erase_if(names, [](const std::string& name) { return IsTrashName(name); });
  return names;
}

Status FaultFileSystem::Rename(const std::string& from, const std::string& to) {
  port::MutexLock lock(&mu_);
  RAFTLOG_RETURN_IF_ERROR(CheckFault(FsOp::kRename, "rename", from, to));
  Node* src = Resolve(from);
  auto [to_dir, to_name] = ResolveParent(to);
  Node* dst = Resolve(to);
  // Cases rename(2) rejects, or where it does nothing: let it answer.
  bool into_itself = false;
  for (Node* n = to_dir; n != nullptr; n = n->parent) into_itself |= (n == src);
  if (src == nullptr || to_dir == nullptr || src == root_ || dst == src || into_itself ||
      (dst != nullptr && dst->is_dir != src->is_dir)) {
    return base_->Rename(from, to);
  }
  if (dst != nullptr && dst->is_dir) {
    RAFTLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, base_->ListDir(to));
    if (std::any_of(names.begin(), names.end(),
                    [](const std::string& n) { return !IsTrashName(n); })) {
      return PosixLikeError("rename", from + " to " + to, ENOTEMPTY);
    }
  }
  // The replaced file goes to the trash rather than away, so power loss can
  // bring it back.
  if (dst != nullptr) RAFTLOG_RETURN_IF_ERROR(MoveToTrash(dst));
  Status s = base_->Rename(from, to);
  if (!s.ok()) {
    if (dst != nullptr) (void)Relocate(dst, to_dir, to_name);
    return s;
  }
  Node* from_dir = src->parent;
  const std::string from_name = src->name;
  from_dir->children.erase(from_name);
  src->parent = to_dir;
  src->name = to_name;
  to_dir->children[to_name] = src;
  if (from_dir == to_dir) {
    LogDirOp(from_dir, {DirChange{from_name, src, nullptr}, DirChange{to_name, dst, src}});
  } else {
    LogDirOp(from_dir, {DirChange{from_name, src, nullptr}});
    LogDirOp(to_dir, {DirChange{to_name, dst, src}});
  }
  return Status::OK();
}

Status FaultFileSystem::Remove(const std::string& path) {
  port::MutexLock lock(&mu_);
  RAFTLOG_RETURN_IF_ERROR(CheckFault(FsOp::kRemove, "unlink", path));
  Node* node = Resolve(path);
  if (node == nullptr || node->is_dir) return base_->Remove(path);  // its real error
  Node* dir = node->parent;
  const std::string name = node->name;
  RAFTLOG_RETURN_IF_ERROR(MoveToTrash(node));
  LogDirOp(dir, {DirChange{name, node, nullptr}});
  return Status::OK();
}

Status FaultFileSystem::RemoveDir(const std::string& path) {
  port::MutexLock lock(&mu_);
  RAFTLOG_RETURN_IF_ERROR(CheckFault(FsOp::kRemoveDir, "rmdir", path));
  Node* node = Resolve(path);
  if (node == nullptr || !node->is_dir || node == root_) return base_->RemoveDir(path);
  RAFTLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, base_->ListDir(path));
  if (std::any_of(names.begin(), names.end(),
                  [](const std::string& n) { return !IsTrashName(n); })) {
    return PosixLikeError("rmdir", path, ENOTEMPTY);
  }
  Node* dir = node->parent;
  const std::string name = node->name;
  RAFTLOG_RETURN_IF_ERROR(MoveToTrash(node));
  LogDirOp(dir, {DirChange{name, node, nullptr}});
  return Status::OK();
}

Result<bool> FaultFileSystem::IsDirectory(const std::string& path) {
  port::MutexLock lock(&mu_);
  RAFTLOG_RETURN_IF_ERROR(CheckFault(FsOp::kStat, "stat", path));
  return base_->IsDirectory(path);
}

bool FaultFileSystem::Exists(const std::string& path) { return base_->Exists(path); }

Result<std::unique_ptr<io::FileLock>> FaultFileSystem::Lock(const std::string& path) {
  port::MutexLock lock(&mu_);
  RAFTLOG_RETURN_IF_ERROR(CheckFault(FsOp::kLock, "open lock file", path));
  Node* node = Resolve(path);
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<io::FileLock> file_lock, base_->Lock(path));
  if (node == nullptr) {
    auto [dir, name] = ResolveParent(path);
    if (dir != nullptr) {
      Node* created = NewNode(/*is_dir=*/false, dir, name);
      LogDirOp(dir, {DirChange{name, nullptr, created}});
    }
  }
  return file_lock;
}

}  // namespace raftlog::testutil

namespace raftlog::testutil {

Result<std::unique_ptr<io::FileLock>> FaultFileSystem::LockShared(const std::string& path) {
  port::MutexLock lock(&mu_);
  RAFTLOG_RETURN_IF_ERROR(CheckFault(FsOp::kLock, "open lock file", path));
  return base_->LockShared(path);
}

void FaultFileSystem::set_direct_reads_supported(bool on) {
  port::MutexLock lock(&mu_);
  direct_reads_supported_ = on;
}

}  // namespace raftlog::testutil
