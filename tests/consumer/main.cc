// Uses a little of each linked library through its installed public headers.
#include <cstdio>
#include <vector>

#include "raftlog/format/checksum.h"
#include "raftlog/format/result.h"
#include "raftlog/raft/memory_storage.h"

int main() {
  raftlog::raft::MemoryStorage storage;
  std::vector<raftlog::raft::Entry> entries = {{1, 1, raftlog::raft::EntryType::kNormal, "a"},
                                               {1, 2, raftlog::raft::EntryType::kNormal, "b"}};
  if (!storage.Append(entries).ok()) return 1;
  raftlog::Result<uint64_t> last = storage.LastIndex();
  if (!last.ok() || *last != 2) return 2;
  if (raftlog::format::Checksum64("raftlog") == raftlog::format::Checksum64("raftlog", 1)) {
    return 3;
  }
  std::printf("consumer ok: last index %llu\n", static_cast<unsigned long long>(*last));
  return 0;
}
