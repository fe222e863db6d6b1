#include "raftlog/engine/log_engine.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <set>

#include "raftlog/engine/internal/durable_progress.h"
#include "raftlog/engine/internal/frame_cache.h"
#include "raftlog/engine/internal/preallocator.h"
#include "raftlog/engine/internal/segment.h"
#include "raftlog/engine/segment_reader.h"
#include "raftlog/engine/segment_scan.h"
#include "raftlog/format/coding.h"
#include "raftlog/format/compression.h"
#include "raftlog/format/layout.h"
#include "raftlog/format/record_format.h"
#include "raftlog/format/segment_header.h"
#include "raftlog/io/file_system.h"

namespace raftlog::engine {

using internal::Segment;

namespace {

// Names and keys: format/layout.h.
using format::layout::IsCreationLeftover;
using format::layout::kFormatKey;
using format::layout::kGenerationKey;
using format::layout::kLockFile;
using format::layout::kMetaFile;
using format::layout::kNextSegmentIdKey;
using format::layout::kSegmentKeyPrefix;
using format::layout::kSegmentsDir;
using format::layout::kStagingDir;
using format::layout::kStartKey;
using format::layout::kStatePrefix;
using format::layout::SegmentKey;

constexpr uint64_t kMinSegmentBytes = 64u << 10;
constexpr uint64_t kMaxSegmentBytes = 2ull << 30;

// The counters under log/ (next segment id, generation): format::EncodeCounter.
std::string Counter(std::string_view key, uint64_t v) { return format::EncodeCounter(key, v); }

Result<uint64_t> DecodeCounterValue(const std::optional<std::string>& v, std::string_view key) {
  if (!v.has_value()) return Status::Corruption("metadata key " + std::string(key) + " is missing");
  auto decoded = format::DecodeCounter(key, *v);
  if (!decoded.ok()) return decoded.status().WithContext("metadata key " + std::string(key));
  return *decoded;
}

// "log/start": the first index and the term of the entry before it.
std::string EncodeStart(uint64_t first_index, uint64_t prev_term) {
  return format::EncodeLogStart(format::LogStartRecord{first_index, prev_term});
}

// Bytes a footer with `frames` frames and `runs` term runs needs, trailer
// included: what must stay free at the end of an active segment.
uint64_t SealReserve(uint64_t frames, uint64_t runs) {
  return format::FrameBytes(16 + 8 * frames + 16 * runs) + format::kTrailerBytes;
}

// Raw payload bytes of a frame holding `count` entries with `data` bytes.
uint64_t RawPayloadBytes(uint64_t count, uint64_t data) { return count * 5 + data; }

std::string ParentDir(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return p.substr(0, slash);
}

}  // namespace

void LogEngine::Log(const std::string& dir, const std::string& msg) const {
  if (options_.notes) options_.notes(dir + ": " + msg);
}

struct LogEngine::Counters {
  std::atomic<uint64_t> appends{0}, entries_appended{0}, frames_written{0}, compressed_frames{0},
      bytes_written{0}, raw_bytes_written{0}, log_syncs{0}, meta_commits{0}, segment_rolls{0},
      suffix_truncations{0};
  // Set during open only (single-threaded).
  uint64_t open_segments_from_footer = 0, open_bytes_scanned = 0, open_frames_scanned = 0,
           torn_tail_cuts = 0, torn_tail_bytes = 0, dropped_valid_frames = 0, stray_files_found = 0,
           stray_files_removed = 0, spare_segments_kept = 0, unfinished_seals = 0,
           open_bytes_rewritten = 0;
};

// Frames written to the active segment but not yet published to readers.
struct LogEngine::PendingFrames {
  std::vector<format::FrameRef> frames;
  std::vector<format::TermRun> runs;  // runs that are new to term_runs_
  uint32_t segment_runs = 0;          // runs new to the active segment's footer
  uint64_t last_index = 0;
  bool empty() const { return frames.empty(); }
};

LogEngine::LogEngine(std::string dir, const Options& options)
    : dir_(std::move(dir)),
      segments_dir_(io::JoinPath(dir_, kSegmentsDir)),
      options_(options),
      fs_(options.file_system != nullptr ? options.file_system : io::FileSystem::Default()),
      cache_(std::make_unique<internal::FrameCache>(options.frame_cache_bytes)),
      builder_(options.compression),
      counters_(std::make_unique<Counters>()) {}

LogEngine::~LogEngine() { (void)Close(); }

Result<std::unique_ptr<LogEngine>> LogEngine::Open(const std::string& dir, const Options& options) {
  if (options.segment_bytes < kMinSegmentBytes || options.segment_bytes > kMaxSegmentBytes) {
    return Status::InvalidArgument("Options::segment_bytes must be between 64 KiB and 2 GiB, is " +
                                   std::to_string(options.segment_bytes));
  }
  if (options.max_frame_bytes < 1024 || options.max_frame_bytes > format::kMaxFramePayloadBytes) {
    return Status::InvalidArgument("Options::max_frame_bytes must be between 1 KiB and 1 GiB");
  }
  std::unique_ptr<LogEngine> engine(new LogEngine(dir, options));
  Status s = engine->OpenImpl();
  if (!s.ok()) {
    // Nothing to flush: just stop what was started and release the lock.
    port::MutexLock w(&engine->write_mu_);
    engine->closed_ = true;
    engine->ReleaseLocked();
    return s;
  }
  return engine;
}

Status LogEngine::OpenImpl() NO_THREAD_SAFETY_ANALYSIS {
  // Open runs before any other thread can see the engine.
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
  return Status::OK();
}

Status LogEngine::RewriteOldEncodings() NO_THREAD_SAFETY_ANALYSIS {
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

Status LogEngine::CreateMetaStore(const std::string& meta_path) NO_THREAD_SAFETY_ANALYSIS {
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

Status LogEngine::InitOrCheckFormat() NO_THREAD_SAFETY_ANALYSIS {
  RAFTLOG_ASSIGN_OR_RETURN(auto format_value, meta_->Get(kFormatKey));
  if (format_value.has_value()) {
    if (format_value->size() != 2) {
      return Status::Corruption("metadata of " + dir_ + ": bad format record");
    }
    const uint16_t version = format::DecodeFixed16(format_value->data());
    if (version > format::kFormatVersion) {
      return Status::NotSupported("log " + dir_ + " has format version " + std::to_string(version) +
                                  "; this build reads up to " +
                                  std::to_string(format::kFormatVersion));
    }
    if (version < format::kFormatVersion && !options_.read_only) {
      // Older logs are read as they are; new segments are written in the
      // current version, so the log as a whole now needs a reader of it.
      MetaStore::Batch batch;
      std::string current;
      format::PutFixed16(&current, format::kFormatVersion);
      batch.Put(kFormatKey, current);
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
  std::string version;
  format::PutFixed16(&version, format::kFormatVersion);
  batch.Put(kFormatKey, version);
  batch.Put(kStartKey, EncodeStart(1, 0));
  batch.Put(kNextSegmentIdKey, Counter(kNextSegmentIdKey, 1));
  batch.Put(kGenerationKey, Counter(kGenerationKey, 0));
  return CommitMeta(&batch);
}

Status LogEngine::LoadSegments(const std::vector<format::SegmentRecord>& records,
                               const format::DurableRecord& durable) NO_THREAD_SAFETY_ANALYSIS {
  for (size_t k = 0; k < records.size(); ++k) {
    const format::SegmentRecord& record = records[k];
    if (record.state == format::SegmentState::kActive) {
      if (k + 1 != records.size()) {
        return Status::Corruption("manifest of " + dir_ + ": segment " +
                                  std::to_string(record.segment_id) +
                                  " is active but is not the last segment");
      }
      RAFTLOG_RETURN_IF_ERROR(RecoverActive(record, durable));
    } else {
      RAFTLOG_RETURN_IF_ERROR(OpenSealed(record));
    }
  }
  return Status::OK();
}

Status LogEngine::OpenSealed(const format::SegmentRecord& record) NO_THREAD_SAFETY_ANALYSIS {
  // Nothing is read from the file here: the manifest entry has what open
  // needs (range, term runs), and the segment opens itself, checking its
  // footer, when first read. Open time so does not grow with the log.
  const std::string name = internal::SegmentFileName(record.segment_id);
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

Status LogEngine::RecoverActive(const format::SegmentRecord& record,
                                const format::DurableRecord& durable) NO_THREAD_SAFETY_ANALYSIS {
  const std::string name = internal::SegmentFileName(record.segment_id);
  const std::string path = io::JoinPath(segments_dir_, name);
  auto opened =
      fs_->Open(path, options_.read_only ? io::OpenMode::kReadOnly : io::OpenMode::kReadWrite);
  if (!opened.ok()) {
    return opened.status().WithContext("active segment listed in the manifest is unreadable");
  }
  std::shared_ptr<io::File> file(std::move(*opened));
  RAFTLOG_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  if (size < format::kSegmentHeaderBytes) {
    return Status::Corruption(name + ": active segment is only " + std::to_string(size) + " bytes");
  }
  RAFTLOG_ASSIGN_OR_RETURN(auto mapping, file->Map(0, size));
  const std::string_view bytes = mapping->bytes();

  format::SegmentRecord rec = record;
  rec.last_index = record.base_index - 1;
  std::unique_ptr<Segment> segment = Segment::NewActive(rec, file, std::move(mapping), name);

  // Scan the frames (segment_scan.h: the scan the tool makes too); this
  // function is the policy applied to what it finds.
  PendingFrames found;
  ScanOptions scan_options;
  scan_options.on_frame = [&](const format::FrameView& f, uint64_t offset) {
    counters_->open_frames_scanned++;
    counters_->open_bytes_scanned += f.frame_bytes;
    const uint64_t first = f.header.first_index;
    found.frames.push_back(format::FrameRef{static_cast<uint32_t>(offset),
                                            static_cast<uint32_t>(first - rec.base_index)});
    if (found.runs.empty() || found.runs.back().term != f.header.term) {
      found.runs.push_back(format::TermRun{first, f.header.term});
    }
    return Status::OK();
  };
  std::unique_ptr<SegmentReader> reader = SegmentReader::FromBytes(bytes, name);
  RAFTLOG_ASSIGN_OR_RETURN(const SegmentScan scan, ScanSegment(reader.get(), record, scan_options));
  if (scan.refused()) return scan.refusal;
  const bool header_ok = scan.header.has_value();
  const bool found_footer = scan.finding == SegmentFinding::kUnfinishedSeal;
  const bool bad = scan.damaged();
  if (found_footer) {
    // A crash during a seal, after the footer was written and before the
    // manifest said so: finish the seal below.
    counters_->open_frames_scanned++;
  }
  recovered_commit_hint_ = std::max(recovered_commit_hint_, scan.commit_hint);
  const uint64_t found_durable = scan.durable_seen;
  uint64_t end = scan.good_end;  // where the good data ends
  found.last_index = scan.last_index;

  // Acknowledged frames (up to the offset the last LMDB commit recorded)
  // must all be there, whatever the policy: damage before that offset is
  // not a torn write.
  {
    internal::ActiveScan durable_scan;
    durable_scan.file_name = &name;
    durable_scan.segment_id = record.segment_id;
    durable_scan.generation = record.generation;
    durable_scan.base_index = record.base_index;
    durable_scan.header_ok = header_ok;
    durable_scan.frames = &found.frames;
    durable_scan.last_index = found.last_index;
    durable_scan.good_end = end;
    durable_scan.bad_frame = bad;
    durable_scan.stop_reason = bad            ? std::string(scan.damage.message())
                               : found_footer ? std::string("a seal's footer follows")
                               : end < size   ? std::string("all-zero frame header")
                                              : std::string("end of the file");
    RAFTLOG_RETURN_IF_ERROR(internal::CheckDurablePrefix(durable, durable_scan));
    if (durable.segment_id == record.segment_id) {
      // Verified durable: later frames may record it (and more LMDB commits).
      durable_offset_ = std::max(durable_offset_, durable.durable_offset);
    }
  }

  if (bad) {
    RAFTLOG_RETURN_IF_ERROR(RecoveryVerdict(scan, name, options_.recovery));
    const std::string what = DescribeDamage(scan, name);
    const uint64_t torn_bytes = scan.damage_end - scan.damage_offset;
    const uint64_t dropped = scan.valid_frames_after;
    counters_->torn_tail_cuts++;
    counters_->torn_tail_bytes += torn_bytes;
    counters_->dropped_valid_frames += dropped;
    if (!options_.read_only)
      Log(dir_, "cut the log at " + what + ": dropped " + std::to_string(torn_bytes) + " bytes" +
                    (scan.valid_after.has_value()
                         ? " including " + std::to_string(dropped) +
                               " valid frame(s) (kTolerateCorruptedTail)"
                     : dropped ? " of a torn write, including " + std::to_string(dropped) +
                                     " valid frame(s) of it that were never synced"
                               : std::string(" of a torn write")));
    end = header_ok ? std::max<uint64_t>(end, format::kSegmentHeaderBytes) : 0;
  }

  if (!options_.read_only && options_.sync != SyncPolicy::kNever && header_ok &&
      end > format::kSegmentHeaderBytes) {
    // What this open trusts must be on disk. The frames past what their
    // writer knew durable may exist only in the page cache: written by a
    // process that died before its fdatasync, or whose fdatasync failed,
    // after which Linux may have marked them clean without writing them
    // ("fsyncgate"), so that no later fdatasync writes them either. (Not
    // with kNever: nothing is promised durable then, and a log written that
    // way records no fdatasync, so every open would read a whole segment.)
    RAFTLOG_RETURN_IF_ERROR(MakeDurable(file.get(), bytes, std::min(found_durable, end), end));
    durable_offset_ = end;
  }

  bool must_seal = found_footer || bad;
  if (must_seal && options_.read_only) {
    // Report, change nothing: serve the good frames as an active segment.
    if (found_footer) counters_->unfinished_seals++;
    must_seal = false;
  }
  if (found.empty() && must_seal) {
    // Nothing usable in this segment: drop it from the manifest. The next
    // append activates a fresh segment at the same base index.
    MetaStore::Batch batch;
    batch.Delete(SegmentKey(record.segment_id));
    RAFTLOG_RETURN_IF_ERROR(CommitMeta(&batch));
    (void)fs_->Remove(path);
    return Status::OK();
  }

  if (must_seal) {
    // Seal at the end of the good frames: after a footer left by an
    // interrupted seal, or in place of the torn tail. New entries go to a
    // new segment, so no stale frame beyond this point can ever be read.
    segment->PublishFrames(found.frames, found.last_index);
    uint64_t footer_at = 0, file_bytes = 0;
    RAFTLOG_RETURN_IF_ERROR(WriteSeal(segment.get(), found_footer ? scan.footer_offset : end,
                                      found.last_index, found.runs, &footer_at, &file_bytes));
    format::SegmentRecord sealed = segment->record();
    sealed.state = format::SegmentState::kSealed;
    sealed.footer_offset = footer_at;
    sealed.file_bytes = file_bytes;
    sealed.term_runs = found.runs;
    MetaStore::Batch batch;
    batch.Put(SegmentKey(sealed.segment_id), format::EncodeSegmentRecord(sealed));
    RAFTLOG_RETURN_IF_ERROR(CommitMeta(&batch));
    segment.reset();
    // Open it as any sealed segment: a fresh mapping of its final size.
    return OpenSealed(sealed);
  }

  // Publish what we found (single-threaded here).
  if (!found.empty()) {
    segment->PublishFrames(found.frames, found.last_index);
    for (const format::TermRun& run : found.runs) {
      if (!term_runs_.empty() && term_runs_.back().term == run.term) continue;
      if (!term_runs_.empty() && term_runs_.back().term > run.term) {
        return Status::Corruption(
            name + ": term decreases from " + std::to_string(term_runs_.back().term) + " to " +
            std::to_string(run.term) + " at index " + std::to_string(run.first_index));
      }
      term_runs_.push_back(run);
    }
  }
  segments_.push_back(std::move(segment));
  Segment* seg = segments_.back().get();

  active_ = seg;
  // The segment keeps the size it was made with (its header says it; a
  // segment whose header was never written has its file's size), whatever
  // Options::segment_bytes is now: new segments take the new size.
  active_bytes_ = header_ok ? std::min(scan.header->segment_bytes, size) : size;
  write_offset_ = header_ok ? end : format::kSegmentHeaderBytes;
  header_pending_ = !header_ok;
  active_runs_ = static_cast<uint32_t>(found.runs.size());
  {
    port::MutexLock lock(&sync_mu_);
    sync_file_ = seg->file();
    sync_written_ = write_offset_;
    sync_durable_ = durable_offset_;
  }
  return Status::OK();
}

Status LogEngine::CheckStartTerm() NO_THREAD_SAFETY_ANALYSIS {
  // log/start's term (of the entry before the first) is not covered by any
  // checksum (LMDB has none): check it against the segments' term runs,
  // exactly where a live segment still holds that entry, and in any case that
  // it is not above the first entry's term (terms never decrease in a log).
  if (term_runs_.empty()) return Status::OK();
  const uint64_t first = first_index_.load();
  const uint64_t last = segments_.back()->last_index();
  const uint64_t before = first - 1;
  if (before >= segments_.front()->base_index() && before <= last &&
      TermFromRuns(before) != prev_term_) {
    return Status::Corruption("metadata of " + dir_ + ": log/start says entry " +
                              std::to_string(before) + " has term " + std::to_string(prev_term_) +
                              ", the segments say " + std::to_string(TermFromRuns(before)));
  }
  if (first <= last && TermFromRuns(first) < prev_term_) {
    return Status::Corruption("metadata of " + dir_ + ": log/start says entry " +
                              std::to_string(before) + " has term " + std::to_string(prev_term_) +
                              ", above the term " + std::to_string(TermFromRuns(first)) +
                              " of the first entry " + std::to_string(first));
  }
  return Status::OK();
}

uint64_t LogEngine::TermFromRuns(uint64_t index) const NO_THREAD_SAFETY_ANALYSIS {
  auto it =
      std::upper_bound(term_runs_.begin(), term_runs_.end(), index,
                       [](uint64_t i, const format::TermRun& r) { return i < r.first_index; });
  RAFTLOG_CHECK_MSG(it != term_runs_.begin(),
                    "term runs do not cover index " + std::to_string(index));
  return std::prev(it)->term;
}

Status LogEngine::MakeDurable(io::File* file, std::string_view bytes, uint64_t from, uint64_t to) {
  // [from, to) holds the frames written after their writer's last known
  // successful fdatasync. If the device holds all of them, they are durable
  // (or acknowledged: the sync that would have made them so succeeded). If
  // any byte differs, that sync never completed, none of them was
  // acknowledged, and writing them all back risks nothing that was (a
  // rewrite of durable bytes could tear them in a power loss).
  constexpr uint64_t kChunk = 1 << 20;
  bool differs = false;
  for (uint64_t off = from; off < to && !differs; off += kChunk) {
    const uint64_t len = std::min(kChunk, to - off);
    auto device = file->ReadFromDevice(off, static_cast<size_t>(len));
    if (device.status().IsNotSupported()) {
      // No direct I/O here (tmpfs, some FUSE and network file systems): what
      // the device holds cannot be read, so assume the worst and write every
      // byte back. (The page cache may hold bytes a failed fdatasync never
      // wrote and marked clean; writing them dirties them again, and the
      // sync below writes them.) The cost is the span after the last known
      // durable offset, usually one append's frames.
      differs = true;
      break;
    }
    if (!device.ok()) return device.status().WithContext("checking recovered frames on the device");
    differs = std::string_view(*device) != bytes.substr(off, len);
  }
  std::string chunk;
  for (uint64_t off = from; differs && off < to; off += kChunk) {
    chunk.assign(bytes.substr(off, std::min(kChunk, to - off)));  // not a view of what we write
    const std::string_view piece(chunk);
    RAFTLOG_RETURN_IF_ERROR(file->PWrite(off, std::span<const std::string_view>(&piece, 1)));
    counters_->open_bytes_rewritten += piece.size();
  }
  // Also when nothing differed: the bytes reached the device, but maybe only
  // its volatile cache.
  RAFTLOG_RETURN_IF_ERROR(file->Sync());
  counters_->log_syncs++;
  return Status::OK();
}

Status LogEngine::CheckContinuity() NO_THREAD_SAFETY_ANALYSIS {
  const uint64_t first = first_index_.load();
  // Sealed segments wholly below the first index are leftovers of a
  // compaction whose manifest update they predate; they cannot be listed
  // after it, so this is only a consistency check.
  for (size_t k = 0; k + 1 < segments_.size(); ++k) {
    if (segments_[k + 1]->base_index() != segments_[k]->last_index() + 1) {
      return Status::Corruption(
          "manifest of " + dir_ + ": segment " + segments_[k + 1]->file_name() + " starts at " +
          std::to_string(segments_[k + 1]->base_index()) + " but " + segments_[k]->file_name() +
          " ends at " + std::to_string(segments_[k]->last_index()));
    }
  }
  if (!segments_.empty() && segments_.front()->base_index() > first) {
    return Status::Corruption("log " + dir_ + " starts at index " + std::to_string(first) +
                              " but its first segment begins at " +
                              std::to_string(segments_.front()->base_index()));
  }
  if (!segments_.empty() && segments_.back()->last_index() + 1 < first) {
    return Status::Corruption("log " + dir_ + " starts at index " + std::to_string(first) +
                              " beyond its last segment's end " +
                              std::to_string(segments_.back()->last_index()));
  }
  return Status::OK();
}

Status LogEngine::RemoveStrayFiles(const std::vector<format::SegmentRecord>& records)
    NO_THREAD_SAFETY_ANALYSIS {
  RAFTLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->ListDir(segments_dir_));
  // Sealed segments open lazily, on first read; a missing one is caught here,
  // at open, from the listing we need anyway (and before removing anything).
  const std::set<std::string> present(names.begin(), names.end());
  for (const format::SegmentRecord& record : records) {
    const std::string name = internal::SegmentFileName(record.segment_id);
    if (record.state == format::SegmentState::kSealed && present.count(name) == 0) {
      return Status::Corruption(io::JoinPath(segments_dir_, name) +
                                ": sealed segment listed in the manifest is missing (entries " +
                                std::to_string(record.base_index) + " to " +
                                std::to_string(record.last_index) + ")");
    }
  }
  uint64_t first_spare_id = next_segment_id_;
  std::vector<internal::Preallocator::Prepared> spares;
  for (const std::string& name : names) {
    const std::string path = io::JoinPath(segments_dir_, name);
    const std::optional<uint64_t> id = internal::ParseSegmentFileName(name);
    const bool listed = id &&
                        std::any_of(records.begin(), records.end(),
                                    [&](const auto& r) { return r.segment_id == *id; }) &&
                        std::any_of(segments_.begin(), segments_.end(),
                                    [&](const auto& s) { return s->id() == *id; });
    if (listed) continue;
    if (id && *id >= next_segment_id_ && !options_.read_only) {
      // A prepared spare: complete (it was renamed into place only after it
      // was fully written and synced) if it has the full size.
      auto file = fs_->Open(path, io::OpenMode::kReadWrite);
      if (file.ok()) {
        auto size = (*file)->Size();
        if (size.ok() && *size == options_.segment_bytes) {
          spares.push_back({*id, std::shared_ptr<io::File>(std::move(*file)), path});
          continue;
        }
      }
    }
    // Unlisted: a compacted or truncated-away segment whose removal was
    // interrupted, an unfinished spare, or a segment dropped on open.
    if (options_.read_only) {
      counters_->stray_files_found++;
      continue;
    }
    Status s = fs_->Remove(path);
    if (!s.ok() && !s.IsNotFound()) return s;
    counters_->stray_files_removed++;
  }
  std::sort(spares.begin(), spares.end(),
            [](const auto& a, const auto& b) { return a.segment_id < b.segment_id; });
  for (const auto& spare : spares) first_spare_id = std::max(first_spare_id, spare.segment_id + 1);
  // Also when keeping spares: a spare's name was synced by the process that
  // prepared it only if that process got that far; the next roll may put
  // acknowledged entries into it, so its name must be durable first.
  if (counters_->stray_files_removed > 0 || !spares.empty()) {
    RAFTLOG_RETURN_IF_ERROR(fs_->SyncDir(segments_dir_));
  }
  counters_->stray_files_found += counters_->stray_files_removed;
  preallocator_ = std::make_unique<internal::Preallocator>(
      fs_, segments_dir_, options_.segment_bytes, first_spare_id, options_.prepared_segments,
      /*write_zeros=*/options_.sync != SyncPolicy::kNever);
  counters_->spare_segments_kept = spares.size();
  for (auto& spare : spares) preallocator_->AddExisting(std::move(spare));
  return Status::OK();
}

Status LogEngine::Close() {
  port::MutexLock w(&write_mu_);
  if (closed_) return Status::OK();
  closed_ = true;
  Status result;
  if (!has_failed_.load() && !options_.read_only) {
    // The segment first: if it cannot be synced, the disk is in doubt and no
    // more metadata should be written on top of it.
    if (active_ != nullptr && options_.sync != SyncPolicy::kNever) {
      result = active_->file()->Sync();
      counters_->log_syncs++;
      if (result.ok()) durable_offset_ = write_offset_;
    }
    // Lazy state and the durable progress (everything synced above), in one
    // transaction, if either changed since the last commit.
    bool lazy = false;
    {
      port::MutexLock lock(&state_mu_);
      lazy = !lazy_state_.empty();
    }
    if (result.ok() && (lazy || (track_durable_ && DurableProgress() != durable_written_))) {
      MetaStore::Batch batch;
      result = CommitMeta(&batch);
    }
  }
  ReleaseLocked();
  return result;
}

void LogEngine::Abandon() {
  port::MutexLock w(&write_mu_);
  if (closed_) return;
  closed_ = true;
  ReleaseLocked();
}

void LogEngine::ReleaseLocked() {
  {
    port::MutexLock lock(&sync_mu_);
    sync_stop_ = true;
    sync_file_ = nullptr;
  }
  sync_cv_.SignalAll();
  if (syncer_.joinable()) syncer_.join();
  if (preallocator_) preallocator_->Stop();
  {
    port::WriterLock lock(&mu_);
    segments_.clear();
  }
  active_ = nullptr;
  spare_.reset();  // an untaken spare stays on disk, reused on the next open
  meta_.reset();
  lock_file_.reset();
  lock_.reset();
}

// --- reading -----------------------------------------------------------------------

size_t LogEngine::FindSegment(uint64_t index) const NO_THREAD_SAFETY_ANALYSIS {
  // The last segment whose base index is <= index.
  auto it = std::upper_bound(segments_.begin(), segments_.end(), index,
                             [](uint64_t i, const auto& s) { return i < s->base_index(); });
  return static_cast<size_t>(it - segments_.begin()) - 1;
}

Result<uint64_t> LogEngine::Term(uint64_t index) const {
  port::ReaderLock lock(&mu_);
  const uint64_t first = first_index_.load(std::memory_order_relaxed);
  if (index + 1 < first) return Status::Compacted();
  if (index > last_index_.load(std::memory_order_relaxed)) return Status::Unavailable();
  if (index + 1 == first) return prev_term_;
  return TermFromRuns(index);
}

Status LogEngine::Read(uint64_t lo, uint64_t hi,
                       const std::function<bool(const format::EntryView&)>& fn) const {
  return ReadImpl(lo, hi, [&fn](const format::EntryView& e, const Bytes&) { return fn(e); });
}

Status LogEngine::ReadShared(
    uint64_t lo, uint64_t hi,
    const std::function<bool(const format::EntryView&, Bytes data)>& fn) const {
  return ReadImpl(lo, hi, [&fn](const format::EntryView& e, const Bytes& buffer) {
    // A slice shares the buffer's owner: a reference count, no allocation.
    return fn(e, buffer.Slice(static_cast<size_t>(e.data.data() - buffer.data()), e.data.size()));
  });
}

Status LogEngine::ReadImpl(
    uint64_t lo, uint64_t hi,
    const std::function<bool(const format::EntryView&, const Bytes&)>& fn) const {
  if (lo > hi) {
    return Status::InvalidArgument("invalid range [" + std::to_string(lo) + ", " +
                                   std::to_string(hi) + ")");
  }
  port::ReaderLock lock(&mu_);
  if (lo < first_index_.load(std::memory_order_relaxed)) return Status::Compacted();
  if (hi > last_index_.load(std::memory_order_relaxed) + 1) return Status::Unavailable();
  if (lo == hi) return Status::OK();

  thread_local format::Decompressor decompressor;
  uint64_t index = lo;
  size_t s = FindSegment(index);
  while (index < hi) {
    RAFTLOG_CHECK_MSG(s < segments_.size(), "no segment holds index " + std::to_string(index));
    const Segment& seg = *segments_[s];
    if (index > seg.last_index()) {
      ++s;
      continue;
    }
    RAFTLOG_RETURN_IF_ERROR(seg.EnsureOpen());
    for (uint32_t k = seg.FindFrame(index); k < seg.frame_count() && index < hi; ++k) {
      RAFTLOG_ASSIGN_OR_RETURN(format::FrameView frame, seg.ReadFrame(k));
      const uint64_t frame_first = seg.base_index() + seg.frame(k).index_delta;
      // Built only when something is wrong: this is the hot read path.
      auto where = [&] {
        return seg.file_name() + " at offset " + std::to_string(seg.frame(k).offset);
      };
      if (frame.header.type != format::FrameType::kEntries ||
          frame.header.first_index != frame_first) {
        return Status::Corruption(where() + ": frame does not hold index " +
                                  std::to_string(frame_first) + " as the index says");
      }
      // Term() answers from the term runs: Entries() must agree with it. (A
      // frame's entries share one term; `index` is inside this frame.)
      if (frame.header.term != TermFromRuns(index)) {
        return Status::Corruption(where() + ": frame holds term " +
                                  std::to_string(frame.header.term) + " but the index says term " +
                                  std::to_string(TermFromRuns(index)) + " for entry " +
                                  std::to_string(index));
      }
      // The buffer the entries' payloads are read from: the mapping, or the
      // frame's decompressed bytes (shared with the cache, never copied).
      std::string_view raw = frame.payload;
      const Bytes* buffer = &seg.mapped();
      std::optional<internal::FrameCache::Payload> cached;
      if (frame.header.compressed()) {
        cached = cache_->Lookup(seg.id(), seg.frame(k).offset);
        if (!cached) {
          std::string out;
          RAFTLOG_RETURN_IF_ERROR(decompressor.Decompress(
              frame.payload, frame.header.raw_bytes, &out, where(), format::kMaxFramePayloadBytes));
          cached = cache_->Insert(seg.id(), seg.frame(k).offset, std::move(out));
        }
        raw = cached->view();
        buffer = &*cached;
      }
      auto payload = format::EntriesPayload::Parse(raw, frame.header.entry_count, {});
      if (!payload.ok()) {
        return Status::Corruption(where() + std::string(payload.status().message()));
      }
      for (uint32_t j = static_cast<uint32_t>(index - frame_first);
           j < payload->size() && index < hi && index <= seg.last_index(); ++j, ++index) {
        if (!fn(format::EntryView{index, frame.header.term, payload->type(j), payload->data(j)},
                *buffer)) {
          return Status::OK();
        }
      }
      if (index > seg.last_index()) break;
    }
    ++s;
  }
  return Status::OK();
}

Status LogEngine::FreezeState() {
  // A reader beside a live writer sees the log as of its scan, which comes
  // after this: a writer stores a HardState before the entries of the same
  // write and its commit index never names entries written after it, so the
  // state taken here names no entry the scan cannot see. Read at GetState
  // time instead, a busy writer's newer commit index would name entries
  // appended after the scan and look like lost committed entries.
  RAFTLOG_ASSIGN_OR_RETURN(auto rows, meta_->Scan(kStatePrefix));
  port::MutexLock lock(&state_mu_);
  for (auto& [key, value] : rows) {
    lazy_state_[key.substr(kStatePrefix.size())] = std::move(value);
  }
  state_frozen_ = true;
  return Status::OK();
}

Result<std::optional<std::string>> LogEngine::GetState(std::string_view key) const {
  {
    port::MutexLock lock(&state_mu_);
    auto it = lazy_state_.find(key);
    if (it != lazy_state_.end()) return std::optional<std::string>(it->second);
    if (state_frozen_) return std::optional<std::string>();
  }
  return meta_->Get(std::string(kStatePrefix) + std::string(key));
}

Stats LogEngine::GetStats() const {
  Stats st;
  {
    port::ReaderLock lock(&mu_);
    st.first_index = first_index_.load();
    st.last_index = last_index_.load();
    st.segments = segments_.size();
    for (const auto& seg : segments_) {
      if (seg->sealed()) {
        st.sealed_segments++;
        st.segment_file_bytes += seg->record().file_bytes;
      } else {
        st.segment_file_bytes += seg->bytes().size();  // its size when it was made
      }
      st.index_heap_bytes += seg->IndexHeapBytes();
    }
    st.term_runs = term_runs_.size();
    st.index_heap_bytes += term_runs_.capacity() * sizeof(format::TermRun);
  }
  const Counters& c = *counters_;
  st.appends = c.appends;
  st.entries_appended = c.entries_appended;
  st.frames_written = c.frames_written;
  st.compressed_frames = c.compressed_frames;
  st.bytes_written = c.bytes_written;
  st.raw_bytes_written = c.raw_bytes_written;
  st.log_syncs = c.log_syncs;
  st.meta_commits = c.meta_commits;
  st.segment_rolls = c.segment_rolls;
  st.suffix_truncations = c.suffix_truncations;
  st.frame_cache_hits = cache_->hits();
  st.frame_cache_misses = cache_->misses();
  st.open_segments_from_footer = c.open_segments_from_footer;
  st.open_bytes_scanned = c.open_bytes_scanned;
  st.open_frames_scanned = c.open_frames_scanned;
  st.torn_tail_cuts = c.torn_tail_cuts;
  st.torn_tail_bytes = c.torn_tail_bytes;
  st.dropped_valid_frames = c.dropped_valid_frames;
  st.stray_files_found = c.stray_files_found;
  st.stray_files_removed = c.stray_files_removed;
  st.unfinished_seals = c.unfinished_seals;
  st.open_bytes_rewritten = c.open_bytes_rewritten;
  st.spare_segments_kept = c.spare_segments_kept;
  return st;
}

// --- writing -----------------------------------------------------------------------

void LogEngine::Fail(const Status& s) {
  port::MutexLock lock(&fail_mu_);
  if (failed_.ok()) {
    failed_ = s.WithContext("the log refuses writes until it is reopened after");
    has_failed_.store(true);
  }
}

Status LogEngine::CheckWritable() const NO_THREAD_SAFETY_ANALYSIS {
  if (closed_) return Status::FailedPrecondition("log " + dir_ + " is closed");
  if (options_.read_only) return Status::FailedPrecondition("log " + dir_ + " is open read-only");
  if (has_failed_.load()) {
    port::MutexLock lock(&fail_mu_);
    return Status::FailedPrecondition(failed_.message());
  }
  return Status::OK();
}

format::DurableRecord LogEngine::DurableProgress() {
  if (active_ == nullptr || header_pending_) return format::DurableRecord{};
  uint64_t durable = durable_offset_;
  if (options_.sync == SyncPolicy::kInterval) {
    port::MutexLock lock(&sync_mu_);
    if (sync_file_ == active_->file()) durable = std::max(durable, sync_durable_);
  }
  return internal::DurableProgressOf(*active_, std::min(durable, write_offset_));
}

Status LogEngine::CommitMeta(MetaStore::Batch* batch) {
  // Lazy state rides along with every transaction.
  {
    port::MutexLock lock(&state_mu_);
    for (const auto& [k, v] : lazy_state_) batch->Put(std::string(kStatePrefix) + k, v);
  }
  // So does the durable progress: it costs no fdatasync of its own, and
  // makes recovery refuse damage to acknowledged frames (RecoverActive).
  format::DurableRecord progress;
  if (track_durable_) {
    progress = DurableProgress();
    batch->Put(format::kDurableKey, format::EncodeDurableRecord(progress));
  }
  Status s = meta_->Write(*batch);
  counters_->meta_commits++;
  if (s.ok()) {
    if (track_durable_) durable_written_ = progress;
    port::MutexLock lock(&state_mu_);
    lazy_state_.clear();
  }
  return s;
}

Status LogEngine::Append(std::span<const format::EntryView> entries, const AppendOptions& options) {
  port::MutexLock w(&write_mu_);
  RAFTLOG_RETURN_IF_ERROR(CheckWritable());
  if (entries.empty()) return Status::OK();
  const uint64_t first = entries.front().index;
  const uint64_t last = LastIndex();
  if (first < FirstIndex() || first > last + 1) {
    return Status::InvalidArgument("append at index " + std::to_string(first) + " outside [" +
                                   std::to_string(FirstIndex()) + ", " + std::to_string(last + 1) +
                                   "] (the log holds [" + std::to_string(FirstIndex()) + ", " +
                                   std::to_string(last) + "])");
  }
  const uint64_t capacity =
      options_.segment_bytes - format::kSegmentHeaderBytes - SealReserve(1, 1);
  for (size_t k = 0; k < entries.size(); ++k) {
    if (entries[k].index != first + k) {
      return Status::InvalidArgument("append batch is not consecutive at position " +
                                     std::to_string(k) + " (index " +
                                     std::to_string(entries[k].index) + ")");
    }
    if (k > 0 && entries[k].term < entries[k - 1].term) {
      return Status::InvalidArgument("append batch: term decreases at index " +
                                     std::to_string(entries[k].index));
    }
    if (format::FrameBytes(RawPayloadBytes(1, entries[k].data.size())) + format::kFrameAlignment >
        capacity) {
      return Status::InvalidArgument(
          "entry " + std::to_string(entries[k].index) + " of " +
          std::to_string(entries[k].data.size()) + " bytes does not fit in a segment of " +
          std::to_string(options_.segment_bytes) + " bytes (raise Options::segment_bytes)");
    }
  }
  if (first > FirstIndex() || first <= last) {
    // The entry before the batch must not have a higher term.
    auto prev = Term(first - 1);
    if (prev.ok() && *prev > entries.front().term) {
      return Status::InvalidArgument("append at index " + std::to_string(first) + " with term " +
                                     std::to_string(entries.front().term) +
                                     " after an entry of term " + std::to_string(*prev));
    }
  }
  if (first <= last) RAFTLOG_RETURN_IF_ERROR(TruncateSuffix(first - 1));
  Status s = WriteFrames(entries, options.commit_hint,
                         options.sync && options_.sync == SyncPolicy::kAlways);
  if (s.ok()) {
    counters_->appends++;
    counters_->entries_appended += entries.size();
  }
  return s;
}

Status LogEngine::WriteFrames(std::span<const format::EntryView> entries, uint64_t commit_hint,
                              bool sync) NO_THREAD_SAFETY_ANALYSIS {
  // If the batch may need a new segment, get its file before writing any
  // byte: when the disk is full this append then fails cleanly, with nothing
  // written and the engine still usable. (A batch larger than a whole
  // segment may need a second file; failing to get that one fails the engine.)
  if (spare_ == nullptr) {
    // An upper bound of the bytes the batch takes: payloads, entry tables,
    // and a frame header + padding per frame (one per term change and per
    // max_frame_bytes).
    uint64_t bytes = 0, frames = 1;
    for (size_t k = 0; k < entries.size(); ++k) {
      bytes += entries[k].data.size() + 5;
      if (k > 0 && entries[k].term != entries[k - 1].term) ++frames;
    }
    frames += bytes / options_.max_frame_bytes;
    const uint64_t estimate =
        bytes + frames * (format::kFrameHeaderBytes + format::kFrameAlignment);
    if (active_ == nullptr ||
        write_offset_ + estimate +
                SealReserve(active_->frame_count() + frames, active_runs_ + frames) >
            active_bytes_) {
      RAFTLOG_ASSIGN_OR_RETURN(internal::PreparedSegment spare, preallocator_->Take());
      spare_ = std::make_unique<internal::PreparedSegment>(std::move(spare));
    }
  }
  PendingFrames pending;
  size_t pos = 0;
  while (pos < entries.size()) {
    // Room left in the active segment for one more frame, keeping space for
    // the seal (footer + trailer) that must follow it.
    const uint64_t term = entries[pos].term;
    // Does this frame start a new term run, globally (term_runs_) and within
    // the active segment (its footer lists the runs it intersects)?
    const uint64_t prev_run_term = !pending.runs.empty()
                                       ? pending.runs.back().term
                                       : (!term_runs_.empty() ? term_runs_.back().term : 0);
    const bool new_run = (pending.runs.empty() && term_runs_.empty()) || prev_run_term != term;
    const bool new_segment_run = new_run || active_runs_ + pending.segment_runs == 0;
    uint64_t room = 0;
    if (active_ != nullptr) {
      const uint64_t frames_after = active_->frame_count() + pending.frames.size() + 1;
      const uint64_t runs_after = active_runs_ + pending.segment_runs + (new_segment_run ? 1 : 0);
      const uint64_t used = write_offset_ + SealReserve(frames_after, runs_after);
      room = used < active_bytes_ ? active_bytes_ - used : 0;
    }
    // The next frame: entries of one term, at most max_frame_bytes of
    // payload, fitting the room.
    const uint64_t limit = std::min<uint64_t>(
        options_.max_frame_bytes, room > format::kFrameHeaderBytes + format::kFrameAlignment
                                      ? room - format::kFrameHeaderBytes - format::kFrameAlignment
                                      : 0);
    size_t n = 0;
    uint64_t data_bytes = 0;
    while (pos + n < entries.size() && entries[pos + n].term == term) {
      const uint64_t more = data_bytes + entries[pos + n].data.size();
      const bool fits = RawPayloadBytes(n + 1, more) <= limit;
      // A single entry larger than max_frame_bytes still gets a frame of its
      // own, if the segment has room for it.
      const bool alone_ok =
          n == 0 && format::FrameBytes(RawPayloadBytes(1, more)) + format::kFrameAlignment <= room;
      if (!fits && !alone_ok) break;
      data_bytes = more;
      ++n;
      if (!fits) break;
    }
    if (n == 0) {
      // Not even one entry fits: seal this segment and start the next. Each
      // entry was checked to fit in an empty segment, so this terminates.
      RAFTLOG_RETURN_IF_ERROR(Roll(&pending));
      continue;
    }

    chunk_.assign(entries.begin() + static_cast<std::ptrdiff_t>(pos),
                  entries.begin() + static_cast<std::ptrdiff_t>(pos + n));
    if (options_.sync == SyncPolicy::kInterval) {
      // What the interval syncer has made durable of this segment since.
      port::MutexLock lock(&sync_mu_);
      durable_offset_ = std::max(durable_offset_, sync_durable_);
    }
    builder_.set_durable_offset(durable_offset_);
    builder_.BuildEntries(active_->seed(), commit_hint, chunk_);
    std::vector<std::string_view>& pieces = pieces_;
    pieces.clear();
    std::string header_bytes;
    uint64_t offset = write_offset_;
    if (header_pending_) {
      format::SegmentHeader header;
      header.segment_id = active_->id();
      header.base_index = active_->base_index();
      header.generation = active_->generation();
      header.segment_bytes = active_bytes_;
      header.created_unix_ns =
          static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
      header_bytes = format::EncodeSegmentHeader(header);
      pieces.push_back(header_bytes);
      offset = 0;
    }
    pieces.insert(pieces.end(), builder_.pieces().begin(), builder_.pieces().end());
    Status s = active_->file()->PWrite(offset, pieces);
    if (!s.ok()) {
      Fail(s);
      return s;
    }
    header_pending_ = false;
    pending.frames.push_back(
        format::FrameRef{static_cast<uint32_t>(write_offset_),
                         static_cast<uint32_t>(entries[pos].index - active_->base_index())});
    if (new_run) pending.runs.push_back(format::TermRun{entries[pos].index, term});
    if (new_segment_run) pending.segment_runs++;
    pending.last_index = entries[pos + n - 1].index;
    write_offset_ += builder_.frame_bytes();
    if (options_.sync == SyncPolicy::kInterval) {
      port::MutexLock lock(&sync_mu_);
      sync_written_ = write_offset_;
    }
    counters_->frames_written++;
    counters_->bytes_written += builder_.frame_bytes();
    counters_->raw_bytes_written += RawPayloadBytes(n, data_bytes);
    if (builder_.header().compressed()) counters_->compressed_frames++;
    pos += n;
  }
  if (sync) {
    Status s = active_->file()->Sync();
    counters_->log_syncs++;
    if (!s.ok()) {
      // We cannot know which of the written bytes are durable: stop here and
      // let recovery decide on reopen. Nothing is published.
      Fail(s);
      return s;
    }
    durable_offset_ = write_offset_;
  }
  // Publish to readers.
  port::WriterLock lock(&mu_);
  active_->PublishFrames(pending.frames, pending.last_index);
  for (const format::TermRun& run : pending.runs) term_runs_.push_back(run);
  active_runs_ += pending.segment_runs;
  last_index_.store(pending.last_index, std::memory_order_release);
  return Status::OK();
}

Status LogEngine::Roll(PendingFrames* pending) NO_THREAD_SAFETY_ANALYSIS {
  MetaStore::Batch batch;
  std::unique_ptr<Segment> new_active;
  if (active_ != nullptr) {
    if (!pending->empty()) {
      // Frames of this batch already in the old segment: publish them first
      // so the footer lists them (the seal's sync makes them durable).
      port::WriterLock lock(&mu_);
      active_->PublishFrames(pending->frames, pending->last_index);
      for (const format::TermRun& run : pending->runs) term_runs_.push_back(run);
      active_runs_ += pending->segment_runs;
      last_index_.store(pending->last_index, std::memory_order_release);
      *pending = PendingFrames();
    }
    // Every entry fits in an empty segment, so a segment is only ever
    // sealed after it received at least one frame.
    RAFTLOG_CHECK_MSG(!active_->empty(), "rolling an empty segment");
  }
  RAFTLOG_RETURN_IF_ERROR(Activate(&batch));
  counters_->segment_rolls++;
  return Status::OK();
}

Status LogEngine::Activate(MetaStore::Batch* batch) NO_THREAD_SAFETY_ANALYSIS {
  // The file reserved by WriteFrames, or (a batch spanning segments) a new one.
  internal::PreparedSegment spare;
  if (spare_ != nullptr) {
    spare = std::move(*spare_);
    spare_.reset();
  } else {
    auto taken = preallocator_->Take();
    if (!taken.ok()) {
      Fail(taken.status());
      return taken.status();
    }
    spare = std::move(*taken);
  }

  // Seal the current active segment, if any.
  std::optional<format::FooterView> sealed_footer;
  std::vector<format::TermRun> sealed_runs;
  uint64_t footer_offset = 0, file_bytes = 0;
  if (active_ != nullptr) {
    Status sealed_ok = WriteSeal(active_, write_offset_, active_->last_index(),
                                 RunsWithin(active_->base_index(), active_->last_index()),
                                 &footer_offset, &file_bytes);
    auto footer = sealed_ok.ok() ? ParseFooter(*active_, footer_offset, file_bytes)
                                 : Result<format::FooterView>(sealed_ok);
    if (!footer.ok()) {
      Fail(footer.status());
      return footer.status();
    }
    sealed_footer = *footer;
    sealed_runs = RunsWithin(active_->base_index(), active_->last_index());
    format::SegmentRecord sealed = active_->record();
    sealed.state = format::SegmentState::kSealed;
    sealed.footer_offset = footer_offset;
    sealed.file_bytes = file_bytes;
    sealed.term_runs = sealed_runs;
    batch->Put(SegmentKey(sealed.segment_id), format::EncodeSegmentRecord(sealed));
  }

  auto mapping = spare.file->Map(0, options_.segment_bytes);
  if (!mapping.ok()) {
    Fail(mapping.status());
    return mapping.status();
  }
  format::SegmentRecord record;
  record.segment_id = spare.segment_id;
  record.base_index = LastIndex() + 1;
  record.generation = generation_;
  record.state = format::SegmentState::kActive;
  record.last_index = record.base_index - 1;
  batch->Put(SegmentKey(record.segment_id), format::EncodeSegmentRecord(record));
  batch->Put(kNextSegmentIdKey,
             Counter(kNextSegmentIdKey, std::max(next_segment_id_, record.segment_id + 1)));
  Status s = CommitMeta(batch);
  if (!s.ok()) {
    Fail(s);
    return s;
  }
  next_segment_id_ = std::max(next_segment_id_, record.segment_id + 1);

  auto segment = Segment::NewActive(record, spare.file, std::move(*mapping),
                                    internal::SegmentFileName(record.segment_id));
  {
    port::WriterLock lock(&mu_);
    if (active_ != nullptr) {
      active_->Seal(*sealed_footer, footer_offset, file_bytes, std::move(sealed_runs));
    }
    segments_.push_back(std::move(segment));
    active_ = segments_.back().get();
  }
  write_offset_ = format::kSegmentHeaderBytes;
  durable_offset_ = 0;
  header_pending_ = true;
  active_bytes_ = options_.segment_bytes;
  active_runs_ = 0;
  {
    port::MutexLock lock(&sync_mu_);
    sync_file_ = active_->file();
    sync_written_ = 0;
    sync_durable_ = 0;
  }
  return Status::OK();
}

std::vector<format::TermRun> LogEngine::RunsWithin(uint64_t first,
                                                   uint64_t last) const NO_THREAD_SAFETY_ANALYSIS {
  std::vector<format::TermRun> out;
  for (const format::TermRun& run : term_runs_) {
    if (run.first_index > last) break;
    if (run.first_index <= first) {
      out.assign(1, format::TermRun{first, run.term});  // the run that covers `first`
    } else {
      out.push_back(run);
    }
  }
  return out;
}

Status LogEngine::WriteSeal(Segment* segment, uint64_t write_offset, uint64_t last_index,
                            std::vector<format::TermRun> runs, uint64_t* footer_offset,
                            uint64_t* file_bytes) {
  format::FooterContents contents;
  contents.last_index = last_index;
  for (uint32_t k = 0; k < segment->frame_count(); ++k) {
    const format::FrameRef ref = segment->frame(k);
    if (segment->base_index() + ref.index_delta > last_index) break;
    contents.frames.push_back(ref);
  }
  while (!runs.empty() && runs.back().first_index > last_index) runs.pop_back();
  contents.term_runs = std::move(runs);
  const std::string payload = format::EncodeFooterPayload(contents);
  format::FrameBuilder footer_builder;
  footer_builder.set_durable_offset(durable_offset_);
  footer_builder.BuildFooter(segment->seed(), payload);
  *footer_offset = write_offset;
  *file_bytes = write_offset + footer_builder.frame_bytes() + format::kTrailerBytes;
  const std::string trailer = format::EncodeTrailer(*footer_offset, *file_bytes, segment->seed());
  std::vector<std::string_view> pieces(footer_builder.pieces().begin(),
                                       footer_builder.pieces().end());
  pieces.push_back(trailer);
  RAFTLOG_RETURN_IF_ERROR(segment->file()->PWrite(write_offset, pieces));
  RAFTLOG_RETURN_IF_ERROR(segment->file()->Sync());
  counters_->log_syncs++;
  // Give back the preallocated space past the trailer. Not synced: if the
  // size change is lost, the file is just longer than its manifest entry says.
  (void)segment->file()->Truncate(*file_bytes);
  return Status::OK();
}

Result<format::FooterView> LogEngine::ParseFooter(const Segment& segment, uint64_t footer_offset,
                                                  uint64_t file_bytes) const {
  const std::string where = segment.file_name() + " at offset " + std::to_string(footer_offset);
  const std::string_view bytes = segment.bytes();
  if (file_bytes > bytes.size()) {
    return Status::Corruption(where + ": footer lies beyond the mapped segment");
  }
  RAFTLOG_ASSIGN_OR_RETURN(
      format::FrameView frame,
      format::DecodeFrame(bytes.substr(footer_offset, file_bytes - footer_offset), segment.seed(),
                          where));
  return format::FooterView::Parse(frame.payload, where);
}

Status LogEngine::TruncateSuffix(uint64_t new_last) NO_THREAD_SAFETY_ANALYSIS {
  MetaStore::Batch batch;
  std::vector<size_t> dead;
  size_t keep = segments_.size();  // segments [0, keep) survive
  for (size_t k = 0; k < segments_.size(); ++k) {
    if (segments_[k]->base_index() > new_last) {
      keep = k;
      break;
    }
  }
  std::optional<format::FooterView> footer;
  std::vector<format::TermRun> cut_runs;
  uint64_t footer_offset = 0, file_bytes = 0;
  Segment* cut = keep > 0 ? segments_[keep - 1].get() : nullptr;
  if (cut != nullptr && cut->last_index() > new_last) {
    format::SegmentRecord record = cut->record();
    record.last_index = new_last;
    cut_runs = RunsWithin(cut->base_index(), new_last);
    record.term_runs = cut_runs;
    if (cut == active_) {
      // Seal the active segment at the cut: the footer lists only frames up
      // to new_last, and new entries go to a new segment (new id and
      // generation), so the dead frames after the cut can never be read.
      // Nor are they overwritten: the footer goes after them (write_offset_),
      // so payloads handed out by ReadShared before the truncation, which
      // view this mapping, keep their bytes; the replacing entries are
      // reachable only through new reads of the new segment.
      Status sealed_ok =
          WriteSeal(cut, write_offset_, new_last, cut_runs, &footer_offset, &file_bytes);
      auto written = sealed_ok.ok() ? ParseFooter(*cut, footer_offset, file_bytes)
                                    : Result<format::FooterView>(sealed_ok);
      if (!written.ok()) {
        Fail(written.status());
        return written.status();
      }
      footer = *written;
      record.state = format::SegmentState::kSealed;
      record.footer_offset = footer_offset;
      record.file_bytes = file_bytes;
    }
    batch.Put(SegmentKey(record.segment_id), format::EncodeSegmentRecord(record));
  }
  for (size_t k = keep; k < segments_.size(); ++k) batch.Delete(SegmentKey(segments_[k]->id()));
  batch.Put(kGenerationKey, Counter(kGenerationKey, generation_ + 1));
  Status s = CommitMeta(&batch);
  if (!s.ok()) {
    Fail(s);
    return s;
  }
  generation_++;
  counters_->suffix_truncations++;

  std::vector<std::unique_ptr<Segment>> removed;
  {
    port::WriterLock lock(&mu_);
    if (cut != nullptr && cut->last_index() > new_last) {
      cut->CapLastIndex(new_last);
      if (footer) cut->Seal(*footer, footer_offset, file_bytes, std::move(cut_runs));
    }
    for (size_t k = keep; k < segments_.size(); ++k) removed.push_back(std::move(segments_[k]));
    segments_.resize(keep);
    while (!term_runs_.empty() && term_runs_.back().first_index > new_last) term_runs_.pop_back();
    last_index_.store(new_last, std::memory_order_release);
  }
  // Whatever was active is gone or sealed: the next append starts a segment.
  active_ = nullptr;
  {
    port::MutexLock lock(&sync_mu_);
    sync_file_ = nullptr;
  }
  RemoveSegmentFiles(std::move(removed));
  return Status::OK();
}

void LogEngine::RemoveSegmentFiles(std::vector<std::unique_ptr<Segment>> dead) {
  if (dead.empty()) return;
  for (const auto& seg : dead) {
    cache_->EraseSegment(seg->id());
    // A failure leaves a stray file that the next open removes: the manifest
    // no longer lists it, which is what counts.
    (void)fs_->Remove(io::JoinPath(segments_dir_, seg->file_name()));
  }
  (void)fs_->SyncDir(segments_dir_);
}

Status LogEngine::TruncatePrefix(uint64_t new_first, const StateUpdates& state) {
  port::MutexLock w(&write_mu_);
  RAFTLOG_RETURN_IF_ERROR(CheckWritable());
  const uint64_t first = FirstIndex(), last = LastIndex();
  if (new_first < first || new_first > last + 1) {
    return Status::InvalidArgument("truncate prefix to " + std::to_string(new_first) +
                                   " outside [" + std::to_string(first) + ", " +
                                   std::to_string(last + 1) + "]");
  }
  RAFTLOG_ASSIGN_OR_RETURN(uint64_t prev_term, Term(new_first - 1));
  MetaStore::Batch batch;
  batch.Put(kStartKey, EncodeStart(new_first, prev_term));
  for (const auto& [k, v] : state) batch.Put(std::string(kStatePrefix) + k, v);
  size_t drop = 0;  // segments [0, drop) go; never the active one
  {
    port::ReaderLock lock(&mu_);
    while (drop < segments_.size() && segments_[drop]->last_index() < new_first &&
           segments_[drop].get() != active_) {
      batch.Delete(SegmentKey(segments_[drop]->id()));
      ++drop;
    }
  }
  Status s = CommitMeta(&batch);
  if (!s.ok()) return s;  // nothing changed, on disk or here

  std::vector<std::unique_ptr<Segment>> removed;
  {
    port::WriterLock lock(&mu_);
    for (size_t k = 0; k < drop; ++k) removed.push_back(std::move(segments_[k]));
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(drop));
    // Term runs cover what the live segments hold (compacted entries of a
    // partly compacted segment included: a footer written later needs them).
    if (segments_.empty()) {
      term_runs_.clear();
    } else {
      const uint64_t base = segments_.front()->base_index();
      while (term_runs_.size() > 1 && term_runs_[1].first_index <= base) {
        term_runs_.erase(term_runs_.begin());
      }
      if (!term_runs_.empty()) term_runs_[0].first_index = base;
    }
    prev_term_ = prev_term;
    first_index_.store(new_first, std::memory_order_release);
  }
  RemoveSegmentFiles(std::move(removed));
  return Status::OK();
}

Status LogEngine::Reset(uint64_t index, uint64_t term, const StateUpdates& state) {
  port::MutexLock w(&write_mu_);
  RAFTLOG_RETURN_IF_ERROR(CheckWritable());
  MetaStore::Batch batch;
  batch.Put(kStartKey, EncodeStart(index + 1, term));
  batch.Put(kGenerationKey, Counter(kGenerationKey, generation_ + 1));
  for (const auto& [k, v] : state) batch.Put(std::string(kStatePrefix) + k, v);
  {
    port::MutexLock lock(&state_mu_);
    for (const auto& [k, v] : state) lazy_state_.erase(k);
  }
  {
    port::ReaderLock lock(&mu_);
    for (const auto& seg : segments_) batch.Delete(SegmentKey(seg->id()));
  }
  Status s = CommitMeta(&batch);
  if (!s.ok()) return s;
  generation_++;
  std::vector<std::unique_ptr<Segment>> removed;
  {
    port::WriterLock lock(&mu_);
    removed = std::move(segments_);
    segments_.clear();
    term_runs_.clear();
    prev_term_ = term;
    first_index_.store(index + 1, std::memory_order_release);
    last_index_.store(index, std::memory_order_release);
  }
  active_ = nullptr;
  {
    port::MutexLock lock(&sync_mu_);
    sync_file_ = nullptr;
  }
  RemoveSegmentFiles(std::move(removed));
  return Status::OK();
}

Status LogEngine::PutState(const StateUpdates& state) {
  port::MutexLock w(&write_mu_);
  RAFTLOG_RETURN_IF_ERROR(CheckWritable());
  MetaStore::Batch batch;
  for (const auto& [k, v] : state) batch.Put(std::string(kStatePrefix) + k, v);
  // A value written now supersedes a lazy one under the same key.
  {
    port::MutexLock lock(&state_mu_);
    for (const auto& [k, v] : state) lazy_state_.erase(k);
  }
  return CommitMeta(&batch);
}

void LogEngine::PutStateLazy(std::string key, std::string value) {
  port::MutexLock lock(&state_mu_);
  lazy_state_[std::move(key)] = std::move(value);
}

Status LogEngine::Sync() {
  port::MutexLock w(&write_mu_);
  RAFTLOG_RETURN_IF_ERROR(CheckWritable());
  if (active_ == nullptr) return Status::OK();
  Status s = active_->file()->Sync();
  counters_->log_syncs++;
  if (!s.ok()) Fail(s);
  if (s.ok()) durable_offset_ = write_offset_;
  return s;
}

void LogEngine::SyncLoop() {
  port::MutexLock lock(&sync_mu_);
  while (!sync_stop_) {
    sync_cv_.WaitFor(options_.sync_interval);
    if (sync_stop_) break;
    std::shared_ptr<io::File> file = sync_file_;
    if (file == nullptr) continue;
    // Every byte written so far was written before this fdatasync starts.
    const uint64_t target = sync_written_;
    sync_mu_.Unlock();
    Status s = file->Sync();
    counters_->log_syncs++;
    if (!s.ok()) Fail(s);
    sync_mu_.Lock();
    if (s.ok() && sync_file_ == file) sync_durable_ = std::max(sync_durable_, target);
  }
}

}  // namespace raftlog::engine
