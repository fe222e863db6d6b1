#include "raftlog/engine/internal/preallocator.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <string_view>
#include <vector>

#include "raftlog/engine/internal/elapsed.h"
#include "raftlog/engine/internal/segment.h"
#include "raftlog/format/record_format.h"

namespace raftlog::engine::internal {

Preallocator::Preallocator(io::FileSystem* fs, std::string dir, uint64_t segment_bytes,
                           uint64_t first_segment_id, int target, bool write_zeros,
                           int max_recycled)
    : fs_(fs),
      dir_(std::move(dir)),
      segment_bytes_(segment_bytes),
      target_(std::max(target, 0)),
      write_zeros_(write_zeros),
      max_recycled_(static_cast<size_t>(std::max(max_recycled, 0))),
      next_id_(first_segment_id),
      next_unused_(first_segment_id) {}

Preallocator::~Preallocator() { Stop(); }

void Preallocator::AddExisting(Prepared spare) {
  port::MutexLock lock(&mu_);
  next_id_ = std::max(next_id_, spare.segment_id + 1);
  ready_.push_back(std::move(spare));
}

void Preallocator::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Preallocator::Stop() {
  std::deque<std::string> unused;
  std::vector<std::unique_ptr<Segment>> dead;
  {
    port::MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
  {
    port::MutexLock lock(&mu_);
    dead.swap(released_);
  }
  // Stopped: their files are deleted, none recycled.
  ReleaseNow(std::move(dead));
  {
    port::MutexLock lock(&mu_);
    unused.swap(recyclable_);
    unused.insert(unused.end(), discarded_.begin(), discarded_.end());
    discarded_.clear();
  }
  // Files that waited for reuse are deleted as they would have been without
  // recycling, and so are those that waited to be deleted.
  RemoveFiles(unused);
}

void Preallocator::RemoveFiles(const std::deque<std::string>& paths) {
  if (paths.empty()) return;
  for (const std::string& path : paths) (void)fs_->Remove(path);
  (void)fs_->SyncDir(dir_);
}

void Preallocator::Release(std::vector<std::unique_ptr<Segment>> dead) {
  if (dead.empty()) return;
  {
    port::MutexLock lock(&mu_);
    if (!stop_ && thread_.joinable()) {
      for (auto& seg : dead) released_.push_back(std::move(seg));
      cv_.SignalAll();
      return;
    }
  }
  ReleaseNow(std::move(dead));
}

void Preallocator::ReleaseNow(std::vector<std::unique_ptr<Segment>> dead) {
  bool removed = false;
  for (auto& seg : dead) {
    const std::string path = io::JoinPath(dir_, seg->file_name());
    const std::weak_ptr<const void> watch = seg->mapping_watch();
    seg.reset();
    // Reused only if no payload a reader holds views its mapping: reuse
    // overwrites the file's header and later its frames. (No reader can
    // take a new view: the segment is gone from the engine's list.) A
    // waiting file never adds to the log's footprint: no fresh file is made
    // while one waits, so live segments, waiting files and the spares never
    // outnumber the most the log has held.
    if (watch.expired() && Recycle(path, std::numeric_limits<size_t>::max())) continue;
    // A failure (or a crash first) leaves a stray file that the next open
    // removes: the manifest no longer lists it, which is what counts.
    if (Discard(path)) continue;
    (void)fs_->Remove(path);
    removed = true;
  }
  if (removed) (void)fs_->SyncDir(dir_);
}

bool Preallocator::Discard(std::string path) {
  {
    port::MutexLock lock(&mu_);
    if (stop_ || !thread_.joinable()) return false;
    discarded_.push_back(std::move(path));
  }
  cv_.SignalAll();
  return true;
}

bool Preallocator::Recycle(std::string path, size_t limit) {
  {
    port::MutexLock lock(&mu_);
    if (stop_ || recyclable_.size() >= std::min(max_recycled_, limit)) return false;
    recyclable_.push_back(std::move(path));
  }
  cv_.SignalAll();
  return true;
}

uint64_t Preallocator::next_unused_id() const {
  port::MutexLock lock(&mu_);
  return next_unused_;
}

uint64_t Preallocator::recycled() const {
  port::MutexLock lock(&mu_);
  return recycled_;
}

uint64_t Preallocator::prepared_fresh() const {
  port::MutexLock lock(&mu_);
  return prepared_fresh_;
}

uint64_t Preallocator::zero_filled() const {
  port::MutexLock lock(&mu_);
  return zero_filled_;
}

Preallocator::Waits Preallocator::waits() const {
  port::MutexLock lock(&mu_);
  return waits_;
}

void Preallocator::NoteSyncedWrite(uint64_t bytes) {
  // One writer updates it; the preparing thread only reads it.
  const uint64_t avg = synced_write_bytes_.load(std::memory_order_relaxed);
  synced_write_bytes_.store(avg - avg / 8 + bytes / 8, std::memory_order_relaxed);
}

Result<Preallocator::Prepared> Preallocator::Take() {
  port::MutexLock lock(&mu_);
  if (target_ == 0 && ready_.empty()) {
    // No background thread: prepare in the caller's thread.
    const uint64_t id = next_id_;
    Result<Prepared> p = PrepareNext(id);
    if (!p.ok()) return p.status();
    next_id_ = id + 1;
    next_unused_ = std::max(next_unused_, id + 1);
    return p;
  }
  const bool waited = ready_.empty();
  const auto wait_start = waited ? std::chrono::steady_clock::now()
                                 : std::chrono::steady_clock::time_point();
  while (ready_.empty()) {
    if (!error_.ok() && !retry_) {
      // Report the failure once, then let the thread try again so that a
      // disk that gained space recovers without a restart.
      Status error = error_;
      retry_ = true;
      cv_.SignalAll();
      return error;
    }
    if (stop_) return Status::FailedPrecondition("segment preallocator stopped");
    cv_.Signal();
    cv_.Wait();
  }
  if (waited) {
    const uint64_t ns = ElapsedNs(wait_start);
    waits_.count++;
    waits_.total_ns += ns;
    waits_.max_ns = std::max(waits_.max_ns, ns);
  }
  Prepared p = std::move(ready_.front());
  ready_.pop_front();
  next_unused_ = std::max(next_unused_, p.segment_id + 1);
  cv_.SignalAll();  // the thread may prepare the next one
  return p;
}

void Preallocator::Run() {
  port::MutexLock lock(&mu_);
  while (!stop_) {
    if (!released_.empty()) {
      // Before the next spare: their files may make it.
      std::vector<std::unique_ptr<Segment>> dead;
      dead.swap(released_);
      mu_.Unlock();
      ReleaseNow(std::move(dead));
      mu_.Lock();
      continue;
    }
    const bool want_more = static_cast<int>(ready_.size()) < target_;
    const bool may_try = error_.ok() || retry_;
    if (!want_more || !may_try) {
      // A spare comes first (a roll may be waiting for it); deletions when
      // none is wanted.
      if (!discarded_.empty()) {
        std::deque<std::string> paths;
        paths.swap(discarded_);
        mu_.Unlock();
        RemoveFiles(paths);
        mu_.Lock();
        continue;
      }
      cv_.Wait();
      continue;
    }
    const uint64_t id = next_id_;
    Result<Prepared> p = PrepareNext(id);
    if (p.ok()) {
      ready_.push_back(std::move(*p));
      next_id_ = id + 1;
      error_ = Status::OK();
    } else {
      error_ = p.status();
    }
    retry_ = false;
    cv_.SignalAll();
  }
}

Result<Preallocator::Prepared> Preallocator::PrepareNext(uint64_t id) {
  if (!recyclable_.empty()) {
    const std::string old_path = std::move(recyclable_.front());
    recyclable_.pop_front();
    mu_.Unlock();
    Result<Prepared> p = RecycleOne(id, old_path);
    mu_.Lock();
    if (p.ok()) {
      recycled_++;
      return p;
    }
    // A file that could not be reused is gone (RecycleOne deleted it): make
    // a fresh one instead, and report only that one's failure.
  }
  const bool zeros =
      write_zeros_ && synced_write_bytes_.load(std::memory_order_relaxed) < kZeroFillBelowBytes;
  mu_.Unlock();
  Result<Prepared> p = PrepareOne(id, zeros);
  mu_.Lock();
  if (p.ok()) {
    prepared_fresh_++;
    if (zeros) zero_filled_++;
  }
  return p;
}

Result<Preallocator::Prepared> Preallocator::RecycleOne(uint64_t id, const std::string& old_path) {
  const std::string path = io::JoinPath(dir_, SegmentFileName(id));
  const std::string tmp = io::JoinPath(dir_, format::layout::SpareTempFileName(id));
  (void)fs_->Remove(tmp);  // a leftover from an interrupted attempt
  // Under the temporary name until it is complete: a crash in between
  // leaves a ".tmp" file, which open removes.
  Status s = fs_->Rename(old_path, tmp);
  if (!s.ok()) {
    (void)fs_->Remove(old_path);
    return s.WithContext("recycling " + old_path);
  }
  {
    auto file = fs_->Open(tmp, io::OpenMode::kReadWrite);
    s = file.status();
    uint64_t size = 0;
    if (s.ok()) {
      auto got = (*file)->Size();
      s = got.status();
      if (got.ok()) size = *got;
    }
    // A file made with a larger segment size shrinks to the current one.
    if (s.ok() && size > segment_bytes_) s = (*file)->Truncate(segment_bytes_);
    // The segment header, zeroed: until its new segment writes one, the file
    // holds nothing of the log (and its stale frames have another seed).
    static const std::string kZeroHeader(format::kSegmentHeaderBytes, '\0');
    if (s.ok()) {
      const std::string_view zeros(kZeroHeader);
      s = (*file)->PWrite(0, std::span<const std::string_view>(&zeros, 1));
    }
    // The space, reserved (a file cut short by its seal grows back): ENOSPC
    // shows here, never as SIGBUS or in the middle of an append.
    if (s.ok()) s = (*file)->Allocate(0, segment_bytes_);
    if (s.ok()) s = (*file)->Sync();
  }
  if (s.ok()) s = fs_->Rename(tmp, path);
  if (s.ok()) s = fs_->SyncDir(dir_);
  if (!s.ok()) {
    (void)fs_->Remove(tmp);
    return s.WithContext("recycling " + old_path + " as segment " + SegmentFileName(id));
  }
  return OpenPrepared(id, path, /*stale_tail=*/true);
}

Result<Preallocator::Prepared> Preallocator::OpenPrepared(uint64_t id, const std::string& path,
                                                          bool stale_tail) {
  auto file = fs_->Open(path, io::OpenMode::kReadWrite);
  if (!file.ok()) return file.status();
  return Prepared{id, std::shared_ptr<io::File>(std::move(*file)), path, stale_tail};
}

Result<Preallocator::Prepared> Preallocator::PrepareOne(uint64_t id, bool zeros) {
  const std::string path = io::JoinPath(dir_, SegmentFileName(id));
  const std::string tmp = io::JoinPath(dir_, format::layout::SpareTempFileName(id));
  (void)fs_->Remove(tmp);  // a leftover from an interrupted attempt
  Status s;
  {
    auto file = fs_->Open(tmp, io::OpenMode::kCreateExclusive);
    if (!file.ok()) return file.status();
    // Reserve first, so that ENOSPC is reported before we write anything,
    // then write real zeros: fdatasync into written blocks is the fast case.
    s = (*file)->Allocate(0, segment_bytes_);
    static const std::string kZeros(1 << 20, '\0');
    for (uint64_t off = 0; zeros && s.ok() && off < segment_bytes_; off += kZeros.size()) {
      const std::string_view chunk(kZeros.data(),
                                   std::min<uint64_t>(kZeros.size(), segment_bytes_ - off));
      s = (*file)->PWrite(off, std::span<const std::string_view>(&chunk, 1));
    }
    if (s.ok()) s = (*file)->Sync();
  }
  if (s.ok()) s = fs_->Rename(tmp, path);
  if (s.ok()) s = fs_->SyncDir(dir_);
  if (!s.ok()) {
    (void)fs_->Remove(tmp);
    return s.WithContext("preparing segment " + SegmentFileName(id));
  }
  return OpenPrepared(id, path, /*stale_tail=*/false);
}

}  // namespace raftlog::engine::internal
