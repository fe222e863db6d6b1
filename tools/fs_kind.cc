#include "tools/fs_kind.h"

#include <sys/vfs.h>

#include <cerrno>
#include <cstdio>

namespace raftlog::tools {

namespace {

struct Known {
  uint64_t magic;
  const char* name;
  bool durable;
};

// The f_type values of linux/magic.h for the file systems an operator is
// likely to meet under a log directory.
constexpr Known kKnown[] = {
    {0xEF53, "ext2/ext3/ext4", true},  {0x58465342, "xfs", true},
    {0x9123683E, "btrfs", true},       {0x2FC12FC1, "zfs", true},
    {0xF2F52010, "f2fs", true},        {0x6969, "nfs", true},
    {0x794C7630, "overlayfs", true},   {0x01021994, "tmpfs", false},
    {0x858458F6, "ramfs", false},
};

}  // namespace

Result<FsKind> FileSystemKind(const std::string& path) {
  struct statfs st = {};
  if (::statfs(path.c_str(), &st) != 0) return Status::FromErrno("statfs " + path, errno);
  FsKind kind;
  kind.magic = static_cast<uint64_t>(static_cast<uint32_t>(st.f_type));
  for (const Known& k : kKnown) {
    if (k.magic == kind.magic) {
      kind.name = k.name;
      kind.durable = k.durable;
      return kind;
    }
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "unknown (0x%llx)", static_cast<unsigned long long>(kind.magic));
  kind.name = buf;
  return kind;
}

}  // namespace raftlog::tools
