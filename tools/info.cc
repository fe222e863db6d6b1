// raftlog info DIR: what a log holds, from its metadata and one read of
// every frame (checksums verified on the way): index range, HardState,
// ConfState, snapshots, segments, bytes on disk against logical bytes, and
// entry counts by type.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "raftlog/format/record_format.h"
#include "raftlog/io/file_system.h"
#include "tools/command.h"
#include "tools/damage_advice.h"
#include "tools/engine_verdict.h"
#include "tools/entry_decode.h"
#include "tools/entry_walker.h"
#include "tools/json.h"
#include "tools/log_dir.h"
#include "tools/output.h"
#include "tools/snapshots.h"
#include "tools/text.h"

namespace raftlog::tools {

namespace {

struct InfoOptions {
  std::string dir;
  std::string format = "text";
};

// One term's entries in the log: where a new leader's first entry landed.
struct TermSpan {
  uint64_t term = 0;
  uint64_t first_index = 0;
  uint64_t last_index = 0;
};

// The text form lists the newest runs only; JSON lists them all.
constexpr size_t kTermRunsShown = 20;

struct SegmentStats {
  uint64_t file_bytes = 0;
  bool scanned = false;
  uint64_t frames = 0;
  uint64_t frame_bytes = 0;  // headers, stored payloads and padding
  uint64_t last_index = 0;   // as the walk found it (active segments)
  bool has_entries = false;
};

// Gathers the figures of the walk, up to the last entry the engine serves
// (frames past it, a torn tail's valid frames, are not part of the log).
class InfoVisitor : public WalkVisitor {
 public:
  explicit InfoVisitor(uint64_t cap) : cap_(cap) {}
  void OnSegment(const format::SegmentRecord& record, uint64_t file_bytes) override {
    SegmentStats& s = segments[record.segment_id];
    s.file_bytes = file_bytes;
    s.scanned = true;
  }
  void OnFrame(const format::SegmentRecord& record, const format::FrameView& frame,
               uint64_t /*offset*/) override {
    if (frame.header.first_index > cap_) return;
    SegmentStats& s = segments[record.segment_id];
    s.frames++;
    s.frame_bytes += frame.frame_bytes;
    s.last_index = std::min(frame.header.end_index() - 1, cap_);
    s.has_entries = true;
    frames++;
    frame_bytes += frame.frame_bytes;
    payload_stored += frame.header.stored_bytes;
    payload_raw += frame.header.raw_bytes;
    if (frame.header.compressed()) compressed_frames++;
    max_commit_hint = std::max(max_commit_hint, frame.header.commit);
  }
  bool OnEntry(const format::EntryView& entry) override {
    if (entry.index > cap_) return false;
    types[entry.type]++;
    entries++;
    // Terms never decrease along the log (the engine refuses an append that
    // lowers one), so each term is one run of consecutive entries.
    if (term_runs.empty() || term_runs.back().term != entry.term) {
      term_runs.push_back(TermSpan{entry.term, entry.index, entry.index});
    } else {
      term_runs.back().last_index = entry.index;
    }
    entry_data += entry.data.size();
    return true;
  }

  std::map<uint64_t, SegmentStats> segments;
  std::map<uint8_t, uint64_t> types;
  std::vector<TermSpan> term_runs;  // of the live entries, in index order
  uint64_t frames = 0, frame_bytes = 0, payload_stored = 0, payload_raw = 0;
  uint64_t compressed_frames = 0, entries = 0, entry_data = 0, max_commit_hint = 0;

 private:
  const uint64_t cap_;
};

std::string StateName(format::SegmentState s) {
  return s == format::SegmentState::kSealed ? "sealed" : "active";
}

double Ratio(uint64_t raw, uint64_t stored) {
  return stored == 0 ? 1.0 : static_cast<double>(raw) / static_cast<double>(stored);
}

// What stops the walk, in a Status message, after "<path> at offset N: ".
std::string WithoutWhere(const Status& s) {
  const std::string_view msg = s.message();
  const size_t at = msg.find(" at offset ");
  if (at == std::string_view::npos) return std::string(msg);
  const size_t colon = msg.find(": ", at);
  return colon == std::string_view::npos ? std::string(msg) : std::string(msg.substr(colon + 2));
}

// The problems the walk and the engine's verdict show, each with its file
// and offset when known.
void AddWalkProblems(const EngineVerdict& verdict, const LogMetadata& meta,
                     const Status& walk_status, const WalkResult& walk, Findings* problems) {
  const std::string end = "; the log then ends at index " + std::to_string(verdict.last_index);
  if (!verdict.nothing_cut) {
    // The walk stopped at the engine's last entry: the torn write starts
    // where that entry's frame ends.
    const auto segments = WalkedSegments(meta, walk);
    const bool located = walk_status.ok() && walk.end_offset.has_value() && !segments.empty() &&
                         walk.at_file == SegmentRelPath(segments.back().segment_id);
    problems->Add(Severity::kWarning, located ? walk.at_file : std::string(),
                  located ? walk.end_offset : std::nullopt,
                  "torn write at the end of the log (" +
                      std::to_string(verdict.stats.torn_tail_bytes) +
                      " bytes); the engine cuts it on its next open" + end);
  }
  for (const CompactedDamage& d : walk.compacted_damage) {
    problems->Add(Severity::kWarning, d.file, d.offset,
                  d.what + "; the frame holds entries " + std::to_string(d.first_index) + " .. " +
                      std::to_string(d.last_index) +
                      ", all compacted away (the engine never reads them again)");
  }
  if (!walk_status.ok()) {
    problems->Add(Severity::kError, walk.at_file, walk.at_offset, WithoutWhere(walk_status));
  } else if (walk.reached_end && walk.last_index < verdict.last_index) {
    problems->Add(Severity::kError, walk.at_file, std::nullopt,
                  "the segment files end at index " + std::to_string(walk.last_index) +
                      " but the engine serves entries up to " + std::to_string(verdict.last_index));
  }
  if (verdict.committed_missing() > 0) {
    problems->Add(Severity::kError, std::string(kMetaFile), std::nullopt,
                  verdict.CommittedMissingText());
  }
}

int RunInfo(const InfoOptions& opt) {
  io::FileSystem* fs = io::FileSystem::Default();
  auto opened = LogDir::Open(fs, opt.dir);
  if (!opened.ok()) return ReportError("info", opened.status());
  const LogDir& dir = **opened;
  // The engine's verdict first: what it refuses, info refuses with its
  // message; what it serves is the range shown. The metadata is read after
  // it, so that beside a live writer the manifest covers every entry the
  // engine saw.
  const EngineVerdict verdict = JudgeWithEngine(opt.dir);
  if (verdict.refused()) {
    const int code = ReportError("info", verdict.open_status);
    // Refused for damage that only the newest snapshot's entries hold: say
    // how to move the log's start past it (damage_advice.h).
    auto meta = dir.ReadMetadata(nullptr);
    if (meta.ok() && meta->snapshot.has_value()) {
      const std::optional<CompactAdvice> advice =
          AdviseCompactTo(fs, opt.dir, meta->snapshot->index);
      if (advice.has_value() && advice->engine_refuses) {
        std::fprintf(stderr, "raftlog info: %s\n", advice->text.c_str());
      }
    }
    return code;
  }
  Findings meta_findings;
  auto read = dir.ReadMetadata(&meta_findings);
  if (!read.ok()) return ReportError("info", read.status());
  const LogMetadata& meta = *read;
  if (!meta.problem.ok()) return ReportError("info", meta.problem);

  InfoVisitor visitor(verdict.last_index);
  WalkResult walk;
  EntryWalker walker(&dir, &meta);
  const Status walk_status = walker.Walk(0, verdict.last_index, /*seek=*/false, &visitor, &walk);
  Findings problems;
  AddWalkProblems(verdict, meta, walk_status, walk, &problems);
  for (const Finding& f : meta_findings.all())
    problems.Add(f.severity, f.file, f.offset, f.what, f.hint);
  // Damage that only the newest snapshot's entries hold: say how to move the
  // log's start past it (damage_advice.h).
  std::optional<CompactAdvice> advice;
  if (!walk_status.ok() && walk_status.IsCorruption()) {
    if (meta.snapshot.has_value()) advice = AdviseCompactTo(fs, opt.dir, meta.snapshot->index);
    if (advice.has_value()) {
      problems.Rehint(
          [&](const Finding& f) {
            return f.severity == Severity::kError && f.file == walk.at_file;
          },
          advice->text);
    }
  }

  // Snapshot files.
  std::vector<snapshot::SnapshotInfo> snapshot_files;
  std::vector<snapshot::DamagedSnapshot> damaged_snapshots;
  Status snapshot_status;
  auto store = OpenSnapshotsReadOnly(dir);
  if (!store.ok()) {
    snapshot_status = store.status();
  } else if (*store != nullptr) {
    auto listing = (*store)->Scan();
    if (listing.ok()) {
      snapshot_files = listing->snapshots;
      damaged_snapshots = listing->damaged;
    } else {
      snapshot_status = listing.status();
    }
  }

  const std::vector<format::SegmentRecord> segments = WalkedSegments(meta, walk);
  const uint64_t first = *meta.first_index;
  // What was read: the engine's range, unless the walk stopped at damage:
  // then the entries before it (consecutive from the first), so that the
  // range and the counts below agree.
  const uint64_t last = walk_status.ok() ? std::min(walk.last_index, verdict.last_index)
                                         : first + visitor.entries - 1;
  uint64_t file_bytes = 0, sealed = 0;
  for (const format::SegmentRecord& r : segments) {
    SegmentStats& s = visitor.segments[r.segment_id];
    if (!s.scanned) {
      // Not reached by the walk (it stopped early): just the file's size.
      auto f = fs->Open(dir.SegmentPath(r), io::OpenMode::kReadOnly);
      if (f.ok()) s.file_bytes = (*f)->Size().value_or(0);
    }
    file_bytes += s.file_bytes;
    if (r.state == format::SegmentState::kSealed) sealed++;
  }
  std::optional<uint64_t> effective_commit;
  if (meta.hard_state.has_value()) {
    const uint64_t snap_index = meta.snapshot.has_value() ? meta.snapshot->index : 0;
    effective_commit = std::min(std::max(meta.hard_state->commit, visitor.max_commit_hint),
                                std::max(last, snap_index));
  }

  Output out;
  if (opt.format == "json") {
    Json j;
    j["dir"] = dir.dir();
    j["format_version"] = *meta.format_version;
    j["first_index"] = first;
    j["last_index"] = last;
    j["entries"] = last + 1 - first;
    j["compaction"] = Json{{"index", first - 1}, {"term", meta.prev_term}};
    if (meta.hard_state.has_value()) {
      j["hard_state"] = Json{{"term", meta.hard_state->term},
                             {"vote", meta.hard_state->vote},
                             {"commit", meta.hard_state->commit},
                             {"commit_hint", visitor.max_commit_hint},
                             {"effective_commit", *effective_commit}};
    } else {
      j["hard_state"] = nullptr;
    }
    if (meta.snapshot.has_value()) {
      j["conf_state"] = ConfStateJson(meta.snapshot->conf_state);
      j["snapshot"] = Json{{"index", meta.snapshot->index},
                           {"term", meta.snapshot->term},
                           {"file", meta.snapshot->file_name},
                           {"data_bytes", meta.snapshot->data_bytes}};
    } else {
      j["conf_state"] = nullptr;
      j["snapshot"] = nullptr;
    }
    if (meta.durable.has_value() && meta.durable->segment_id != 0) {
      j["durable"] = Json{{"segment", SegmentFileName(meta.durable->segment_id)},
                          {"offset", meta.durable->durable_offset},
                          {"last_index", meta.durable->last_index}};
    } else {
      j["durable"] = nullptr;
    }
    Json files = Json::array();
    for (const snapshot::SnapshotInfo& s : snapshot_files) {
      files.push_back(Json{{"name", s.name},
                           {"term", s.meta.term},
                           {"index", s.meta.index},
                           {"data_bytes", s.data_bytes},
                           {"file_bytes", s.file_bytes},
                           {"damaged", false}});
    }
    for (const snapshot::DamagedSnapshot& d : damaged_snapshots) {
      files.push_back(
          Json{{"name", d.name}, {"damaged", true}, {"error", std::string(d.status.message())}});
    }
    j["snapshot_files"] = std::move(files);
    Json segs = Json::array();
    for (const format::SegmentRecord& r : segments) {
      const SegmentStats& s = visitor.segments[r.segment_id];
      const bool is_sealed = r.state == format::SegmentState::kSealed;
      Json seg{{"id", r.segment_id},
               {"file", format::SegmentRecordRelPath(r)},
               {"form", r.compressed() ? "compressed" : "raw"},
               {"raw_file_bytes", r.compressed() ? r.raw_file_bytes : s.file_bytes},
               {"state", StateName(r.state)},
               {"first_index", r.base_index},
               {"last_index",
                is_sealed ? r.last_index : (s.has_entries ? s.last_index : r.base_index - 1)},
               {"generation", r.generation},
               {"file_bytes", s.file_bytes},
               {"frames", s.frames},
               {"frame_bytes", s.frame_bytes},
               {"scanned", s.scanned}};
      segs.push_back(std::move(seg));
    }
    j["segments"] = std::move(segs);
    j["segment_counts"] =
        Json{{"total", segments.size()}, {"sealed", sealed}, {"active", segments.size() - sealed}};
    j["bytes"] = Json{{"segment_files", file_bytes},
                      {"frames", visitor.frame_bytes},
                      {"payload_stored", visitor.payload_stored},
                      {"payload_raw", visitor.payload_raw},
                      {"entry_data", visitor.entry_data},
                      {"compression_ratio", Ratio(visitor.payload_raw, visitor.payload_stored)}};
    j["frames"] = Json{{"total", visitor.frames}, {"compressed", visitor.compressed_frames}};
    Json types = Json::object();
    for (const uint8_t t : {kEntryNormal, kEntryConfChange, kEntryConfChangeV2}) {
      types[EntryTypeLabel(t)] = 0;
    }
    for (const auto& [t, n] : visitor.types) types[EntryTypeLabel(t)] = n;
    j["entry_types"] = std::move(types);
    Json runs = Json::array();
    for (const TermSpan& t : visitor.term_runs) {
      runs.push_back(Json{{"term", t.term},
                          {"first_index", t.first_index},
                          {"last_index", t.last_index},
                          {"entries", t.last_index + 1 - t.first_index}});
    }
    j["term_runs"] = std::move(runs);
    Json problem_list = Json::array();
    for (const Finding& f : problems.all()) {
      Json p{{"severity", SeverityName(f.severity)},
             {"file", f.file},
             {"offset", f.offset.has_value() ? Json(*f.offset) : Json(nullptr)},
             {"what", f.what}};
      if (!f.hint.empty()) p["hint"] = f.hint;
      problem_list.push_back(std::move(p));
    }
    if (!snapshot_status.ok()) {
      problem_list.push_back(Json{{"severity", "error"},
                                  {"file", std::string(kSnapshotsDir)},
                                  {"offset", nullptr},
                                  {"what", std::string(snapshot_status.message())}});
    }
    j["problems"] = std::move(problem_list);
    out.Line(DumpJson(j, /*pretty=*/true));
  } else {
    auto row = [&](std::string_view key, const std::string& value) {
      std::string line(key);
      line.resize(std::max<size_t>(line.size() + 1, 16), ' ');
      out.Line(line + value);
    };
    row("log", dir.dir());
    row("format", "version " + std::to_string(*meta.format_version));
    if (last >= first) {
      row("entries", std::to_string(first) + " .. " + std::to_string(last) + " (" +
                         std::to_string(last + 1 - first) + " entries" +
                         (walk_status.ok() ? ")"
                                           : " read; the rest is behind the damage below, the "
                                             "engine would serve up to " +
                                                 std::to_string(verdict.last_index) + ")"));
    } else {
      row("entries", "none (first index " + std::to_string(first) + ")");
    }
    row("compaction",
        "index " + std::to_string(first - 1) + ", term " + std::to_string(meta.prev_term));
    if (meta.hard_state.has_value()) {
      row("hard state", "term " + std::to_string(meta.hard_state->term) + ", vote " +
                            std::to_string(meta.hard_state->vote) + ", commit " +
                            std::to_string(meta.hard_state->commit) +
                            " (with the frames' hints: " + std::to_string(*effective_commit) + ")");
    } else {
      row("hard state", "none");
    }
    if (meta.durable.has_value() && meta.durable->segment_id != 0) {
      row("durable", "entries up to " + std::to_string(meta.durable->last_index) + " (" +
                         SegmentFileName(meta.durable->segment_id) + " up to offset " +
                         std::to_string(meta.durable->durable_offset) +
                         ", as of the last metadata commit)");
    }
    if (meta.snapshot.has_value()) {
      row("conf state", ConfStateText(meta.snapshot->conf_state) + " (as of the snapshot)");
      row("snapshot", "index " + std::to_string(meta.snapshot->index) + ", term " +
                          std::to_string(meta.snapshot->term) + ", " +
                          HumanBytes(meta.snapshot->data_bytes) + ", file " +
                          (meta.snapshot->file_name.empty() ? "(none)" : meta.snapshot->file_name));
    } else {
      row("conf state", "none (no snapshot)");
      row("snapshot", "none");
    }
    row("snapshot files",
        std::to_string(snapshot_files.size()) +
            (damaged_snapshots.empty()
                 ? ""
                 : " (+" + std::to_string(damaged_snapshots.size()) + " damaged)"));
    for (const snapshot::SnapshotInfo& s : snapshot_files) {
      out.Line("  " + s.name + "  term " + std::to_string(s.meta.term) + ", index " +
               std::to_string(s.meta.index) + ", " + HumanBytes(s.data_bytes) + " data, " +
               HumanBytes(s.file_bytes) + " file");
    }
    for (const snapshot::DamagedSnapshot& d : damaged_snapshots) {
      out.Line("  " + d.name + "  DAMAGED: " + std::string(d.status.message()));
    }
    row("segments", std::to_string(segments.size()) + " (" + std::to_string(sealed) + " sealed, " +
                        std::to_string(segments.size() - sealed) + " active), " +
                        HumanBytes(file_bytes) + " on disk");
    if (!segments.empty()) {
      out.Line(
          "  id                state   first        last         frames    file       used       "
          "form");
    }
    for (const format::SegmentRecord& r : segments) {
      const SegmentStats& s = visitor.segments[r.segment_id];
      const bool is_sealed = r.state == format::SegmentState::kSealed;
      const uint64_t seg_last =
          is_sealed ? r.last_index : (s.has_entries ? s.last_index : r.base_index - 1);
      // A compressed segment's ratio is against the raw file it replaced.
      const std::string form =
          r.compressed() ? "zstd " + Fixed(Ratio(r.raw_file_bytes, r.file_bytes), 2) + "x" : "raw";
      char buf[256];
      std::snprintf(buf, sizeof(buf), "  %016llx  %-6s  %-11llu  %-11llu  %-8llu  %-9s  %-9s  %s",
                    static_cast<unsigned long long>(r.segment_id), StateName(r.state).c_str(),
                    static_cast<unsigned long long>(r.base_index),
                    static_cast<unsigned long long>(seg_last),
                    static_cast<unsigned long long>(s.frames), HumanBytes(s.file_bytes).c_str(),
                    s.scanned ? HumanBytes(s.frame_bytes).c_str() : "-", form.c_str());
      out.Line(buf);
    }
    row("bytes", HumanBytes(file_bytes) + " in segment files, " + HumanBytes(visitor.frame_bytes) +
                     " in frames");
    row("", "payload " + HumanBytes(visitor.payload_stored) + " stored, " +
                HumanBytes(visitor.payload_raw) + " raw (compression ratio " +
                Fixed(Ratio(visitor.payload_raw, visitor.payload_stored), 2) + ", " +
                std::to_string(visitor.compressed_frames) + " of " +
                std::to_string(visitor.frames) + " frames compressed)");
    row("", "entry data " + HumanBytes(visitor.entry_data) + " (live entries)");
    std::string types;
    for (const uint8_t t : {kEntryNormal, kEntryConfChange, kEntryConfChangeV2}) {
      if (!types.empty()) types += ", ";
      types += EntryTypeLabel(t) + " " + std::to_string(visitor.types[t]);
    }
    for (const auto& [t, n] : visitor.types) {
      if (t > kEntryConfChangeV2) types += ", " + EntryTypeLabel(t) + " " + std::to_string(n);
    }
    row("entry types", types);
    const std::vector<TermSpan>& runs = visitor.term_runs;
    row("term history",
        runs.empty() ? std::string("no entries")
                     : std::to_string(runs.size()) + (runs.size() == 1 ? " term" : " terms") +
                           " in the log (a new term's first entry is where leadership changed)");
    if (!runs.empty()) {
      out.Line("  term         first        last         entries");
      if (runs.size() > kTermRunsShown) {
        out.Line("  ... " + std::to_string(runs.size() - kTermRunsShown) +
                 " earlier term(s); --format json lists every one");
      }
      for (size_t k = runs.size() > kTermRunsShown ? runs.size() - kTermRunsShown : 0;
           k < runs.size(); ++k) {
        char buf[128];
        std::snprintf(
            buf, sizeof(buf), "  %-11llu  %-11llu  %-11llu  %llu",
            static_cast<unsigned long long>(runs[k].term),
            static_cast<unsigned long long>(runs[k].first_index),
            static_cast<unsigned long long>(runs[k].last_index),
            static_cast<unsigned long long>(runs[k].last_index + 1 - runs[k].first_index));
        out.Line(buf);
      }
    }
    for (const Finding& f : problems.all()) out.Line(FormatFinding(f));
  }
  out.Flush();
  if (!out.ok()) {
    std::fprintf(stderr, "raftlog info: cannot write the output\n");
    return kExitCannotOpen;
  }
  if (!walk_status.ok()) {
    const int code = ReportError("info", walk_status);
    if (advice.has_value()) std::fprintf(stderr, "raftlog info: %s\n", advice->text.c_str());
    return code;
  }
  if (!snapshot_status.ok()) return ReportError("info", snapshot_status);
  if (problems.errors() > 0 || !damaged_snapshots.empty()) return kExitProblems;
  return kExitOk;
}

}  // namespace

Command AddInfoCommand(CLI::App* root) {
  auto opt = std::make_shared<InfoOptions>();
  CLI::App* app = root->add_subcommand(
      "info",
      "Show what a log holds: index range, HardState, ConfState, snapshots, segments, bytes on "
      "disk against logical bytes, entry counts by type. Reads every frame (checksums are "
      "verified on the way). Read-only: takes no lock, changes nothing.");
  app->add_option("DIR", opt->dir, "The log directory")->required();
  app->add_option("--format", opt->format, "Output format (JSON is documented in docs/tools.md)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  return Command{app, [opt] { return RunInfo(*opt); }};
}

}  // namespace raftlog::tools
