// raftlog verify DIR: a full check of every file of a log (LogChecker),
// reporting each problem with its file and offset. Read-only.

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "raftlog/io/file_system.h"
#include "tools/command.h"
#include "tools/json.h"
#include "tools/log_checker.h"
#include "tools/log_dir.h"
#include "tools/numbers.h"
#include "tools/output.h"
#include "tools/progress.h"
#include "tools/text.h"

namespace raftlog::tools {

namespace {

struct VerifyOptions {
  std::string dir;
  std::string format = "text";
  bool strict = false;
  bool no_progress = false;
  // How long a finding a live writer's progress would explain waits for
  // that progress (LogChecker::set_writer_patience).
  double writer_patience_seconds = 2;
};

// ", K compressed (ratio R)": the form of the sealed segments, when any was
// rewritten compressed; the ratio is against the raw files they replaced.
std::string CompressedText(const CheckSummary& sum) {
  if (sum.compressed_segments == 0) return "";
  const double ratio = sum.compressed_bytes == 0 ? 0.0
                                                 : static_cast<double>(sum.compressed_raw_bytes) /
                                                       static_cast<double>(sum.compressed_bytes);
  return ", " + std::to_string(sum.compressed_segments) + " compressed (" +
         HumanBytes(sum.compressed_raw_bytes) + " raw -> " + HumanBytes(sum.compressed_bytes) +
         ", ratio " + Fixed(ratio, 2) + ")";
}

int RunVerify(const VerifyOptions& opt) {
  io::FileSystem* fs = io::FileSystem::Default();
  Status s = LogDir::CheckIsLogDir(fs, opt.dir);
  if (!s.ok()) return ReportError("verify", s);

  Progress progress("verifying", LogChecker::EstimateBytes(fs, opt.dir), !opt.no_progress);
  LogChecker checker(fs, opt.dir, &progress);
  checker.set_writer_patience(std::chrono::milliseconds(
      static_cast<int64_t>(std::llround(opt.writer_patience_seconds * 1000))));
  checker.Run();
  progress.Finish();

  const Findings& findings = checker.findings();
  const CheckSummary& sum = checker.summary();
  const bool failed = findings.errors() > 0 || (opt.strict && findings.warnings() > 0);
  Output out;
  if (opt.format == "json") {
    Json list = Json::array();
    for (const Finding& f : findings.all()) {
      list.push_back(Json{{"severity", SeverityName(f.severity)},
                          {"file", f.file},
                          {"offset", f.offset.has_value() ? Json(*f.offset) : Json(nullptr)},
                          {"what", f.what},
                          {"hint", f.hint}});
    }
    Json j{
        {"dir", opt.dir},
        {"ok", !failed},
        {"errors", findings.errors()},
        {"warnings", findings.warnings()},
        {"findings", std::move(list)},
        {"checked",
         Json{{"metadata", sum.metadata_read},
              {"segments", sum.segments},
              {"sealed_segments", sum.sealed_segments},
              {"compressed_segments", sum.compressed_segments},
              {"compressed_bytes", sum.compressed_bytes},
              {"compressed_raw_bytes", sum.compressed_raw_bytes},
              {"spare_segments", sum.spare_segments},
              {"frames", sum.frames},
              {"entries", sum.entries},
              {"segment_bytes", sum.segment_bytes},
              {"snapshots", sum.snapshots},
              {"first_index", sum.first_index.has_value() ? Json(*sum.first_index) : Json(nullptr)},
              {"last_index", sum.last_index.has_value() ? Json(*sum.last_index) : Json(nullptr)},
              {"engine_open", sum.engine_checked}}}};
    out.Line(DumpJson(j, /*pretty=*/true));
  } else {
    for (const Finding& f : findings.all()) out.Line(FormatFinding(f));
    std::string range = "no entries";
    if (sum.first_index.has_value() && sum.last_index.has_value() &&
        *sum.last_index >= *sum.first_index) {
      range =
          "entries " + std::to_string(*sum.first_index) + " .. " + std::to_string(*sum.last_index);
    }
    out.Line("checked: " + std::string(sum.metadata_read ? "metadata, " : "") +
             std::to_string(sum.segments) + " segments (" + std::to_string(sum.sealed_segments) +
             " sealed" + CompressedText(sum) + "), " + std::to_string(sum.frames) + " frames, " +
             std::to_string(sum.entries) +
             (sum.metadata_read ? " live entries (" + range + "), " : " entries, ") +
             std::to_string(sum.snapshots) + " snapshots" +
             (sum.engine_checked ? ", engine open" : ""));
    out.Line(std::string(failed ? "FAILED" : "OK") + ": " + std::to_string(findings.errors()) +
             " error(s), " + std::to_string(findings.warnings()) + " warning(s)" +
             (opt.strict && findings.warnings() > 0 && findings.errors() == 0
                  ? " (warnings count as problems with --strict)"
                  : ""));
  }
  out.Flush();
  if (!out.ok()) {
    // A report that did not reach its reader must not pass for a clean one.
    std::fprintf(stderr, "raftlog verify: cannot write the output\n");
    return kExitCannotOpen;
  }
  return failed ? kExitProblems : kExitOk;
}

}  // namespace

Command AddVerifyCommand(CLI::App* root) {
  auto opt = std::make_shared<VerifyOptions>();
  CLI::App* app = root->add_subcommand(
      "verify",
      "Check every byte of a log: metadata, manifest, every segment's frames, footers and "
      "trailers, stray files, snapshot files, and their consistency; then open it read-only with "
      "the engine. Reports each problem with file and offset and keeps going. Exit 0 if no error "
      "was found (warnings are things the engine recovers from by itself), 1 otherwise. "
      "Read-only: takes no lock, changes nothing.");
  app->add_option("DIR", opt->dir, "The log directory")->required();
  app->add_option("--format", opt->format, "Output format (JSON is documented in docs/tools.md)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app->add_flag("--strict", opt->strict, "Count warnings as problems too (exit 1)");
  app->add_flag("--no-progress", opt->no_progress,
                "No progress bar on stderr (it is only drawn when stderr is a terminal)");
  app->add_option("--writer-patience", opt->writer_patience_seconds,
                  "Seconds to wait, before reporting an unfinished seal, an unlisted successor "
                  "or an unlisted segment file, for a live writer to finish it (its seal to "
                  "commit, its unlink of a compacted file to happen); 0 for a log no process "
                  "writes")
      ->check(Decimal(0, 3600))
      ->capture_default_str();
  return Command{app, [opt] { return RunVerify(*opt); }};
}

}  // namespace raftlog::tools
