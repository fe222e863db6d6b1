// LogEngine, cold segments: rewriting a sealed segment with zstd-compressed
// frames (CompressSegment) and listing the segments.
//
// The steps, and what a crash after each leaves (the manifest decides which
// file is the segment; open removes the other as a stray):
//   1. reserve a new generation under the writer lock (in memory only; the
//      swap's transaction stores it);
//   2. read every frame of the raw file through ScanSealedSegment and write
//      <id>-<generation>.zseg: grouped, compressed frames, footer, trailer,
//      header last (crash: an unlisted file);
//   3. if it is not smaller than max_ratio x raw, remove it and stop;
//   4. fdatasync it, read it back through ScanSealedSegment and compare a
//      checksum of every entry with the raw file's, fsync the directory so
//      its name is durable before any record names it;
//   5. under the writer lock, if the manifest still lists the raw segment
//      unchanged: one LMDB transaction replaces its record (new generation,
//      form compressed, new footer offset and size; same range and terms)
//      and stores the generation counter; under the index lock the new
//      Segment replaces the old one (crash after the commit: the raw file is
//      the stray). With a sealer thread the check is made under the writer
//      lock and the commit and index change run on the sealer, as a job in
//      the seal's slot (RunColdSwap): whatever would change the segment list
//      waits for that job as for a seal, and appends do not wait for the
//      commit;
//   6. hand the raw file to the preallocator: reused as a spare, or
//      unlinked (and the directory fsynced) on its thread. Payloads readers
//      hold view the raw file's mapping, which unlink leaves intact.

#include <chrono>
#include <thread>

#include "raftlog/engine/internal/log_engine_parts.h"
#include "raftlog/engine/internal/sealed_segment_writer.h"
#include "raftlog/engine/sealed_scan.h"
#include "raftlog/format/checksum.h"

namespace raftlog::engine {

using internal::Segment;
using namespace internal::log_engine_detail;  // NOLINT: the parts' shared helpers

namespace {

// A checksum of the entries themselves (index, term, type, data), the same
// whichever frames hold them: how the rewrite is compared with the original.
void FeedEntry(format::StreamingChecksum* sum, uint64_t index, uint64_t term, uint8_t type,
               std::string_view data) {
  std::string head;
  format::PutFixed64(&head, index);
  format::PutFixed64(&head, term);
  head.push_back(static_cast<char>(type));
  format::PutFixed64(&head, data.size());
  sum->Update(head);
  sum->Update(data);
}

std::string Describe(const SealedScan& scan) {
  const SealedProblem& p = scan.problems.front();
  return (p.offset ? "at offset " + std::to_string(*p.offset) + ": " : std::string()) + p.what;
}

}  // namespace

std::vector<format::SegmentRecord> LogEngine::SegmentRecords() const {
  port::ReaderLock lock(&mu_);
  std::vector<format::SegmentRecord> out;
  out.reserve(segments_.size());
  for (const auto& seg : segments_) out.push_back(seg->record());
  return out;
}

Status LogEngine::ReserveCompression(uint64_t segment_id, format::SegmentRecord* record,
                                     uint64_t* generation, bool* already_compressed,
                                     std::chrono::nanoseconds* lock_wait) {
  const auto asked = std::chrono::steady_clock::now();
  port::MutexLock w(&write_mu_);
  *lock_wait += std::chrono::steady_clock::now() - asked;
  if (options_.read_only) {
    return Status::InvalidArgument("log " + dir_ + " is open read-only: nothing is compressed");
  }
  RAFTLOG_RETURN_IF_ERROR(CheckWritable());
  port::ReaderLock lock(&mu_);
  const auto it = std::find_if(segments_.begin(), segments_.end(),
                               [&](const auto& s) { return s->id() == segment_id; });
  if (it == segments_.end()) {
    return Status::NotFound("segment " + std::to_string(segment_id) + " is not in the log " + dir_);
  }
  if (!(*it)->sealed()) {
    return Status::InvalidArgument("segment " + (*it)->file_name() +
                                   " is the active segment: only sealed segments are compressed");
  }
  *record = (*it)->record();
  *already_compressed = record->compressed();
  if (*already_compressed) return Status::OK();
  // A generation no file of this segment had: the rewrite gets its own seed
  // and name. Stored with the swap; if that never comes, the number is
  // simply skipped.
  *generation = ++generation_;
  return Status::OK();
}

Result<CompressSegmentResult> LogEngine::CompressSegment(uint64_t segment_id,
                                                         const CompressSegmentOptions& options) {
  if (options.frame_input_bytes == 0 || options.frame_input_bytes > format::kMaxFramePayloadBytes ||
      !(options.max_ratio > 0)) {
    return Status::InvalidArgument(
        "compress segment: frame_input_bytes must be in [1, 2^30] and max_ratio above 0");
  }
  CompressSegmentResult result;
  result.segment_id = segment_id;
  format::SegmentRecord raw;
  uint64_t generation = 0;
  bool already = false;
  RAFTLOG_RETURN_IF_ERROR(
      ReserveCompression(segment_id, &raw, &generation, &already, &result.write_lock_wait));
  result.raw_bytes = raw.file_bytes;
  if (already) {
    result.outcome = CompressSegmentResult::Outcome::kAlreadyCompressed;
    result.raw_bytes = raw.raw_file_bytes;
    result.compressed_bytes = raw.file_bytes;
    return result;
  }
  format::SegmentRecord target = raw;
  target.generation = generation;
  target.form = format::SegmentForm::kCompressed;
  target.raw_file_bytes = raw.file_bytes;
  const std::string raw_name = format::SegmentRecordFileName(raw);
  const std::string name = format::SegmentRecordFileName(target);
  const std::string path = io::JoinPath(segments_dir_, name);

  // Read the raw file (through its own reader: the engine's mapping is
  // untouched) and write the compressed one.
  RAFTLOG_ASSIGN_OR_RETURN(
      auto source, SegmentReader::Open(fs_, io::JoinPath(segments_dir_, raw_name), raw_name));
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<io::File> file,
                           fs_->Open(path, io::OpenMode::kCreateExclusive));
  // Until the swap commits, the new file is ours to remove on any failure
  // (and if we cannot, open removes it: the manifest does not list it).
  auto discard = [&](Status s) {
    file.reset();
    (void)fs_->Remove(path);
    return s;
  };
  format::CompressionOptions compression;
  compression.enabled = true;
  compression.level = options.level;
  compression.min_payload_bytes = 0;
  compression.min_saving = 0.05;  // a frame that saves less is stored raw
  internal::SealedSegmentWriter writer(file.get(), target, compression, options.frame_input_bytes);
  format::StreamingChecksum written_sum;
  format::Decompressor decompressor;
  std::string scratch;
  Status write_error;
  SealedScanOptions scan_options;
  scan_options.max_index = raw.last_index;
  // A write error or a stop asked by pace is not a problem of this frame:
  // it is remembered apart, and the scan is ended by a stand-in problem.
  auto stop_scan = [&](const Status& s) {
    write_error = s;
    return Status::Corruption("the rewrite stopped");
  };
  // The sample: raw frame bytes read, and whether they said "not worth it".
  uint64_t raw_read = 0;
  bool not_worth_it = false;
  scan_options.on_frame = [&](const format::FrameView& frame, uint64_t offset) {
    if (options.sample_bytes != 0 && raw_read >= options.sample_bytes &&
        static_cast<double>(writer.frame_bytes_written()) >
            options.max_ratio * static_cast<double>(raw_read)) {
      // The frames written so far leave out the group being built, so the
      // sample errs towards going on.
      not_worth_it = true;
      return stop_scan(Status::OK());
    }
    raw_read += frame.frame_bytes;
    if (options.pace) {
      Status paced = options.pace(frame.frame_bytes);
      if (!paced.ok()) return stop_scan(paced);
    }
    const std::string where = source->Where(offset);
    Status s = internal::ForEachFrameEntry(
        frame, raw.last_index, where, &decompressor, &scratch,
        [&](uint64_t index, uint64_t term, uint8_t type, std::string_view data) {
          FeedEntry(&written_sum, index, term, type, data);
          return writer.Add(index, term, frame.header.commit, type, data);
        });
    if (!s.ok() && !s.IsCorruption()) return stop_scan(s);
    return s;
  };
  auto scanned = ScanSealedSegment(source.get(), raw, scan_options);
  if (!scanned.ok()) return discard(scanned.status());
  if (not_worth_it) {
    result.outcome = CompressSegmentResult::Outcome::kNotWorthIt;
    result.sampled_raw_bytes = raw_read;
    result.compressed_bytes = writer.frame_bytes_written();
    (void)discard(Status::OK());
    return result;
  }
  if (!write_error.ok()) return discard(write_error);
  if (!scanned->problems.empty()) {
    return discard(Status::Corruption(raw_name + " " + Describe(*scanned) +
                                      ": the segment is damaged; it is not compressed"));
  }
  Status s = writer.Finish(&target);
  if (!s.ok()) return discard(s.WithContext("writing " + name));
  if (!raw.term_runs.empty() && target.term_runs != raw.term_runs) {
    return discard(Status::Corruption(raw_name + ": its frames' terms differ from the manifest's"));
  }
  result.compressed_bytes = target.file_bytes;
  if (static_cast<double>(target.file_bytes) >
      options.max_ratio * static_cast<double>(raw.file_bytes)) {
    s = discard(Status::OK());
    result.outcome = CompressSegmentResult::Outcome::kNotWorthIt;
    return result;
  }
  s = file->Sync();
  if (!s.ok()) return discard(s);

  // Read it back fully, as a reader of the manifest would.
  RAFTLOG_ASSIGN_OR_RETURN(auto check, SegmentReader::Open(fs_, path, name));
  format::StreamingChecksum read_sum;
  scan_options.on_frame = [&](const format::FrameView& frame, uint64_t offset) {
    if (options.pace) {
      Status paced = options.pace(frame.frame_bytes);
      if (!paced.ok()) return stop_scan(paced);
    }
    return internal::ForEachFrameEntry(
        frame, target.last_index, check->Where(offset), &decompressor, &scratch,
        [&](uint64_t index, uint64_t term, uint8_t type, std::string_view data) {
          FeedEntry(&read_sum, index, term, type, data);
          return Status::OK();
        });
  };
  auto reread = ScanSealedSegment(check.get(), target, scan_options);
  check.reset();
  if (!reread.ok()) return discard(reread.status());
  if (!write_error.ok()) return discard(write_error);
  if (!reread->problems.empty() || read_sum.Digest() != written_sum.Digest()) {
    return discard(Status::Corruption(
        name + ": the compressed rewrite does not read back as written" +
        (reread->problems.empty() ? std::string() : " (" + Describe(*reread) + ")")));
  }
  // The name must be durable before a record names it.
  s = fs_->SyncDir(segments_dir_);
  if (!s.ok()) return discard(s);
  file.reset();
  // Last call: the swap is next (the worker waits for a quiet moment).
  if (options.pace) {
    s = options.pace(0);
    if (!s.ok()) return discard(s);
  }

  bool swapped = false;
  RAFTLOG_RETURN_IF_ERROR(SwapCompressed(raw, target, &swapped, &result.write_lock_wait));
  if (!swapped) {
    (void)fs_->Remove(path);
    result.outcome = CompressSegmentResult::Outcome::kChanged;
    return result;
  }
  result.outcome = CompressSegmentResult::Outcome::kCompressed;
  return result;
}

// How many 1 ms retries a swap waits for a near roll (SwapCompressed).
constexpr int kSwapRollPatience = 200;

Status LogEngine::SwapCompressed(const format::SegmentRecord& raw,
                                 const format::SegmentRecord& compressed, bool* swapped,
                                 std::chrono::nanoseconds* lock_wait) {
  *swapped = false;
  std::unique_ptr<Segment> old;
  std::shared_ptr<SealJob::ColdSwap::Outcome> outcome;
  bool started = false;
  for (int tries = 0; !started; ++tries) {
    {
      const auto asked = std::chrono::steady_clock::now();
      port::MutexLock w(&write_mu_);
      *lock_wait += std::chrono::steady_clock::now() - asked;
      RAFTLOG_RETURN_IF_ERROR(CheckWritable());
      {
        port::ReaderLock lock(&mu_);
        const auto it = std::find_if(segments_.begin(), segments_.end(),
                                     [&](const auto& s) { return s->id() == raw.segment_id; });
        // Compacted, cut by a suffix truncation or reset since: the rewrite
        // describes entries the log no longer has as they were.
        if (it == segments_.end() || (*it)->record() != raw) return Status::OK();
      }
      if (!sealer_.joinable()) {
        RAFTLOG_RETURN_IF_ERROR(SwapCompressedLocked(compressed, swapped, &old));
        break;
      }
      bool slot_free = false;
      {
        port::MutexLock lock(&seal_mu_);
        slot_free = seal_job_ == nullptr && !seal_stop_;
      }
      // Not while the active segment is nearly full: its roll would wait in
      // the seal slot for this swap's commit (two LMDB syncs), with the
      // appends behind it. Tried again in a moment, the swap then comes
      // after the roll; a log that stopped appending short of its roll is
      // not waited for longer than kSwapRollPatience tries.
      const bool roll_near = active_ != nullptr && tries < kSwapRollPatience &&
                             write_offset_ + active_bytes_ / 8 > active_bytes_;
      if (slot_free && !roll_near) {
        auto job = std::make_unique<SealJob>();
        job->cold.emplace();
        job->cold->compressed = compressed;
        job->cold->generation_counter = std::max(generation_, compressed.generation);
        outcome = job->cold->outcome;
        StartSeal(std::move(job));
        started = true;
      }
    }
    // A seal is in flight (it is short), or a roll is near. Waiting under
    // the writer lock would hold up appends, so try again in a moment.
    if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (outcome != nullptr) {
    port::MutexLock lock(&seal_mu_);
    while (!outcome->done) seal_cv_.Wait();
    RAFTLOG_RETURN_IF_ERROR(outcome->status);
    old = std::move(outcome->old);
    *swapped = true;
  }
  if (!*swapped) return Status::OK();
  // Readers' payloads keep the old mapping alive; unlink leaves it intact.
  // With no payload viewing it, the raw file becomes a spare instead, as a
  // compacted segment's does, but only if no other freed file waits (the
  // point of the rewrite is the disk it frees); otherwise the preallocator's
  // thread unlinks it (dropping its page cache and freeing its extents takes
  // disk time that should not wait on this thread, which may hold nothing up
  // but should not queue it behind appends either). A failure leaves a stray
  // that the next open removes.
  const std::string raw_path = io::JoinPath(segments_dir_, old->file_name());
  const std::weak_ptr<const void> watch = old->mapping_watch();
  old.reset();
  if (preallocator_ != nullptr && ((watch.expired() && preallocator_->Recycle(raw_path, /*limit=*/1)) ||
                                   preallocator_->Discard(raw_path))) {
    return Status::OK();
  }
  (void)fs_->Remove(raw_path);
  (void)fs_->SyncDir(segments_dir_);
  return Status::OK();
}

Status LogEngine::SwapCompressedLocked(const format::SegmentRecord& compressed, bool* swapped,
                                       std::unique_ptr<Segment>* old) {
  MetaStore::Batch batch;
  batch.Put(SegmentKey(compressed.segment_id), format::EncodeSegmentRecord(compressed));
  batch.Put(kGenerationKey, Counter(kGenerationKey, std::max(generation_, compressed.generation)));
  // A failed commit changed nothing that counts: both files stay, and the
  // one the manifest does not list is removed by the next open. (The new
  // file is not removed here: LMDB may have made the commit durable before
  // reporting the failure of its sync.)
  RAFTLOG_RETURN_IF_ERROR(CommitMeta(&batch));
  InstallCompressed(compressed, old);
  *swapped = true;
  return Status::OK();
}

Status LogEngine::RunColdSwap(SealJob* job) {
  {
    port::MutexLock lock(&seal_mu_);
    // Nothing of the log's to make durable: a synced append that rolled
    // meanwhile need not wait for this commit.
    seal_synced_ = true;
    // Abandon (a simulated crash) writes nothing more.
    if (seal_abandon_) return Status::FailedPrecondition("swap abandoned");
  }
  seal_cv_.SignalAll();
  const SealJob::ColdSwap& swap = *job->cold;
  MetaStore::Batch batch;
  batch.Put(SegmentKey(swap.compressed.segment_id), format::EncodeSegmentRecord(swap.compressed));
  batch.Put(kGenerationKey, Counter(kGenerationKey, swap.generation_counter));
  // Lazy state rides along, as with every commit (the durable progress is
  // the writer's: it rides on its next commit). A failed commit: as in
  // SwapCompressedLocked.
  const LazyState lazy = AddLazyState(&batch);
  Status s = meta_->Write(batch);
  counters_->meta_commits++;
  RAFTLOG_RETURN_IF_ERROR(s);
  ForgetCommittedLazyState(lazy);
  // Nothing changed the index since the worker checked it: whatever would
  // (a roll, a truncation, a compaction, a reset) waits for this job first.
  InstallCompressed(swap.compressed, &swap.outcome->old);
  return Status::OK();
}

void LogEngine::InstallCompressed(const format::SegmentRecord& compressed,
                                  std::unique_ptr<Segment>* old) {
  const std::string name = format::SegmentRecordFileName(compressed);
  auto segment = Segment::NewSealedLazy(compressed, fs_, io::JoinPath(segments_dir_, name), name,
                                        /*read_only=*/false);
  {
    port::WriterLock lock(&mu_);
    const auto it = std::find_if(segments_.begin(), segments_.end(),
                                 [&](const auto& s) { return s->id() == compressed.segment_id; });
    RAFTLOG_CHECK_MSG(it != segments_.end(), "the compressed segment left the index");
    *old = std::move(*it);
    *it = std::move(segment);
    // Cached frames are keyed by segment id and offset: the old file's
    // must not be served for the new one's offsets.
    cache_->EraseSegment(compressed.segment_id);
  }
  counters_->segments_compressed++;
}

}  // namespace raftlog::engine
