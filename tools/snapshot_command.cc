// raftlog snapshot inspect|verify|extract FILE-or-DIR: one snapshot file's
// header (index, term, ConfState, sizes, checksums), a full verification of
// its data, or its data extracted to a file. Reads through the public
// snapshot API (SnapshotReader, SnapshotStore read-only); never changes the
// snapshot or the log.
//
// FILE is a .snap file. DIR is a log directory (its snapshots/ is used) or a
// snapshot directory: inspect and verify take every file named like a
// snapshot in it, extract the newest valid one.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "raftlog/format/meta_records.h"
#include "raftlog/io/file_system.h"
#include "raftlog/snapshot/snapshot_reader.h"
#include "raftlog/snapshot/snapshot_store.h"
#include "tools/command.h"
#include "tools/json.h"
#include "tools/log_dir.h"
#include "tools/output.h"
#include "tools/snapshots.h"
#include "tools/text.h"

namespace raftlog::tools {

namespace {

struct SnapshotOptions {
  std::string action;  // inspect, verify, extract
  std::string target;
  std::string out;
  std::string format = "text";
};

// One file's findings.
struct FileReport {
  std::string path;
  std::string name;
  bool opened = false;  // header and trailer read and checked
  snapshot::SnapshotInfo info;
  uint32_t block_bytes = 0;
  uint64_t blocks = 0;
  bool data_verified = false;  // every block and the whole-data checksum
  Status status;               // what is wrong, if anything
};

std::string Hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// The snapshot files `target` names, as paths; or an error.
Result<std::vector<std::string>> Resolve(io::FileSystem* fs, const std::string& target,
                                         bool newest_only) {
  if (!fs->Exists(target)) return Status::NotFound(target + ": no such file or directory");
  RAFTLOG_ASSIGN_OR_RETURN(const bool is_dir, fs->IsDirectory(target));
  if (!is_dir) return std::vector<std::string>{target};
  std::string dir = target;
  const std::string sub = io::JoinPath(target, kSnapshotsDir);
  if (fs->Exists(sub)) dir = sub;
  snapshot::SnapshotStore::Options options;
  options.read_only = true;
  RAFTLOG_ASSIGN_OR_RETURN(auto store, snapshot::SnapshotStore::Open(fs, dir, options));
  RAFTLOG_ASSIGN_OR_RETURN(const snapshot::SnapshotListing listing, store->Scan());
  std::vector<std::string> paths;
  if (newest_only) {
    if (listing.snapshots.empty()) {
      return Status::NotFound(dir + ": no valid snapshot file" +
                              (listing.damaged.empty()
                                   ? std::string()
                                   : " (" + std::to_string(listing.damaged.size()) + " damaged)"));
    }
    paths.push_back(io::JoinPath(dir, listing.snapshots.front().name));
    return paths;
  }
  // Oldest first, damaged ones in their place by name.
  for (auto it = listing.snapshots.rbegin(); it != listing.snapshots.rend(); ++it) {
    paths.push_back(io::JoinPath(dir, it->name));
  }
  for (const snapshot::DamagedSnapshot& d : listing.damaged) {
    paths.push_back(io::JoinPath(dir, d.name));
  }
  if (paths.empty()) return Status::NotFound(dir + ": no snapshot files");
  return paths;
}

// Reads every block (verifying each and the whole-data checksum), handing
// each to `sink` if given.
Status ReadAll(snapshot::SnapshotReader* reader,
               const std::function<Status(std::string_view)>& sink) {
  for (;;) {
    RAFTLOG_ASSIGN_OR_RETURN(const std::string_view chunk, reader->ReadChunk());
    if (chunk.empty()) return Status::OK();
    if (sink) RAFTLOG_RETURN_IF_ERROR(sink(chunk));
  }
}

FileReport Examine(io::FileSystem* fs, const std::string& path, bool verify) {
  FileReport r;
  r.path = path;
  const size_t slash = path.find_last_of('/');
  r.name = slash == std::string::npos ? path : path.substr(slash + 1);
  auto reader = snapshot::SnapshotReader::Open(fs, path);
  if (!reader.ok()) {
    r.status = reader.status();
    return r;
  }
  r.opened = true;
  r.info = (*reader)->info();
  r.block_bytes = (*reader)->block_bytes();
  r.blocks = (*reader)->block_count();
  if (verify) {
    r.status = ReadAll(reader->get(), nullptr);
    r.data_verified = r.status.ok();
  }
  return r;
}

std::string ConfText(const std::string& bytes) {
  if (bytes.empty()) return "none";
  auto cs = format::DecodeConfState(bytes);
  if (!cs.ok()) return "undecodable (" + std::to_string(bytes.size()) + " bytes)";
  return ConfStateText(*cs);
}

Json ConfJson(const std::string& bytes) {
  if (bytes.empty()) return nullptr;
  auto cs = format::DecodeConfState(bytes);
  if (!cs.ok()) return Json{{"error", std::string(cs.status().message())}};
  return ConfStateJson(*cs);
}

Json ReportJson(const FileReport& r, bool verify) {
  Json j{{"path", r.path}, {"name", r.name}, {"ok", r.status.ok()}};
  if (r.opened) {
    j["index"] = r.info.meta.index;
    j["term"] = r.info.meta.term;
    j["conf_state"] = ConfJson(r.info.meta.conf_state);
    j["data_bytes"] = r.info.data_bytes;
    j["file_bytes"] = r.info.file_bytes;
    j["block_bytes"] = r.block_bytes;
    j["blocks"] = r.blocks;
    j["data_checksum"] = Hex64(r.info.data_checksum);
  }
  j["checksums"] = Json{{"header_and_trailer", r.opened ? "ok" : "bad"},
                        {"data", !verify           ? "not read"
                                 : r.data_verified ? "ok"
                                                   : "bad"}};
  j["error"] = r.status.ok() ? Json(nullptr) : Json(std::string(r.status.message()));
  return j;
}

void ReportText(const FileReport& r, bool verify, Output* out) {
  auto row = [&](std::string_view key, const std::string& value) {
    std::string line = "  " + std::string(key);
    line.resize(std::max<size_t>(line.size() + 1, 18), ' ');
    out->Line(line + value);
  };
  out->Line(r.path);
  if (r.opened) {
    row("index", std::to_string(r.info.meta.index));
    row("term", std::to_string(r.info.meta.term));
    row("conf state", ConfText(r.info.meta.conf_state));
    row("data", std::to_string(r.info.data_bytes) + " bytes (" + HumanBytes(r.info.data_bytes) +
                    ") in " + std::to_string(r.blocks) + " block(s) of up to " +
                    HumanBytes(r.block_bytes));
    row("file", std::to_string(r.info.file_bytes) + " bytes");
    row("data checksum", Hex64(r.info.data_checksum) + " (XXH3-64 of the data, from the trailer)");
  }
  std::string checks = std::string("header and trailer ") + (r.opened ? "ok" : "BAD");
  if (r.opened) {
    checks += !verify           ? "; data not read (raftlog snapshot verify reads it)"
              : r.data_verified ? "; every block and the data checksum ok"
                                : "; data BAD";
  }
  row("checksums", checks);
  if (!r.status.ok()) row("error", std::string(r.status.message()));
}

// Streams the verified data of `path` into out_path.tmp, syncs it, and
// renames it to out_path only once every block and the whole-data checksum
// have been checked: a damaged snapshot leaves no file at out_path.
Status Extract(io::FileSystem* fs, const std::string& path, const std::string& out_path,
               FileReport* report) {
  if (fs->Exists(out_path)) {
    return Status::InvalidArgument("--out " + out_path + ": already exists; not overwritten");
  }
  RAFTLOG_ASSIGN_OR_RETURN(auto reader, snapshot::SnapshotReader::Open(fs, path));
  report->opened = true;
  report->info = reader->info();
  report->block_bytes = reader->block_bytes();
  report->blocks = reader->block_count();
  const std::string tmp = out_path + ".tmp";
  RAFTLOG_ASSIGN_OR_RETURN(auto file, fs->Open(tmp, io::OpenMode::kCreateExclusive));
  uint64_t offset = 0;
  Status s = ReadAll(reader.get(), [&](std::string_view chunk) {
    const std::string_view pieces[] = {chunk};
    RAFTLOG_RETURN_IF_ERROR(file->PWrite(offset, pieces));
    offset += chunk.size();
    return Status::OK();
  });
  if (s.ok()) s = file->Sync();
  file.reset();
  if (s.ok()) s = fs->Rename(tmp, out_path);
  if (!s.ok()) {
    (void)fs->Remove(tmp);  // best effort: the error below is what matters
    return s;
  }
  report->data_verified = true;
  const size_t slash = out_path.find_last_of('/');
  return fs->SyncDir(slash == std::string::npos ? "." : out_path.substr(0, slash + (slash == 0)));
}

int RunSnapshot(const SnapshotOptions& opt) {
  const std::string cmd = "snapshot " + opt.action;
  io::FileSystem* fs = io::FileSystem::Default();
  const bool extract = opt.action == "extract";
  if (extract && opt.out.empty()) {
    std::fprintf(stderr, "raftlog %s: --out PATH is required\n", cmd.c_str());
    return kExitUsage;
  }
  auto paths = Resolve(fs, opt.target, /*newest_only=*/extract);
  if (!paths.ok()) return ReportError(cmd, paths.status());

  const bool verify = opt.action != "inspect";
  std::vector<FileReport> reports;
  Status extract_status;
  if (extract) {
    FileReport r;
    r.path = paths->front();
    r.name = r.path.substr(r.path.find_last_of('/') + 1);
    extract_status = Extract(fs, r.path, opt.out, &r);
    r.status = extract_status;
    reports.push_back(std::move(r));
  } else {
    for (const std::string& p : *paths) reports.push_back(Examine(fs, p, verify));
  }

  Output out;
  if (opt.format == "json") {
    Json list = Json::array();
    for (const FileReport& r : reports) list.push_back(ReportJson(r, verify));
    Json j{{"action", opt.action}, {"target", opt.target}, {"snapshots", std::move(list)}};
    if (extract) {
      j["out"] = opt.out;
      j["extracted_bytes"] = extract_status.ok() ? Json(reports.front().info.data_bytes) : Json();
    }
    out.Line(DumpJson(j, /*pretty=*/true));
  } else {
    for (const FileReport& r : reports) ReportText(r, verify, &out);
    if (extract && extract_status.ok()) {
      out.Line("extracted " + std::to_string(reports.front().info.data_bytes) + " bytes to " +
               opt.out + " (verified: every block and the data checksum)");
    }
  }
  out.Flush();
  if (!out.ok()) {
    std::fprintf(stderr, "raftlog %s: cannot write the output\n", cmd.c_str());
    return kExitCannotOpen;
  }
  int code = kExitOk;
  for (const FileReport& r : reports) {
    if (r.status.ok()) continue;
    // One line on stderr per problem; the worst exit code wins (damage 1
    // unless something could not be opened at all, 3).
    const int c = ReportError(cmd, r.status);
    if (r.status.IsInvalidArgument())
      code = std::max(code, int{kExitProblems});
    else
      code = std::max(code, c);
  }
  return code;
}

}  // namespace

Command AddSnapshotCommand(CLI::App* root) {
  auto opt = std::make_shared<SnapshotOptions>();
  CLI::App* app = root->add_subcommand(
      "snapshot",
      "Inspect, verify or extract a snapshot file. FILE is a .snap file; DIR a log directory "
      "(its snapshots/) or a snapshot directory: inspect and verify take every snapshot file "
      "in it, extract the newest valid one. Read-only: changes neither the snapshot nor the "
      "log.");
  app->add_option("ACTION", opt->action,
                  "inspect: the header (index, term, ConfState, sizes, checksums of header and "
                  "trailer); verify: also every data block and the whole-data checksum; "
                  "extract: the verified data to --out")
      ->required()
      ->check(CLI::IsMember({"inspect", "verify", "extract"}));
  app->add_option("TARGET", opt->target, "A snapshot file, a log directory or a snapshot directory")
      ->required();
  app->add_option("--out", opt->out,
                  "extract: the file to write (must not exist; written as PATH.tmp, synced, "
                  "renamed once verified)");
  app->add_option("--format", opt->format, "Output format (JSON is documented in docs/tools.md)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  return Command{app, [opt] { return RunSnapshot(*opt); }};
}

}  // namespace raftlog::tools
