// LogEngine, opening: the lock, metadata and its format, the segment list,
// sealed segments (recovery of the active one: log_engine_recover.cc).

#include "raftlog/engine/internal/log_engine_parts.h"

namespace raftlog::engine {

using internal::Segment;
using namespace internal::log_engine_detail;  // NOLINT: the parts' shared helpers

Status LogEngine::OpenImpl() {
  // Open runs before any other thread can see the engine: both locks are
  // uncontended, and held throughout so that recovery touches the writer's
  // state and the index as the writer does (log_engine.h). Order: write_mu_
  // before mu_. The threads started at the end take neither before this
  // returns.
  port::MutexLock w(&write_mu_);
  port::WriterLock lock(&mu_);
  const bool read_only = options_.read_only;
  auto is_dir = fs_->IsDirectory(dir_);
  if (!is_dir.ok()) {
    if (!is_dir.status().IsNotFound()) return is_dir.status();
    if (!options_.create_if_missing || read_only) {
      return Status::NotFound("log directory " + dir_ + " does not exist");
    }
    RAFTLOG_RETURN_IF_ERROR(fs_->CreateDir(dir_));
    // The new directory's own entry must survive a crash too.
    RAFTLOG_RETURN_IF_ERROR(fs_->SyncDir(ParentDir(dir_)));
  } else if (!*is_dir) {
    return Status::InvalidArgument(dir_ + " is not a directory");
  }

  const std::string meta_path = io::JoinPath(dir_, kMetaFile);
  if (!fs_->Exists(meta_path)) {
    // A new log may only be made in a directory that holds nothing but what
    // an interrupted creation of ours leaves (LOCK, LMDB's lock file, the
    // staging directory): never scribble over someone else's files, and
    // never refuse a directory our own crash left behind.
    RAFTLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->ListDir(dir_));
    std::vector<std::string> foreign;
    for (const std::string& name : names) {
      if (!IsCreationLeftover(name)) foreign.push_back(name);
    }
    if (!foreign.empty()) {
      return Status::InvalidArgument(dir_ + " is not a raftlog log directory (no " +
                                     std::string(kMetaFile) + ", but it holds " +
                                     std::to_string(foreign.size()) + " other entries, e.g. " +
                                     foreign.front() + ")");
    }
    if (!options_.create_if_missing || read_only) {
      return Status::NotFound("no log in " + dir_ + " (no " + std::string(kMetaFile) + ")");
    }
  }
  if (!read_only) {
    // The directory itself is the lock: a lock file can be unlinked from
    // under its holder, letting a second writer in. LOCK is still taken for
    // processes of earlier versions, which lock only it.
    RAFTLOG_ASSIGN_OR_RETURN(lock_, fs_->Lock(dir_));
    RAFTLOG_ASSIGN_OR_RETURN(lock_file_, fs_->Lock(io::JoinPath(dir_, kLockFile)));
    // Under the lock: another process may have created the log meanwhile.
    if (!fs_->Exists(meta_path)) RAFTLOG_RETURN_IF_ERROR(CreateMetaStore(meta_path));
    // A staging directory next to a complete meta.mdb: a creation that
    // crashed after its rename. Best effort; the next open tries again.
    if (fs_->Exists(io::JoinPath(dir_, kStagingDir))) (void)RemoveStaging();
  }
  MetaStore::OpenOptions meta_options;
  meta_options.read_only = read_only;
  RAFTLOG_ASSIGN_OR_RETURN(meta_, MetaStore::Open(meta_path, meta_options));
  RAFTLOG_RETURN_IF_ERROR(InitOrCheckFormat());
  if (read_only) RAFTLOG_RETURN_IF_ERROR(FreezeState());
  if (read_only && !fs_->Exists(segments_dir_)) {
    return Status::Corruption(dir_ + " has metadata but no " + std::string(kSegmentsDir) +
                              " directory");
  }
  if (!fs_->Exists(segments_dir_)) {
    RAFTLOG_RETURN_IF_ERROR(fs_->CreateDir(segments_dir_));
    RAFTLOG_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  }

  // The log's start, ids and generation.
  RAFTLOG_ASSIGN_OR_RETURN(auto start, meta_->Get(kStartKey));
  if (!start.has_value()) return Status::Corruption("metadata of " + dir_ + " has no log/start");
  auto start_record = format::DecodeLogStart(*start);
  if (!start_record.ok()) {
    return start_record.status().WithContext("metadata of " + dir_ + ": key " +
                                             std::string(kStartKey));
  }
  const uint64_t first_index = start_record->first_index;
  prev_term_ = start_record->prev_term;
  // Values in an encoding without checksum (written by earlier versions):
  // rewritten once the log is open for writing.
  bool old_encoding = format::IsOldMetaEncoding(*start);
  RAFTLOG_ASSIGN_OR_RETURN(auto next_id, meta_->Get(kNextSegmentIdKey));
  RAFTLOG_ASSIGN_OR_RETURN(next_segment_id_, DecodeCounterValue(next_id, kNextSegmentIdKey));
  RAFTLOG_ASSIGN_OR_RETURN(auto generation, meta_->Get(kGenerationKey));
  RAFTLOG_ASSIGN_OR_RETURN(generation_, DecodeCounterValue(generation, kGenerationKey));
  old_encoding = old_encoding || format::IsOldCounterEncoding(*next_id) ||
                 format::IsOldCounterEncoding(*generation);
  first_index_.store(first_index);

  // The manifest.
  RAFTLOG_ASSIGN_OR_RETURN(auto rows, meta_->Scan(kSegmentKeyPrefix));
  std::vector<format::SegmentRecord> records;
  for (const auto& [key, value] : rows) {
    auto record = format::DecodeSegmentRecord(value);
    if (!record.ok()) return record.status().WithContext("manifest entry " + key);
    old_encoding = old_encoding || format::IsOldMetaEncoding(value);
    if (key != SegmentKey(record->segment_id)) {
      return Status::Corruption("manifest entry " + key + " describes segment " +
                                std::to_string(record->segment_id));
    }
    if (record->segment_id >= next_segment_id_) {
      return Status::Corruption("manifest lists segment " + std::to_string(record->segment_id) +
                                " but the next id is " + std::to_string(next_segment_id_));
    }
    records.push_back(*record);
  }
  std::sort(records.begin(), records.end(),
            [](const auto& a, const auto& b) { return a.segment_id < b.segment_id; });
  // How much of the active segment the last LMDB commit knew durable (absent
  // in logs written before the record existed: no check then).
  format::DurableRecord durable;
  RAFTLOG_ASSIGN_OR_RETURN(auto durable_value, meta_->Get(format::kDurableKey));
  if (durable_value.has_value()) {
    auto decoded = format::DecodeDurableRecord(*durable_value);
    if (!decoded.ok()) {
      return decoded.status().WithContext("metadata of " + dir_ + ": key " +
                                          std::string(format::kDurableKey));
    }
    durable = *decoded;
  }
  RAFTLOG_RETURN_IF_ERROR(LoadSegments(records, durable));
  RAFTLOG_RETURN_IF_ERROR(CheckContinuity());
  RAFTLOG_RETURN_IF_ERROR(CheckStartTerm());
  RAFTLOG_RETURN_IF_ERROR(RemoveStrayFiles(records));

  uint64_t last = first_index - 1;
  if (!segments_.empty()) last = std::max(last, segments_.back()->last_index());
  last_index_.store(last);
  recovered_commit_hint_ = std::min(recovered_commit_hint_, last);
  if (read_only) return Status::OK();
  // From here on every LMDB commit records the durable progress. (Not during
  // the load: a commit made there would replace the record before the
  // active segment was checked against it.)
  track_durable_ = true;
  durable_written_ = durable;
  if (old_encoding) RAFTLOG_RETURN_IF_ERROR(RewriteOldEncodings());
  if (options_.sync == SyncPolicy::kInterval) {
    syncer_ = std::thread([this] { SyncLoop(); });
  }
  preallocator_->Start();
  if (options_.background_seal) sealer_ = std::thread([this] { SealLoop(); });
  return Status::OK();
}

Status LogEngine::RewriteOldEncodings() {
  // Everything the engine keeps under log/ and seg/, as it stands after this
  // open's recovery, re-encoded with checksums, in one transaction.
  MetaStore::Batch batch;
  RAFTLOG_ASSIGN_OR_RETURN(auto start, meta_->Get(kStartKey));
  if (start.has_value() && format::IsOldMetaEncoding(*start)) {
    batch.Put(kStartKey, EncodeStart(first_index_.load(), prev_term_));
  }
  batch.Put(kNextSegmentIdKey, Counter(kNextSegmentIdKey, next_segment_id_));
  batch.Put(kGenerationKey, Counter(kGenerationKey, generation_));
  RAFTLOG_ASSIGN_OR_RETURN(auto rows, meta_->Scan(kSegmentKeyPrefix));
  for (const auto& [key, value] : rows) {
    if (!format::IsOldMetaEncoding(value)) continue;
    auto record = format::DecodeSegmentRecord(value);
    if (!record.ok()) return record.status().WithContext("manifest entry " + key);
    batch.Put(key, format::EncodeSegmentRecord(*record));
  }
  return CommitMeta(&batch);
}

Status LogEngine::RemoveStaging() {
  const std::string staging = io::JoinPath(dir_, kStagingDir);
  auto names = fs_->ListDir(staging);
  if (!names.ok()) return names.status().IsNotFound() ? Status::OK() : names.status();
  for (const std::string& name : *names) {
    Status s = fs_->Remove(io::JoinPath(staging, name));
    if (!s.ok() && !s.IsNotFound()) return s;
  }
  Status s = fs_->RemoveDir(staging);
  if (!s.ok() && !s.IsNotFound()) return s;
  return Status::OK();
}

Status LogEngine::CreateMetaStore(const std::string& meta_path) {
  // The metadata of a new log is made complete in a staging directory and
  // renamed into place last: meta.mdb in the log directory always holds an
  // initialized log (LMDB synced its commit before the rename), and a crash
  // at any earlier step leaves only what IsCreationLeftover accepts, which
  // the next open removes and creates again.
  RAFTLOG_RETURN_IF_ERROR(RemoveStaging());
  const std::string staging = io::JoinPath(dir_, kStagingDir);
  RAFTLOG_RETURN_IF_ERROR(fs_->CreateDir(staging));
  const std::string staged = io::JoinPath(staging, kMetaFile);
  RAFTLOG_ASSIGN_OR_RETURN(meta_, MetaStore::Open(staged, MetaStore::OpenOptions{}));
  Status s = InitOrCheckFormat();
  meta_.reset();
  RAFTLOG_RETURN_IF_ERROR(s);
  RAFTLOG_RETURN_IF_ERROR(fs_->Rename(staged, meta_path));
  RAFTLOG_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  return RemoveStaging();
}

Status LogEngine::InitOrCheckFormat() {
  RAFTLOG_ASSIGN_OR_RETURN(auto format_value, meta_->Get(kFormatKey));
  if (format_value.has_value()) {
    auto version = format::DecodeFormatVersion(*format_value);
    if (!version.ok()) {
      return version.status().WithContext("metadata of " + dir_ + ": key " +
                                          std::string(kFormatKey));
    }
    if (*version < format::kLogFormatVersion && !options_.read_only) {
      // Older logs are read as they are; new segments are written in the
      // current version, so the log as a whole now needs a reader of it.
      MetaStore::Batch batch;
      batch.Put(kFormatKey, format::EncodeFormatVersion(format::kLogFormatVersion));
      return CommitMeta(&batch);
    }
    return Status::OK();
  }
  if (options_.read_only) {
    return Status::Corruption("metadata of " + dir_ + " has no format record (not a raftlog log?)");
  }
  // segments/ is made only after the format record's commit: metadata
  // without the record beside it was damaged or lost (an empty main
  // database), and a new log started here would remove every segment.
  if (fs_->Exists(segments_dir_)) {
    return Status::Corruption("metadata of " + dir_ + " has no format record, but " +
                              std::string(kSegmentsDir) +
                              "/ exists: the metadata was damaged or lost; no new log is started "
                              "over the segments");
  }
  // A new log. Everything in one transaction: a crash leaves either no
  // format key (and the next open initializes again) or a complete log.
  MetaStore::Batch batch;
  batch.Put(kFormatKey, format::EncodeFormatVersion(format::kLogFormatVersion));
  batch.Put(kStartKey, EncodeStart(1, 0));
  batch.Put(kNextSegmentIdKey, Counter(kNextSegmentIdKey, 1));
  batch.Put(kGenerationKey, Counter(kGenerationKey, 0));
  return CommitMeta(&batch);
}

Status LogEngine::LoadSegments(const std::vector<format::SegmentRecord>& records,
                               const format::DurableRecord& durable) {
  for (size_t k = 0; k < records.size(); ++k) {
    const format::SegmentRecord& record = records[k];
    if (record.state == format::SegmentState::kActive) {
      if (k + 1 != records.size()) {
        return Status::Corruption("manifest of " + dir_ + ": segment " +
                                  std::to_string(record.segment_id) +
                                  " is active but is not the last segment");
      }
      RAFTLOG_RETURN_IF_ERROR(RecoverActive(record, durable));
      RAFTLOG_RETURN_IF_ERROR(RecoverSuccessor(record, durable));
    } else {
      RAFTLOG_RETURN_IF_ERROR(OpenSealed(record));
    }
  }
  return Status::OK();
}

Status LogEngine::OpenSealed(const format::SegmentRecord& record) {
  // Nothing is read from the file here: the manifest entry has what open
  // needs (range, term runs), and the segment opens itself, checking its
  // footer, when first read. Open time so does not grow with the log.
  const std::string name = format::SegmentRecordFileName(record);
  auto segment = Segment::NewSealedLazy(record, fs_, io::JoinPath(segments_dir_, name), name,
                                        options_.read_only);
  std::vector<format::TermRun> runs = record.term_runs;
  if (runs.empty()) {
    // An entry without term runs: read them from the footer now.
    RAFTLOG_RETURN_IF_ERROR(segment->EnsureOpen());
    counters_->open_segments_from_footer++;
    for (uint32_t k = 0; k < segment->footer().term_run_count(); ++k) {
      runs.push_back(segment->footer().term_run(k));
    }
  }
  const std::string where = "manifest entry of " + name;
  if (record.last_index < record.base_index || runs.empty() ||
      runs.front().first_index > record.base_index) {
    return Status::Corruption(
        where + ": no term for its first index " + std::to_string(record.base_index) + " (range [" +
        std::to_string(record.base_index) + ", " + std::to_string(record.last_index) + "])");
  }
  for (format::TermRun run : runs) {
    if (run.first_index > record.last_index) break;
    run.first_index = std::max(run.first_index, record.base_index);
    if (!term_runs_.empty() && term_runs_.back().term == run.term) continue;
    if (!term_runs_.empty() && term_runs_.back().term > run.term) {
      return Status::Corruption(
          where + ": term decreases from " + std::to_string(term_runs_.back().term) + " to " +
          std::to_string(run.term) + " at index " + std::to_string(run.first_index));
    }
    term_runs_.push_back(run);
  }
  segments_.push_back(std::move(segment));
  return Status::OK();
}

}  // namespace raftlog::engine
