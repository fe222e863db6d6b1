// raft_interaction: runs datadriven interaction scripts (etcd raft's
// testdata/*.txt format, see tests/rafttest/interaction_env.h) against our
// raft core and reports every directive whose output differs from the
// script, as a unified diff.
//
//   raft_interaction [--storage=memory|disk] [--rewrite] [--quiet] PATH...
//
// Each PATH is a script, or a directory whose *.txt scripts run in name
// order. Every script runs in a fresh environment. --storage=disk gives each
// node a DiskStorage in a temporary directory (on tmpfs when available, with
// the engine's fsyncs off: the scripts test the raft core's behaviour over
// DiskStorage, not its durability). --rewrite replaces the expected output
// of every directive with the actual one, in place.
//
// Exit status: 0 if every script passed, 1 if any differed or failed, 2 for
// a usage error.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/engine/options.h"
#include "raftlog/engine/disk_storage.h"
#include "tests/rafttest/datadriven.h"
#include "tests/rafttest/interaction_env.h"
#include "tests/testutil/temp_dir.h"

namespace {

using raftlog::Result;
using raftlog::Status;
namespace rafttest = raftlog::raft::rafttest;

enum class StorageKind { kMemory, kDisk };

struct Options {
  StorageKind storage = StorageKind::kMemory;
  bool rewrite = false;
  bool quiet = false;
  std::vector<std::string> paths;
};

void Usage() {
  std::fprintf(stderr,
               "usage: raft_interaction [--storage=memory|disk] [--rewrite] [--quiet] PATH...\n"
               "  PATH: a script, or a directory of *.txt scripts\n");
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return static_cast<bool>(in) || in.eof();
}

bool WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  out.close();
  return static_cast<bool>(out);
}

// Runs one script; returns whether it passed (or was rewritten).
bool RunFile(const std::string& path, const Options& opts, size_t* directives) {
  std::string script;
  if (!ReadFile(path, &script)) {
    std::printf("FAIL %s: cannot read the file\n", path.c_str());
    return false;
  }

  // The storages of a DiskStorage run live in this directory; it outlives
  // the environment (declared first).
  std::unique_ptr<raftlog::testutil::TempDir> dir;
  rafttest::InteractionOpts env_opts;
  if (opts.storage == StorageKind::kDisk) {
    dir = std::make_unique<raftlog::testutil::TempDir>("interaction",
                                                       raftlog::testutil::TempDir::InMemoryBase());
    env_opts.storage_factory =
        [&dir](uint64_t id) -> Result<std::unique_ptr<raftlog::raft::WritableStorage>> {
      raftlog::engine::DiskStorageOptions options;
      options.engine.sync = raftlog::engine::SyncPolicy::kNever;
      // Small segments, none prepared ahead: nodes write little.
      options.engine.segment_bytes = 64 << 10;
      options.engine.prepared_segments = 0;
      RAFTLOG_ASSIGN_OR_RETURN(
          std::unique_ptr<raftlog::engine::DiskStorage> s,
          raftlog::engine::DiskStorage::Open(dir->Sub("n" + std::to_string(id)), options));
      return std::unique_ptr<raftlog::raft::WritableStorage>(std::move(s));
    };
  }
  rafttest::InteractionEnv env(std::move(env_opts));
  rafttest::ScriptResult result = rafttest::RunScript(
      path, script, [&env](const rafttest::TestData& d) { return env.Handle(d); }, opts.rewrite);
  *directives += result.cases;

  bool ok = result.error.ok() && result.mismatches.empty();
  for (const rafttest::Mismatch& m : result.mismatches) {
    std::printf("%s: output differs for: %s\n", m.pos.c_str(), m.directive.c_str());
    std::fputs(rafttest::UnifiedDiff(m.expected, m.actual, "expected", "actual").c_str(), stdout);
  }
  if (!result.error.ok()) {
    std::printf("%s\n", std::string(result.error.message()).c_str());
  }
  if (ok && opts.rewrite && result.rewritten != script) {
    if (!WriteFile(path, result.rewritten)) {
      std::printf("FAIL %s: cannot write the file\n", path.c_str());
      return false;
    }
    std::printf("rewrote %s\n", path.c_str());
  }
  if (!ok) {
    std::printf("FAIL %s (%zu mismatches%s)\n", path.c_str(), result.mismatches.size(),
                result.error.ok() ? "" : ", stopped by an error");
  } else if (!opts.quiet) {
    std::printf("ok   %s (%zu directives)\n", path.c_str(), result.cases);
  }
  std::fflush(stdout);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  for (int i = 1; i < argc; i++) {
    std::string_view arg = argv[i];
    if (arg == "--storage=memory") {
      opts.storage = StorageKind::kMemory;
    } else if (arg == "--storage=disk") {
      opts.storage = StorageKind::kDisk;
    } else if (arg == "--rewrite") {
      opts.rewrite = true;
    } else if (arg == "--quiet") {
      opts.quiet = true;
    } else if (arg == "-h" || arg == "--help") {
      Usage();
      return 0;
    } else if (arg.starts_with("-")) {
      Usage();
      return 2;
    } else {
      opts.paths.emplace_back(arg);
    }
  }
  if (opts.paths.empty()) {
    Usage();
    return 2;
  }

  std::vector<std::string> files;
  for (const std::string& p : opts.paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::string> in_dir;
      for (const auto& e : std::filesystem::directory_iterator(p, ec)) {
        if (e.path().extension() == ".txt") in_dir.push_back(e.path().string());
      }
      if (ec) {
        std::fprintf(stderr, "raft_interaction: cannot list %s: %s\n", p.c_str(),
                     ec.message().c_str());
        return 2;
      }
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else {
      files.push_back(p);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "raft_interaction: no scripts found\n");
    return 2;
  }

  size_t passed = 0, failed = 0, directives = 0;
  for (const std::string& f : files) {
    (RunFile(f, opts, &directives) ? passed : failed)++;
  }
  std::printf("raft_interaction (%s storage, %zu directives)\n",
              opts.storage == StorageKind::kDisk ? "disk" : "memory", directives);
  std::printf("scripts: %zu passed, %zu failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
