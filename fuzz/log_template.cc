#include "fuzz/log_template.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "raftlog/format/record.h"
#include "raftlog/format/record_format.h"
#include "raftlog/format/segment_header.h"
#include "fuzz/fuzz_util.h"

namespace raftlog::fuzz {

engine::DiskStorageOptions FuzzOptions(engine::RecoveryPolicy recovery, bool read_only) {
  engine::DiskStorageOptions options;
  options.engine.segment_bytes = 64 << 10;
  options.engine.prepared_segments = 0;
  options.engine.sync = engine::SyncPolicy::kNever;
  options.engine.recovery = recovery;
  options.engine.read_only = read_only;
  options.engine.create_if_missing = false;
  return options;
}

namespace {

void Check(const Status& s, const char* what) {
  if (!s.ok()) FuzzFail(std::string("building the template: ") + what + ": " + s.ToString());
}

LogTemplate Build() {
  LogTemplate t;
  t.dir = ScratchDir() + "/template";
  ResetDir(t.dir);
  engine::DiskStorageOptions options =
      FuzzOptions(engine::RecoveryPolicy::kTolerateTornTail, false);
  options.engine.create_if_missing = true;
  {
    auto opened = engine::DiskStorage::Open(t.dir, options);
    Check(opened.status(), "open");
    engine::DiskStorage& s = **opened;
    uint64_t index = 1;
    for (uint64_t term = 1; term <= 2; ++term) {
      Check(s.SetHardState(raft::HardState{term, 1, index - 1}), "SetHardState");
      for (int batch = 0; batch < 30; ++batch) {
        std::vector<raft::Entry> entries;
        for (int k = 0; k < 3; ++k, ++index) {
          entries.push_back(
              raft::Entry{term, index, raft::EntryType::kNormal,
                          std::string((index * 37) % 1200, static_cast<char>(index))});
        }
        Check(s.Save(raft::HardState{term, 1, index - 3}, entries, nullptr, true), "Save");
      }
    }
    Check(s.CreateSnapshot(30, nullptr, "snapshot at 30").status(), "CreateSnapshot");
    Check(s.Compact(20), "Compact");
    Check(s.Close(), "Close");
  }
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(t.dir + "/segments", ec)) {
    names.push_back(e.path().filename());
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const std::string bytes = ReadFileOrDie(t.dir + "/segments/" + name);
    auto header = format::DecodeSegmentHeader(bytes, name);
    if (!header.ok()) continue;  // a spare
    t.segments.push_back(TemplateSegment{name, header->seed()});
  }
  if (t.segments.size() < 2) FuzzFail("the template has too few segments");
  return t;
}

}  // namespace

const LogTemplate& Template() {
  static const LogTemplate* t = new LogTemplate(Build());
  return *t;
}

void CopyTemplate(const std::string& dir) {
  std::error_code ec;
  // A signal (libFuzzer's timers) may interrupt the copy: try again.
  for (int attempt = 0; attempt < 10; ++attempt) {
    std::filesystem::remove_all(dir, ec);
    std::filesystem::copy(Template().dir, dir, std::filesystem::copy_options::recursive, ec);
    if (!ec) break;
  }
  if (ec) FuzzFail("copying the template: " + ec.message());
  std::filesystem::remove(dir + "/LOCK", ec);
}

void DamageSegments(FuzzInput& in, const std::string& dir, bool replace_active,
                    bool fix_checksums) {
  const LogTemplate& t = Template();
  std::vector<std::string> files;
  for (const TemplateSegment& seg : t.segments) {
    files.push_back(ReadFileOrDie(dir + "/segments/" + seg.name));
  }
  if (replace_active) {
    std::string& active = files.back();
    const std::string_view body = in.Rest();
    for (size_t k = 64; k < active.size(); ++k) {
      active[k] = k - 64 < body.size() ? body[k - 64] : '\0';
    }
  } else {
    for (int patch = 0; patch < 16 && !in.empty(); ++patch) {
      std::string& file = files[in.Byte() % files.size()];
      const uint8_t op = in.Byte() % 4;
      const size_t offset = in.U32() % (file.size() + 1);
      switch (op) {
        case 0: {
          const std::string_view bytes = in.ShortBytes();
          file.replace(offset, std::min(bytes.size(), file.size() - offset), bytes);
          break;
        }
        case 1:
          file.resize(offset);
          break;
        case 2: {
          const size_t n = std::min<size_t>(in.Byte(), file.size() - offset);
          file.replace(offset, n, n, '\0');
          break;
        }
        default:
          if (offset < file.size()) file[offset] ^= static_cast<char>(1 << (in.Byte() % 8));
          break;
      }
    }
  }
  for (size_t k = 0; k < files.size(); ++k) {
    if (fix_checksums) FixSegmentChecksums(&files[k], t.segments[k].seed);
    WriteFileOrDie(dir + "/segments/" + t.segments[k].name, files[k]);
  }
}

namespace {

struct Seen {
  uint64_t first = 0, last = 0;
  raft::HardState hs;
  uint64_t last_term = 0;
};

// Reads everything; returns false if a read failed (damage found late).
bool ReadAll(const engine::DiskStorage& s, bool checksums_forged, Seen* seen) {
  // A frame's term is checked against the index when it is read
  // (DiskStorageBugTest.FrameTermsAgreeWithTheFooter), forged checksums or not.
  (void)checksums_forged;
  constexpr bool tolerate_frame_terms = false;
  seen->first = *s.FirstIndex();
  seen->last = *s.LastIndex();
  auto initial = s.InitialState();
  if (!initial.ok()) return false;
  seen->hs = initial->hard_state;
  auto snap = s.Snapshot();
  if (!snap.ok()) return false;
  auto prev = s.Term(seen->first - 1);
  if (!prev.ok()) FuzzFail("no term for the compaction point: " + prev.status().ToString());
  // Open checks log/start's term against the segments
  // (DiskStorageBugTest.LogStartTermIsCheckedAgainstTheSegments).
  constexpr bool kLogStartTermIsChecked = true;
  seen->last_term = kLogStartTermIsChecked ? *prev : 0;
  if (seen->hs.commit > std::max(seen->last, snap->metadata.index)) {
    FuzzFail("commit " + std::to_string(seen->hs.commit) + " beyond the log's end " +
             std::to_string(seen->last));
  }
  uint64_t next = seen->first;
  while (next <= seen->last) {
    auto entries = s.Entries(next, seen->last + 1, 64 << 10);
    if (!entries.ok()) {
      // Sealed segments are opened on their first read, so damage in them
      // (or a header of a newer format version) is found here, not at open.
      const Status& st = entries.status();
      if (st.IsCorruption() || st.IsIOError() || st.IsNotSupported()) return false;
      FuzzFail("Entries(" + std::to_string(next) + "): " + entries.status().ToString());
    }
    if (entries->empty()) FuzzFail("Entries returned nothing");
    for (const raft::Entry& e : *entries) {
      if (e.index != next) FuzzFail("entries are not consecutive at " + std::to_string(next));
      if (e.term < seen->last_term && !tolerate_frame_terms) {
        FuzzFail("terms decrease at " + std::to_string(e.index));
      }
      auto term = s.Term(e.index);
      if (!term.ok() || (*term != e.term && !tolerate_frame_terms)) {
        FuzzFail("Term() disagrees at " + std::to_string(e.index));
      }
      seen->last_term = e.term;
      ++next;
    }
  }
  return true;
}

}  // namespace

namespace {

// Whether the active segment holds non-zero bytes after the point where a
// scan of its frames meets an all-zero header. Recovery treats that like a
// bad frame (DiskStorageBugTest.AZeroedFrameHeaderIsNotTheEndOfTheLog), so
// no exemption is needed; the check stays to switch it back on if needed.
constexpr bool kZeroedHeaderIsHandled = true;

bool DataAfterEndOfScan(const std::string& dir) {
  const TemplateSegment& active = Template().segments.back();
  std::error_code ec;
  if (!std::filesystem::exists(dir + "/segments/" + active.name, ec)) return false;
  const std::string bytes = ReadFileOrDie(dir + "/segments/" + active.name);
  if (bytes.size() < format::kSegmentHeaderBytes) return false;
  format::FrameIterator it(bytes, format::kSegmentHeaderBytes, active.seed, active.name);
  while (it.Next()) {
  }
  if (it.error() != format::FrameError::kEndOfData) return false;
  return std::string_view(bytes)
             .substr(std::min<size_t>(it.offset(), bytes.size()))
             .find_first_not_of('\0') != std::string_view::npos;
}

}  // namespace

void ExerciseLog(const std::string& dir, const engine::DiskStorageOptions& options, bool must_work,
                 bool checksums_forged) {
  if (!kZeroedHeaderIsHandled && DataAfterEndOfScan(dir)) {
    // Only the crash-freedom of open and reads is checked then.
    must_work = false;
    engine::DiskStorageOptions read_only = options;
    read_only.engine.read_only = true;
    auto opened = engine::DiskStorage::Open(dir, read_only);
    Seen ignored;
    if (opened.ok()) (void)ReadAll(**opened, checksums_forged, &ignored);
    return;
  }
  Seen seen;
  {
    auto opened = engine::DiskStorage::Open(dir, options);
    if (!opened.ok()) {
      if (must_work) FuzzFail("a log that verifies does not open: " + opened.status().ToString());
      return;
    }
    const bool read = ReadAll(**opened, checksums_forged, &seen);
    if (!read && must_work) FuzzFail("a log that verifies does not read back");
    if (!read || options.engine.read_only) return;
    const uint64_t term = std::max(seen.hs.term, seen.last_term);
    const raft::Entry entry{term, seen.last + 1, raft::EntryType::kNormal, "fuzz"};
    const Status saved = (*opened)->Save(raft::HardState{term, seen.hs.vote, seen.hs.commit},
                                         {&entry, 1}, nullptr, true);
    if (!saved.ok() || !(*opened)->Close().ok()) {
      if (must_work) FuzzFail("a log that verifies takes no write: " + saved.ToString());
      return;
    }
  }
  // A log that opened, read back whole and took a write must reopen with it.
  auto reopened = engine::DiskStorage::Open(dir, options);
  if (!reopened.ok())
    FuzzFail("a log that took a write does not reopen: " + reopened.status().ToString());
  Seen again;
  if (!ReadAll(**reopened, checksums_forged, &again))
    FuzzFail("a log that took a write reads back with an error");
  if (again.last != seen.last + 1 || again.first != seen.first) {
    FuzzFail("the reopened log is [" + std::to_string(again.first) + ", " +
             std::to_string(again.last) + "], expected [" + std::to_string(seen.first) + ", " +
             std::to_string(seen.last + 1) + "]");
  }
}

}  // namespace raftlog::fuzz
