#include "tools/engine_verdict.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <memory>
#include <utility>

#include "raftlog/engine/log_engine.h"
#include "raftlog/format/layout.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/io/file_system.h"
#include "raftlog/snapshot/snapshot_store.h"

namespace raftlog::tools {

namespace {

// DiskStorage's state names (under the engine's "state/" prefix) and its
// snapshot directory.
constexpr std::string_view kHardStateState = format::layout::kHardStateName;
constexpr std::string_view kSnapshotState = format::layout::kSnapshotName;
constexpr std::string_view kSnapshotsDirName = format::layout::kSnapshotsDir;

Result<std::unique_ptr<engine::LogEngine>> OpenReadOnly(const std::string& dir,
                                                        engine::RecoveryPolicy recovery) {
  engine::Options options;
  options.read_only = true;
  options.create_if_missing = false;
  options.prepared_segments = 0;  // no background thread for a reader
  options.recovery = recovery;
  return engine::LogEngine::Open(dir, options);
}

// What DiskStorage::Load checks after the engine opened, done read-only.
Status CheckStorageState(const engine::LogEngine& engine, EngineVerdict* verdict) {
  RAFTLOG_ASSIGN_OR_RETURN(auto hs_bytes, engine.GetState(kHardStateState));
  if (hs_bytes.has_value()) {
    auto hs = format::DecodeHardState(*hs_bytes);
    if (!hs.ok()) return hs.status().WithContext("HardState of " + engine.dir());
    verdict->stored_commit = hs->commit;
  }
  RAFTLOG_ASSIGN_OR_RETURN(auto snap_bytes, engine.GetState(kSnapshotState));
  if (!snap_bytes.has_value()) return Status::OK();
  auto meta = format::DecodeSnapshotMeta(*snap_bytes);
  if (!meta.ok()) return meta.status().WithContext("snapshot metadata of " + engine.dir());
  verdict->snapshot_index = meta->index;
  if (meta->file_name.empty()) return Status::OK();
  io::FileSystem* fs = io::FileSystem::Default();
  const std::string path = io::JoinPath(engine.dir(), kSnapshotsDirName);
  bool found = false;
  if (fs->Exists(path)) {
    snapshot::SnapshotStore::Options options;
    options.read_only = true;
    RAFTLOG_ASSIGN_OR_RETURN(auto store, snapshot::SnapshotStore::Open(fs, path, options));
    RAFTLOG_ASSIGN_OR_RETURN(auto files, store->List());
    found = std::any_of(files.begin(), files.end(),
                        [&](const snapshot::SnapshotInfo& f) { return f.name == meta->file_name; });
  }
  if (!found) {
    return Status::Corruption("snapshot file " + meta->file_name + " named by the metadata of " +
                              engine.dir() + " is missing or damaged");
  }
  return Status::OK();
}

}  // namespace

uint64_t EngineVerdict::committed_missing() const {
  if (refused() || !stored_commit.has_value()) return 0;
  const uint64_t end = std::max(last_index, snapshot_index);
  return *stored_commit > end ? *stored_commit - end : 0;
}

std::string EngineVerdict::CommittedMissingText() const {
  const uint64_t missing = committed_missing();
  if (missing == 0) return "";
  return "the HardState's commit index " + std::to_string(*stored_commit) +
         " is beyond the last entry the engine serves (" + std::to_string(last_index) +
         "): " + std::to_string(missing) + " committed entries (" + std::to_string(last_index + 1) +
         " .. " + std::to_string(*stored_commit) + ") are gone from this log";
}

namespace {

EngineVerdict JudgeOnce(const std::string& dir) {
  EngineVerdict verdict;
  auto engine = OpenReadOnly(dir, engine::RecoveryPolicy::kAbsoluteConsistency);
  if (engine.ok()) {
    verdict.nothing_cut = true;
  } else {
    // Anything but damage (cannot open, newer format) is the verdict as it
    // is; damage is judged again the way an application's open judges it.
    if (!engine.status().IsCorruption()) {
      verdict.open_status = engine.status();
      return verdict;
    }
    engine = OpenReadOnly(dir, engine::RecoveryPolicy::kTolerateTornTail);
    if (!engine.ok()) {
      verdict.open_status = engine.status();
      return verdict;
    }
  }
  verdict.first_index = (*engine)->FirstIndex();
  verdict.last_index = (*engine)->LastIndex();
  verdict.stats = (*engine)->GetStats();
  verdict.open_status = CheckStorageState(**engine, &verdict);
  (void)(*engine)->Close();
  return verdict;
}

}  // namespace

bool EngineVerdict::clean() const { return !refused() && nothing_cut && committed_missing() == 0; }

EngineVerdict JudgeWithEngine(const std::string& dir) {
  // Beside a live writer one open can catch a frame half written (a torn
  // tail that is not one), or the HardState of a Ready whose entries it
  // scanned too early. A writer's progress passes; damage on disk stays.
  // So a verdict that is not clean is taken again, twice, a moment later (10 and 40 ms):
  // any clean one wins, and so does one that sees the log grow (a writer is
  // appending, and the log it holds open has no torn tail: it would have
  // cut that on its own open).
  EngineVerdict verdict = JudgeOnce(dir);
  for (const int pause_ms : {10, 40}) {
    if (verdict.clean()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
    EngineVerdict again = JudgeOnce(dir);
    if (again.clean()) return again;
    if (!verdict.refused() && !again.refused() && again.last_index > verdict.last_index &&
        again.committed_missing() == 0) {
      again.nothing_cut = true;
      again.live_writer = true;
      return again;
    }
    verdict = std::move(again);
  }
  return verdict;
}

}  // namespace raftlog::tools
