// raftlog dump DIR: the log's entries, streamed in index order in constant
// memory (EntryWalker), as text, JSON Lines or hex. Read-only.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "raftlog/io/file_system.h"
#include "tools/command.h"
#include "tools/engine_verdict.h"
#include "tools/entry_decode.h"
#include "tools/entry_walker.h"
#include "tools/json.h"
#include "tools/numbers.h"
#include "tools/log_dir.h"
#include "tools/output.h"
#include "tools/salvage.h"
#include "tools/stream_decoder.h"
#include "tools/text.h"

namespace raftlog::tools {

namespace {

constexpr size_t kDefaultPreviewBytes = 48;

struct DumpOptions {
  std::string dir;
  uint64_t from = 0;
  uint64_t to = std::numeric_limits<uint64_t>::max();
  std::vector<std::string> types;
  std::string format = "text";
  size_t preview_bytes = kDefaultPreviewBytes;
  bool preview_given = false;
  bool data = false;
  uint64_t limit = std::numeric_limits<uint64_t>::max();
  bool raw = false;
  bool salvage = false;
  std::string decoder;
  double decoder_timeout_seconds = 10;
};

class DumpVisitor : public WalkVisitor {
 public:
  DumpVisitor(const DumpOptions& opt, std::set<uint8_t> types, StreamDecoder* decoder,
              Output* out)
      : opt_(opt), types_(std::move(types)), decoder_(decoder), out_(out) {}

  bool OnEntry(const format::EntryView& e) override {
    if (!types_.empty() && types_.count(e.type) == 0) return true;
    if (printed_ == opt_.limit) return false;  // --limit reached
    ++printed_;
    // --raw: the payload's bytes only, nothing decoded.
    const std::optional<ConfChangeView> cc =
        opt_.raw ? std::nullopt : DescribeConfChange(e.type, e.data);
    std::optional<std::string> decoded;
    if (decoder_ != nullptr) {
      auto answer = decoder_->Decode(e.data, e.index);
      if (!answer.ok()) {
        decoder_status_ = answer.status();
        return false;
      }
      decoded = std::move(*answer);
    }
    if (opt_.format == "json") {
      Json j{{"index", e.index},
             {"term", e.term},
             {"type", EntryTypeLabel(e.type)},
             {"size", e.data.size()},
             {"preview", Preview(e.data, opt_.preview_bytes)}};
      if (cc.has_value()) j["conf_change"] = cc->json;
      if (decoded.has_value()) j["decoded"] = *decoded;
      if (opt_.data) j["data"] = Base64(e.data);
      out_->Line(DumpJson(j, /*pretty=*/false));
    } else if (opt_.format == "hex") {
      char buf[160];
      std::snprintf(buf, sizeof(buf), "index %llu  term %llu  %s  %zu bytes",
                    static_cast<unsigned long long>(e.index),
                    static_cast<unsigned long long>(e.term), EntryTypeLabel(e.type).c_str(),
                    e.data.size());
      std::string line = buf;
      if (cc.has_value()) line += "  " + cc->text;
      if (decoded.has_value()) line += "  decoded: " + *decoded;
      out_->Line(line);
      out_->Write(HexDump(e.data, opt_.preview_given ? opt_.preview_bytes : e.data.size(), "  "));
    } else {
      char buf[128];
      std::snprintf(buf, sizeof(buf), "%-12llu %-8llu %-13s %10zu  ",
                    static_cast<unsigned long long>(e.index),
                    static_cast<unsigned long long>(e.term), EntryTypeLabel(e.type).c_str(),
                    e.data.size());
      out_->Line(buf + (decoded.has_value() ? *decoded
                        : cc.has_value()    ? cc->text
                                            : "\"" + Preview(e.data, opt_.preview_bytes) + "\""));
    }
    // Stop producing once the reader has gone away.
    return out_->ok();
  }

  uint64_t printed() const { return printed_; }
  // Why the decoder stopped the dump, if it did.
  const Status& decoder_status() const { return decoder_status_; }

 private:
  const DumpOptions& opt_;
  const std::set<uint8_t> types_;
  StreamDecoder* const decoder_;
  Status decoder_status_;
  Output* const out_;
  uint64_t printed_ = 0;
};

// --salvage: every entry that still decodes and verifies, past damage the
// engine refuses or stops at (salvage.h); each stretch skipped is named on
// stderr, and the exit code is 1 if one may have cost live entries.
int RunSalvage(const DumpOptions& opt, DumpVisitor* visitor, Output* out) {
  io::FileSystem* fs = io::FileSystem::Default();
  SalvageResult result;
  const Status s = SalvageEntries(fs, opt.dir, opt.from, opt.to, visitor, &result);
  out->Flush();
  if (out->broken_pipe()) return kExitOk;
  if (!out->ok()) {
    std::fprintf(stderr, "raftlog dump: cannot write the output\n");
    return kExitCannotOpen;
  }
  if (!s.ok()) return ReportError("dump", s);
  uint64_t lost = 0;
  for (const SkippedRange& r : result.skipped) {
    const char* kind = r.torn_write  ? "note: a torn write at the end of the log, which held no "
                                       "acknowledged entry, skipped: "
                       : r.compacted ? "note: compacted entries skipped: "
                                     : "skipped: ";
    std::fprintf(stderr, "raftlog dump: %s%s\n", kind, DescribeSkipped(r).c_str());
    if (r.lost()) ++lost;
  }
  std::fprintf(stderr,
               "raftlog dump: salvage: %llu entries printed, %llu damaged range(s) skipped%s\n",
               static_cast<unsigned long long>(visitor->printed()),
               static_cast<unsigned long long>(lost),
               lost > 0 ? " (the entries printed are only what could still be verified)" : "");
  return lost > 0 ? kExitProblems : kExitOk;
}

int RunDump(const DumpOptions& opt) {
  if (opt.from > opt.to) {
    std::fprintf(stderr, "raftlog dump: --from %llu is above --to %llu\n",
                 static_cast<unsigned long long>(opt.from),
                 static_cast<unsigned long long>(opt.to));
    return kExitUsage;
  }
  std::set<uint8_t> types;
  for (const std::string& t : opt.types) types.insert(*ParseEntryType(t));  // checked by CLI11

  if (opt.salvage) {
    if (!opt.decoder.empty()) {
      std::fprintf(stderr, "raftlog dump: --salvage cannot be combined with --decoder\n");
      return kExitUsage;
    }
    Output out;
    if (opt.format == "text") out.Line("index        term     type                size  data");
    DumpVisitor visitor(opt, std::move(types), nullptr, &out);
    return RunSalvage(opt, &visitor, &out);
  }
  io::FileSystem* fs = io::FileSystem::Default();
  auto opened = LogDir::Open(fs, opt.dir);
  if (!opened.ok()) return ReportError("dump", opened.status());
  // The engine's verdict first (see info.cc): a log it refuses is refused
  // with its message, and the dump never goes past the last entry it serves.
  const EngineVerdict verdict = JudgeWithEngine(opt.dir);
  if (verdict.refused()) return ReportError("dump", verdict.open_status);
  auto meta = (*opened)->ReadMetadata(nullptr);
  if (!meta.ok()) return ReportError("dump", meta.status());
  if (!meta->problem.ok()) return ReportError("dump", meta->problem);

  std::unique_ptr<StreamDecoder> decoder;
  if (!opt.decoder.empty()) {
    auto started = StreamDecoder::Start(
        opt.decoder, std::chrono::milliseconds(
                         static_cast<int64_t>(opt.decoder_timeout_seconds * 1000.0 + 0.5)));
    if (!started.ok()) return ReportError("dump", started.status());
    decoder = std::move(*started);
  }

  Output out;
  if (opt.format == "text") {
    out.Line(std::string("index        term     type                size  ") +
             (decoder != nullptr ? "decoded" : "data"));
  }
  DumpVisitor visitor(opt, std::move(types), decoder.get(), &out);
  EntryWalker walker(opened->get(), &*meta);
  WalkResult result;
  const uint64_t to = std::min(opt.to, verdict.last_index);
  const Status s =
      opt.from > to ? Status::OK() : walker.Walk(opt.from, to, /*seek=*/true, &visitor, &result);
  // A decoder that failed ends the dump with its error; one that did its
  // part must still end cleanly.
  Status decoder_status = visitor.decoder_status();
  if (decoder != nullptr && decoder_status.ok() && !out.broken_pipe()) {
    decoder_status = decoder->Finish();
  }
  decoder.reset();
  out.Flush();
  if (out.broken_pipe()) return kExitOk;  // `| head`: the reader has what it wanted
  if (!out.ok()) {
    std::fprintf(stderr, "raftlog dump: cannot write the output\n");
    return kExitCannotOpen;
  }
  if (!decoder_status.ok()) {
    ReportError("dump", decoder_status);
    return kExitProblems;
  }
  if (!s.ok()) return ReportError("dump", s);
  if (result.reached_end && result.last_index < to && opt.from <= to) {
    return ReportError("dump", Status::Corruption("the segment files end at index " +
                                                  std::to_string(result.last_index) +
                                                  " but the engine serves entries up to " +
                                                  std::to_string(verdict.last_index)));
  }
  if (verdict.committed_missing() > 0) {
    return ReportError("dump", Status::Corruption(verdict.CommittedMissingText()));
  }
  if (!verdict.nothing_cut) {
    std::string where;
    const auto segments = WalkedSegments(*meta, result);
    if (result.end_offset.has_value() && to == verdict.last_index && !segments.empty() &&
        result.at_file == SegmentRelPath(segments.back().segment_id)) {
      where = " at " + result.at_file + " offset " + std::to_string(*result.end_offset);
    }
    std::fprintf(stderr,
                 "raftlog dump: note: the log ends with a torn write%s (%llu bytes); the engine "
                 "cuts it on its next open, and the log then ends at index %llu\n",
                 where.c_str(), static_cast<unsigned long long>(verdict.stats.torn_tail_bytes),
                 static_cast<unsigned long long>(verdict.last_index));
  }
  return kExitOk;
}

}  // namespace

Command AddDumpCommand(CLI::App* root) {
  auto opt = std::make_shared<DumpOptions>();
  CLI::App* app = root->add_subcommand(
      "dump",
      "Print the log's entries in index order: index, term, type, size and a data preview; "
      "conf changes decoded. Streams in constant memory; stops quietly when the reader closes "
      "the pipe. Read-only: takes no lock, changes nothing.");
  app->add_option("DIR", opt->dir, "The log directory")->required();
  app->add_option("--from", opt->from, "First index to print (default: the log's first)")
      ->transform(WholeNumber());
  app->add_option("--to", opt->to, "Last index to print, inclusive (default: the log's last)")
      ->transform(WholeNumber());
  app->add_option("--limit", opt->limit, "Print at most this many entries (after --type)")
      ->transform(WholeNumber(1));
  app->add_option("--type", opt->types,
                  "Only entries of these types (repeat the option or separate with commas)")
      ->delimiter(',')
      ->check(CLI::IsMember({"normal", "confchange", "confchangev2"}));
  app->add_option("--format", opt->format,
                  "text: one line per entry; json: one JSON object per line (JSON Lines); hex: "
                  "a header line and a hex dump of the data per entry")
      ->check(CLI::IsMember({"text", "json", "hex"}))
      ->capture_default_str();
  CLI::Option* preview =
      app->add_option("--preview-bytes", opt->preview_bytes,
                      "Data bytes shown per entry (text and json preview; hex: all unless given)")
          ->transform(WholeNumber(0, std::numeric_limits<size_t>::max()))
          ->capture_default_str();
  app->add_flag("--data", opt->data, "json: add each entry's whole data, base64-encoded");
  app->add_flag("--raw", opt->raw,
                "The payload's bytes only, nothing decoded: the whole payload escaped (text, "
                "json preview) or in hex (--format hex), unless --preview-bytes is given; conf "
                "changes are not decoded");
  app->add_flag("--salvage", opt->salvage,
                "For a damaged log: print every entry that still decodes and verifies, skipping "
                "damaged stretches (even in a log the engine refuses, or whose meta.mdb is "
                "unreadable), and name each skipped stretch on stderr (file, byte range, "
                "entries); exit 1 if one may have cost live entries");
  app->add_option(
      "--decoder", opt->decoder,
      "Decode each printed entry's payload with CMD (run once by /bin/sh -c; like "
      "etcd-dump-logs --stream-decoder): CMD reads one line per entry, the payload in lowercase "
      "hex (an empty line for an empty payload), and must write one line per entry, its "
      "decoding, which replaces the data column (json: \"decoded\"). A decoder that exits, "
      "fails or does not answer within --decoder-timeout ends the dump with an error (exit 1)");
  app->add_option("--decoder-timeout", opt->decoder_timeout_seconds,
                  "Seconds to wait for the decoder's answer to one entry")
      ->check(Decimal(0.01, 3600))
      ->capture_default_str();
  return Command{app, [opt, preview] {
                   opt->preview_given = preview->count() > 0;
                   if (opt->raw && !opt->preview_given) {
                     opt->preview_bytes = std::numeric_limits<size_t>::max();
                   }
                   return RunDump(*opt);
                 }};
}

}  // namespace raftlog::tools
