// raftlog backup DIR DEST: a consistent, verified copy of a log, which may
// be open by a live writer, in the manner of mdb_copy and etcdctl snapshot
// save. The engine exposes no copy of its own, so:
//
//   1. the engine's verdict on DIR (refused logs are not backed up) gives
//      the entries it serves now;
//   2. the metadata is read (every key, in one read transaction:
//      MetaStore::ReadAll) and written as it is into DEST.tmp/meta.mdb: the
//      manifest, HardState and snapshot metadata of one moment;
//   3. every segment that manifest lists is copied: a sealed one whole (a
//      sealed segment never changes); the active one up to the end of its
//      last complete frame, as recovery's scan finds it, and zeros after
//      (a frame being written is left out, so the copy has no torn tail).
//      A writer only appends after the moment of step 2, so the copy holds
//      every entry that metadata refers to;
//   4. the snapshot files up to the one the metadata names (which must be
//      among them; newer ones were written after the moment of step 2);
//   5. the copy is verified: every check of `raftlog verify` with no error,
//      the engine opens it strictly (nothing to cut), no committed entry
//      missing, its first index and HardState those of the metadata read in
//      step 2, and its last index at least the one of step 1;
//   6. DEST.tmp is renamed to DEST, and DEST's parent directory synced.
// Everything is written to DEST.tmp, synced before the rename, so a failure
// or a crash leaves no DEST that looks valid. If the writer compacts away a
// segment or prunes a snapshot between steps 2 and 4, the attempt is
// discarded and made again (three attempts in all).

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "raftlog/engine/dir_scan.h"
#include "raftlog/engine/meta_store.h"
#include "raftlog/engine/segment_reader.h"
#include "raftlog/engine/segment_scan.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/io/file_system.h"
#include "raftlog/snapshot/snapshot_store.h"
#include "tools/command.h"
#include "tools/engine_verdict.h"
#include "tools/findings.h"
#include "tools/json.h"
#include "tools/log_checker.h"
#include "tools/log_dir.h"
#include "tools/output.h"
#include "tools/snapshots.h"
#include "tools/text.h"

namespace raftlog::tools {

namespace {

constexpr int kAttempts = 3;
constexpr size_t kCopyChunk = size_t{4} << 20;

struct BackupOptions {
  std::string dir;
  std::string dest;
  std::string format = "text";
};

struct BackupSummary {
  uint64_t first_index = 0;
  uint64_t last_index = 0;
  std::optional<format::HardStateRecord> hard_state;
  uint64_t segments = 0;
  uint64_t segment_bytes = 0;  // bytes copied from segment files
  uint64_t snapshot_files = 0;
  uint64_t warnings = 0;  // of the copy's verification
};

// A failure that a second attempt may not meet: the writer moved on (a
// segment compacted away, a snapshot pruned) between reading the metadata
// and copying the files.
struct AttemptError {
  Status status;
  bool retry = false;
};

std::string Parent(const std::string& path) {
  const std::filesystem::path p = std::filesystem::path(path).parent_path();
  return p.empty() ? "." : p.string();
}

// Copies the first `len` bytes of src into a new file dst (never an
// existing one) of `size` bytes (zeros after len), and syncs it.
Status CopyPrefix(io::FileSystem* fs, const std::string& src, const std::string& dst, uint64_t len,
                  uint64_t size) {
  RAFTLOG_ASSIGN_OR_RETURN(auto in, fs->Open(src, io::OpenMode::kReadOnly));
  RAFTLOG_ASSIGN_OR_RETURN(auto out, fs->Open(dst, io::OpenMode::kCreateExclusive));
  std::unique_ptr<char[]> buf(new char[kCopyChunk]);
  for (uint64_t at = 0; at < len;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kCopyChunk, len - at));
    RAFTLOG_ASSIGN_OR_RETURN(const std::string_view got, in->PRead(at, n, buf.get()));
    if (got.size() != n) {
      return Status::IOError(src + ": shorter than expected (" + std::to_string(at + got.size()) +
                             " bytes, wanted " + std::to_string(len) + ")");
    }
    const std::string_view pieces[] = {got};
    RAFTLOG_RETURN_IF_ERROR(out->PWrite(at, pieces));
    at += n;
  }
  if (size > len) RAFTLOG_RETURN_IF_ERROR(out->Truncate(size));
  return out->Sync();
}

// One attempt: DEST.tmp made from scratch.
Result<BackupSummary> Attempt(io::FileSystem* fs, const BackupOptions& opt, const std::string& tmp,
                              bool* retry) {
  *retry = false;
  // 1. What the engine serves now.
  const EngineVerdict before = JudgeWithEngine(opt.dir);
  if (before.refused()) return before.open_status;
  RAFTLOG_ASSIGN_OR_RETURN(auto src, LogDir::Open(fs, opt.dir));

  // 2. The metadata of one moment: every key as of one commit (one read
  // transaction).
  RAFTLOG_ASSIGN_OR_RETURN(const auto pairs, src->meta().ReadAll());
  RAFTLOG_RETURN_IF_ERROR(fs->CreateDir(tmp));
  RAFTLOG_RETURN_IF_ERROR(fs->CreateDir(io::JoinPath(tmp, kSegmentsDir)));
  RAFTLOG_RETURN_IF_ERROR(fs->CreateDir(io::JoinPath(tmp, kSnapshotsDir)));
  std::optional<format::HardStateRecord> source_hs;
  {
    RAFTLOG_ASSIGN_OR_RETURN(auto meta, engine::MetaStore::Open(io::JoinPath(tmp, kMetaFile)));
    engine::MetaStore::Batch batch;
    for (const auto& [key, value] : pairs) {
      batch.Put(key, value);
      if (key == kHardStateKey) {
        auto hs = format::DecodeHardState(value);
        if (hs.ok()) source_hs = *hs;
      }
    }
    RAFTLOG_RETURN_IF_ERROR(meta->Write(batch));
  }
  RAFTLOG_ASSIGN_OR_RETURN(auto copy, LogDir::Open(fs, tmp));
  RAFTLOG_ASSIGN_OR_RETURN(const LogMetadata meta, copy->ReadMetadata(nullptr));
  RAFTLOG_RETURN_IF_ERROR(meta.problem);

  // 3. The segments that metadata lists, and the spare continuing its
  // active segment if a background seal had not committed at that moment
  // (recovery adopts it, engine::FindSuccessor; the copy is opened the same
  // way in step 5).
  BackupSummary summary;
  std::vector<format::SegmentRecord> segments = meta.segments;
  const size_t listed = segments.size();
  for (size_t k = 0; k < segments.size(); ++k) {
    const format::SegmentRecord r = segments[k];
    const std::string from = src->SegmentPath(r);
    const std::string to = copy->SegmentPath(r);
    if (!fs->Exists(from)) {
      *retry = true;
      return Status::NotFound(from + ": removed while being copied (the log was compacted)");
    }
    RAFTLOG_ASSIGN_OR_RETURN(auto reader,
                             engine::SegmentReader::Open(fs, from, format::SegmentRecordFileName(r)));
    RAFTLOG_ASSIGN_OR_RETURN(auto in, fs->Open(from, io::OpenMode::kReadOnly));
    RAFTLOG_ASSIGN_OR_RETURN(const uint64_t size, in->Size());
    uint64_t len = size;
    if (r.state == format::SegmentState::kActive) {
      // Up to the end of the last complete frame: a frame being written now
      // is the writer's progress, not part of the state copied.
      RAFTLOG_ASSIGN_OR_RETURN(const engine::SegmentScan scan,
                               engine::ScanSegment(reader.get(), r));
      len = scan.header.has_value() ? scan.good_end : 0;
      if (k + 1 == listed && meta.next_segment_id.has_value()) {
        RAFTLOG_ASSIGN_OR_RETURN(
            const engine::SpareHeaders spares,
            engine::FindSuccessor(fs, src->Path(kSegmentsDir), *meta.next_segment_id,
                                  r.generation, scan.last_index + 1));
        if (spares.successor.has_value()) segments.push_back(*spares.successor);
      }
    }
    RAFTLOG_RETURN_IF_ERROR(CopyPrefix(fs, from, to, len, size));
    summary.segments++;
    summary.segment_bytes += len;
  }
  RAFTLOG_RETURN_IF_ERROR(fs->SyncDir(io::JoinPath(tmp, kSegmentsDir)));

  // 4. The snapshot files.
  auto store = OpenSnapshotsReadOnly(*src);
  if (!store.ok()) return store.status();
  if (*store != nullptr) {
    RAFTLOG_ASSIGN_OR_RETURN(const auto listing, (*store)->Scan());
    for (const snapshot::SnapshotInfo& s : listing.snapshots) {
      // A snapshot newer than the one the copied metadata names was written
      // after that moment (its metadata commit came later, or never): not
      // part of the state copied, and DiskStorage would delete it.
      if (!meta.snapshot.has_value() || s.meta.index > meta.snapshot->index) continue;
      const std::string from = io::JoinPath((*store)->dir(), s.name);
      auto in = fs->Open(from, io::OpenMode::kReadOnly);
      if (!in.ok() && in.status().IsNotFound()) continue;  // pruned meanwhile: checked below
      if (!in.ok()) return in.status();
      RAFTLOG_ASSIGN_OR_RETURN(const uint64_t size, (*in)->Size());
      RAFTLOG_RETURN_IF_ERROR(
          CopyPrefix(fs, from, io::JoinPath(io::JoinPath(tmp, kSnapshotsDir), s.name), size, size));
      summary.snapshot_files++;
    }
  }
  if (meta.snapshot.has_value() && !meta.snapshot->file_name.empty() &&
      !fs->Exists(io::JoinPath(io::JoinPath(tmp, kSnapshotsDir), meta.snapshot->file_name))) {
    *retry = true;
    return Status::NotFound("snapshot file " + meta.snapshot->file_name +
                            " named by the metadata was removed while being copied");
  }
  RAFTLOG_RETURN_IF_ERROR(fs->SyncDir(io::JoinPath(tmp, kSnapshotsDir)));
  RAFTLOG_RETURN_IF_ERROR(fs->SyncDir(tmp));
  copy.reset();

  // 5. The copy, verified.
  LogChecker checker(fs, tmp, nullptr);
  checker.Run();
  const EngineVerdict& after = checker.verdict();
  for (const Finding& f : checker.findings().all()) {
    if (f.severity == Severity::kError) {
      *retry = true;  // a frame rewritten under the copy shows here
      return Status::Corruption("the copy does not verify: " + FormatFinding(f));
    }
  }
  summary.warnings = checker.findings().all().size();
  auto fail = [&](const std::string& what) {
    *retry = true;
    return Status::Corruption("the copy does not verify: " + what);
  };
  if (after.refused()) return fail(std::string(after.open_status.message()));
  if (!after.nothing_cut) return fail("the engine would cut a torn tail off it");
  if (after.committed_missing() > 0) return fail(after.CommittedMissingText());
  if (meta.first_index.has_value() && after.first_index != *meta.first_index) {
    return fail("it starts at index " + std::to_string(after.first_index) +
                ", the metadata copied at " + std::to_string(*meta.first_index));
  }
  if (after.last_index < before.last_index) {
    return fail("it ends at index " + std::to_string(after.last_index) + ", before " +
                std::to_string(before.last_index) + ", the log's last entry when the backup began");
  }
  RAFTLOG_ASSIGN_OR_RETURN(auto reopened, LogDir::Open(fs, tmp));
  RAFTLOG_ASSIGN_OR_RETURN(const LogMetadata copied, reopened->ReadMetadata(nullptr));
  if (copied.hard_state != source_hs) return fail("its HardState differs from the log's");
  summary.first_index = after.first_index;
  summary.last_index = after.last_index;
  summary.hard_state = copied.hard_state;
  return summary;
}

int RunBackup(const BackupOptions& opt) {
  io::FileSystem* fs = io::FileSystem::Default();
  std::string dest = opt.dest;
  while (dest.size() > 1 && dest.back() == '/') dest.pop_back();
  const std::string tmp = dest + ".tmp";
  // Refused, not a failure to open: exit 1 (docs/tools.md).
  if (fs->Exists(dest)) {
    ReportError("backup", Status::InvalidArgument(
                              dest + ": already exists; a backup is never written over anything"));
    return kExitProblems;
  }
  if (fs->Exists(tmp)) {
    ReportError("backup", Status::InvalidArgument(
                              tmp + ": already exists (a backup that stopped part way?); remove "
                                    "it first"));
    return kExitProblems;
  }
  if (!fs->Exists(Parent(dest))) {
    return ReportError("backup", Status::NotFound(Parent(dest) + ": no such directory"));
  }
  Status s = LogDir::CheckIsLogDir(fs, opt.dir);
  if (!s.ok()) return ReportError("backup", s);

  Result<BackupSummary> result = Status::IOError("no attempt made");
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    bool retry = false;
    result = Attempt(fs, opt, tmp, &retry);
    if (result.ok()) break;
    std::error_code ec;
    std::filesystem::remove_all(tmp, ec);  // never leave a half copy behind
    // A file that vanished under the copy (compacted, pruned) between two
    // of its opens is the writer moving on too.
    if (!retry && !result.status().IsNotFound()) break;
  }
  if (!result.ok()) return ReportError("backup", result.status());
  s = fs->Rename(tmp, dest);
  if (s.ok()) s = fs->SyncDir(Parent(dest));
  if (!s.ok()) {
    std::error_code ec;
    std::filesystem::remove_all(tmp, ec);
    return ReportError("backup", s);
  }

  const BackupSummary& b = *result;
  Output out;
  if (opt.format == "json") {
    Json j{{"dir", opt.dir},
           {"dest", dest},
           {"first_index", b.first_index},
           {"last_index", b.last_index},
           {"segments", b.segments},
           {"segment_bytes_copied", b.segment_bytes},
           {"snapshot_files", b.snapshot_files},
           {"verified", true},
           {"warnings", b.warnings}};
    j["hard_state"] = b.hard_state.has_value() ? Json{{"term", b.hard_state->term},
                                                      {"vote", b.hard_state->vote},
                                                      {"commit", b.hard_state->commit}}
                                               : Json(nullptr);
    out.Line(DumpJson(j, /*pretty=*/true));
  } else {
    out.Line("backup of " + opt.dir + " in " + dest);
    out.Line("entries         " + std::to_string(b.first_index) + " .. " +
             std::to_string(b.last_index));
    out.Line("hard state      " + (b.hard_state.has_value()
                                       ? "term " + std::to_string(b.hard_state->term) + ", vote " +
                                             std::to_string(b.hard_state->vote) + ", commit " +
                                             std::to_string(b.hard_state->commit)
                                       : std::string("none")));
    out.Line("copied          " + std::to_string(b.segments) + " segment(s), " +
             HumanBytes(b.segment_bytes) + " of frames; " + std::to_string(b.snapshot_files) +
             " snapshot file(s)");
    out.Line("verified        every check of raftlog verify (" + std::to_string(b.warnings) +
             " warning(s)); the engine opens it with nothing to cut");
  }
  out.Flush();
  return out.ok() ? kExitOk : kExitCannotOpen;
}

}  // namespace

Command AddBackupCommand(CLI::App* root) {
  auto opt = std::make_shared<BackupOptions>();
  CLI::App* app = root->add_subcommand(
      "backup",
      "Copy a log, even one a writer has open, to DEST (which must not exist): the metadata of "
      "one moment, the segments it lists (the active one up to its last complete frame), the "
      "snapshot files; then verify the copy (every check of verify, the engine opens it "
      "strictly, first index and HardState as copied) before renaming DEST.tmp to DEST. A "
      "failure leaves no DEST. Takes no lock and changes nothing in DIR.");
  app->add_option("DIR", opt->dir, "The log directory")->required();
  app->add_option("DEST", opt->dest, "Where the copy goes (must not exist)")->required();
  app->add_option("--format", opt->format, "Output format (JSON is documented in docs/tools.md)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  return Command{app, [opt] { return RunBackup(*opt); }};
}

}  // namespace raftlog::tools
