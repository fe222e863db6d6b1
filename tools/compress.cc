// raftlog compress DIR: rewrites every sealed segment of a log that is not
// compressed yet with zstd-compressed frames (LogEngine::CompressSegment),
// printing each segment's size before and after. Opens the log for writing:
// the log must not be open elsewhere (exit 4 if it is).

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "raftlog/engine/log_engine.h"
#include "raftlog/engine/options.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/io/file_system.h"
#include "tools/command.h"
#include "tools/json.h"
#include "tools/log_dir.h"
#include "tools/output.h"
#include "tools/text.h"

namespace raftlog::tools {

namespace {

struct CompressOptions {
  std::string dir;
  std::string format = "text";
  int level = engine::CompressSegmentOptions{}.level;
  double max_ratio = engine::CompressSegmentOptions{}.max_ratio;
};

const char* OutcomeName(engine::CompressSegmentResult::Outcome o) {
  using Outcome = engine::CompressSegmentResult::Outcome;
  switch (o) {
    case Outcome::kCompressed:
      return "compressed";
    case Outcome::kNotWorthIt:
      return "kept raw (does not shrink enough)";
    case Outcome::kAlreadyCompressed:
      return "already compressed";
    case Outcome::kChanged:
      return "skipped (changed meanwhile)";
  }
  return "?";
}

double Ratio(uint64_t raw, uint64_t compressed) {
  return compressed == 0 ? 0.0 : static_cast<double>(raw) / static_cast<double>(compressed);
}

int RunCompress(const CompressOptions& opt) {
  io::FileSystem* fs = io::FileSystem::Default();
  Status s = LogDir::CheckIsLogDir(fs, opt.dir);
  if (!s.ok()) return ReportError("compress", s);
  engine::Options options;
  options.create_if_missing = false;
  // An offline rewrite appends nothing: no spare segment is prepared. And
  // it rewrites the segments itself, one by one as asked: no cold worker
  // racing it for them.
  options.prepared_segments = 0;
  options.compression_mode = engine::CompressionMode::kOff;
  auto opened = engine::LogEngine::Open(opt.dir, options);
  if (!opened.ok()) return ReportError("compress", opened.status());
  engine::LogEngine& log = **opened;

  engine::CompressSegmentOptions how;
  how.level = opt.level;
  how.max_ratio = opt.max_ratio;
  Output out;
  Json segments = Json::array();
  uint64_t raw_total = 0, compressed_total = 0, done = 0;
  Status error;
  for (const format::SegmentRecord& r : log.SegmentRecords()) {
    if (r.state != format::SegmentState::kSealed || r.compressed()) continue;
    auto result = log.CompressSegment(r.segment_id, how);
    if (!result.ok()) {
      error = result.status().WithContext(format::SegmentRecordRelPath(r));
      break;
    }
    const bool compressed = result->outcome == engine::CompressSegmentResult::Outcome::kCompressed;
    if (compressed) {
      ++done;
      raw_total += result->raw_bytes;
      compressed_total += result->compressed_bytes;
    }
    // A rewrite given up on a sample reports the sample's bytes and ratio.
    const uint64_t sampled = result->sampled_raw_bytes;
    const uint64_t from = sampled != 0 ? sampled : result->raw_bytes;
    const double ratio = Ratio(from, result->compressed_bytes);
    if (opt.format == "json") {
      Json row{{"id", r.segment_id},
               {"file", format::SegmentRecordRelPath(r)},
               {"outcome", OutcomeName(result->outcome)},
               {"raw_bytes", result->raw_bytes},
               {"compressed_bytes", result->compressed_bytes},
               {"ratio", ratio}};
      if (sampled != 0) row["sampled_raw_bytes"] = sampled;
      segments.push_back(std::move(row));
    } else {
      out.Line(format::SegmentRecordRelPath(r) + ": " + std::to_string(result->raw_bytes) +
               (sampled != 0 ? " bytes, its first " + std::to_string(sampled) : std::string()) +
               " -> " + std::to_string(result->compressed_bytes) + " bytes (ratio " +
               Fixed(ratio, 2) + "): " + OutcomeName(result->outcome));
    }
  }
  const Status closed = log.Close();
  if (error.ok() && !closed.ok()) error = closed;
  if (opt.format == "json") {
    out.Line(DumpJson(Json{{"dir", opt.dir},
                           {"ok", error.ok()},
                           {"segments", std::move(segments)},
                           {"compressed", done},
                           {"raw_bytes", raw_total},
                           {"compressed_bytes", compressed_total},
                           {"ratio", Ratio(raw_total, compressed_total)}},
                      /*pretty=*/true));
  } else {
    out.Line("compressed " + std::to_string(done) + " segments: " + HumanBytes(raw_total) +
             " -> " + HumanBytes(compressed_total) +
             (done > 0 ? " (ratio " + Fixed(Ratio(raw_total, compressed_total), 2) + ")" : ""));
  }
  out.Flush();
  if (!error.ok()) return ReportError("compress", error);
  return kExitOk;
}

}  // namespace

Command AddCompressCommand(CLI::App* root) {
  auto opt = std::make_shared<CompressOptions>();
  CLI::App* app = root->add_subcommand(
      "compress",
      "Rewrite every sealed segment that is not compressed yet with zstd-compressed frames "
      "(docs/format.md, compressed segments), printing each one's bytes before and after; a "
      "segment that does not shrink below --max-ratio of its size stays raw. Opens the log for "
      "writing: it must not be open elsewhere (exit 4). The active segment is never touched.");
  app->add_option("DIR", opt->dir, "The log directory")->required();
  app->add_option("--level", opt->level, "zstd level of the rewritten frames")
      ->check(CLI::Range(-7, 19));
  app->add_option("--max-ratio", opt->max_ratio,
                  "Keep a rewrite only if it is at most this fraction of the raw size")
      ->check(CLI::Range(0.01, 1.0));
  app->add_option("--format", opt->format, "Output format")
      ->check(CLI::IsMember({"text", "json"}));
  return Command{app, [opt] { return RunCompress(*opt); }};
}

}  // namespace raftlog::tools
