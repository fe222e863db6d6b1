// raftlog_crash_child: the process that crash_test.cc kills with SIGKILL.
//
//   raftlog_crash_child <log dir> <seed> <segment bytes>
//
// Opens a DiskStorage in <log dir> (default options but the segment size: a
// real file system, a background thread preparing segments, fdatasync on
// every Save that must sync), reports what it found, and then makes raft-like
// calls until it is killed: Saves of entries with commit bumps, new terms
// whose leader cuts the uncommitted tail, commit-only Saves that do not sync,
// Saves with a snapshot, CreateSnapshot and Compact. Every call is reported
// on file descriptor 3 as in crash_protocol.h. Never returns on its own
// unless a call fails (exit status 2) or the arguments are wrong (1).

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "raftlog/engine/disk_storage.h"
#include "tests/reliability/crash_protocol.h"

namespace raftlog::reliability {
namespace {

constexpr int kReportFd = 3;

void Report(const CrashLine& line) {
  const std::string text = EncodeCrashLine(line);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(kReportFd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) std::_Exit(3);  // the parent is gone
    done += static_cast<size_t>(n);
  }
}

[[noreturn]] void Die(const std::string& what, const Status& s) {
  CrashLine line;
  line.kind = CrashLine::Kind::kError;
  line.message = what + ": " + s.ToString();
  // One line, short enough to be written atomically.
  if (line.message.size() > 1000) line.message.resize(1000);
  for (char& c : line.message) {
    if (c == '\n') c = ' ';
  }
  Report(line);
  std::fprintf(stderr, "raftlog_crash_child: %s\n", line.message.c_str());
  std::_Exit(2);
}

int Run(const std::string& dir, uint64_t seed, uint64_t segment_bytes) {
  engine::DiskStorageOptions options;
  options.engine.segment_bytes = segment_bytes;
  auto opened = engine::DiskStorage::Open(dir, options);
  if (!opened.ok()) Die("open", opened.status());
  engine::DiskStorage& storage = **opened;

  // What the log holds, as the child sees it.
  uint64_t first = *storage.FirstIndex();
  uint64_t last = *storage.LastIndex();
  raft::HardState hs = storage.InitialState()->hard_state;
  uint64_t snapshot_index = storage.Snapshot()->metadata.index;
  {
    CrashLine line;
    line.kind = CrashLine::Kind::kOpened;
    line.first = first;
    line.last = last;
    line.hs = hs;
    line.snapshot_index = snapshot_index;
    Report(line);
  }
  if (hs.term == 0) hs.term = 1;

  std::mt19937_64 rng(seed);
  CrashLine ack;
  ack.kind = CrashLine::Kind::kAck;
  for (;;) {
    const uint64_t r = rng() % 100;
    const uint64_t last_term = last >= first ? *storage.Term(last) : *storage.Term(first - 1);
    CrashLine call;
    if (last >= first && last - first > 1500 && hs.commit > first + 500) {
      // Keep the log short: compact most of what is committed.
      call.kind = CrashLine::Kind::kCompact;
      call.index = hs.commit - 200;
    } else if (r < 70 || last < first) {
      // The steady state: entries of the current term and a commit bump.
      call.kind = CrashLine::Kind::kSave;
      call.hs = hs;
      const uint64_t lag = rng() % 4;
      call.hs.commit = std::min(std::max(hs.commit, last > lag ? last - lag : 0), last);
      call.first = last + 1;
      call.count = 1 + rng() % 8;
      call.entry_term = std::max(hs.term, last_term);
    } else if (r < 78) {
      // A new term; its leader may cut entries above the commit index.
      call.kind = CrashLine::Kind::kSave;
      call.hs = raft::HardState{hs.term + 1, rng() % 3, hs.commit};
      const uint64_t lowest = std::max(hs.commit, first - 1) + 1;
      call.first = lowest + rng() % (last + 2 - lowest);
      call.count = 1 + rng() % 5;
      call.entry_term = hs.term + 1;
    } else if (r < 84) {
      // Only the commit index moves: no sync (etcd's MustSync is false).
      call.kind = CrashLine::Kind::kSave;
      call.hs = hs;
      call.hs.commit = last;
      call.must_sync = false;
    } else if (r < 90 && hs.commit >= first) {
      call.kind = CrashLine::Kind::kCompact;
      call.index = first + rng() % (hs.commit - first + 1);
    } else if (r < 96 && hs.commit > snapshot_index && hs.commit >= first) {
      call.kind = CrashLine::Kind::kCreateSnapshot;
      call.snapshot_index = std::max(snapshot_index + 1, first) +
                            rng() % (hs.commit - std::max(snapshot_index + 1, first) + 1);
    } else {
      // A snapshot from the leader, ahead of the log.
      call.kind = CrashLine::Kind::kSave;
      call.snapshot_index = last + 1 + rng() % 30;
      call.snapshot_term = std::max(hs.term, last_term);
      call.hs = raft::HardState{call.snapshot_term, hs.vote, call.snapshot_index};
      if (call.hs.term != hs.term) call.hs.vote = 0;
    }

    Report(call);
    switch (call.kind) {
      case CrashLine::Kind::kSave: {
        const auto entries = CrashEntries(call.first, call.count, call.entry_term);
        const raft::Snapshot snap = CrashSnapshot(call.snapshot_index, call.snapshot_term);
        const Status s = storage.Save(call.hs, entries, call.snapshot_index != 0 ? &snap : nullptr,
                                      call.must_sync);
        if (!s.ok()) Die("Save", s);
        hs = call.hs;
        if (call.snapshot_index != 0) {
          snapshot_index = call.snapshot_index;
          first = snapshot_index + 1;
          last = snapshot_index;
        }
        if (call.count > 0) last = call.first + call.count - 1;
        break;
      }
      case CrashLine::Kind::kCompact: {
        const Status s = storage.Compact(call.index);
        if (!s.ok()) Die("Compact", s);
        first = call.index + 1;
        break;
      }
      case CrashLine::Kind::kCreateSnapshot: {
        const uint64_t term = *storage.Term(call.snapshot_index);
        const raft::ConfState cs = CrashConfState();
        auto s = storage.CreateSnapshot(call.snapshot_index, &cs,
                                        CrashSnapshotData(call.snapshot_index, term));
        if (!s.ok()) Die("CreateSnapshot", s.status());
        snapshot_index = call.snapshot_index;
        break;
      }
      default:
        break;
    }
    Report(ack);
  }
}

}  // namespace
}  // namespace raftlog::reliability

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <log dir> <seed> <segment bytes>\n", argv[0]);
    return 1;
  }
  return raftlog::reliability::Run(argv[1], std::strtoull(argv[2], nullptr, 10),
                                   std::strtoull(argv[3], nullptr, 10));
}
