#include "tools/tail_cut.h"

#include <algorithm>
#include <ctime>
#include <memory>
#include <string_view>
#include <vector>

#include "raftlog/format/layout.h"

namespace raftlog::tools {

namespace {
constexpr uint64_t kChunkBytes = 1u << 20;
}  // namespace

std::string SideFileName(const std::string& segment_name) {
  return format::layout::RepairSideFileName(segment_name, std::time(nullptr));
}

Status SaveAndZero(io::FileSystem* fs, const std::string& dir, const std::string& segment_path,
                   uint64_t from, uint64_t to, const std::string& side_path) {
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<io::File> segment,
                           fs->Open(segment_path, io::OpenMode::kReadWrite));
  RAFTLOG_ASSIGN_OR_RETURN(const uint64_t size, segment->Size());
  if (from >= to || to > size) {
    return Status::InvalidArgument(segment_path + ": cannot cut [" + std::to_string(from) + ", " +
                                   std::to_string(to) + ") of a " + std::to_string(size) +
                                   "-byte file");
  }

  // 1. The removed bytes go to the side file first, durably.
  {
    RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<io::File> side,
                             fs->Open(side_path, io::OpenMode::kCreateExclusive));
    std::vector<char> buf(kChunkBytes);
    for (uint64_t off = from; off < to;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunkBytes, to - off));
      RAFTLOG_ASSIGN_OR_RETURN(std::string_view got, segment->PRead(off, n, buf.data()));
      if (got.empty()) {
        return Status::IOError(segment_path + ": unexpected end of file at offset " +
                               std::to_string(off));
      }
      const std::string_view pieces[] = {got};
      RAFTLOG_RETURN_IF_ERROR(side->PWrite(off - from, pieces));
      off += got.size();
    }
    RAFTLOG_RETURN_IF_ERROR(side->Sync());
  }
  RAFTLOG_RETURN_IF_ERROR(fs->SyncDir(dir));

  // 2. Zero the range, then make the zeros durable.
  const std::string zeros(static_cast<size_t>(std::min<uint64_t>(kChunkBytes, to - from)), '\0');
  for (uint64_t off = from; off < to;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), to - off));
    const std::string_view pieces[] = {std::string_view(zeros).substr(0, n)};
    RAFTLOG_RETURN_IF_ERROR(segment->PWrite(off, pieces));
    off += n;
  }
  return segment->Sync();
}

}  // namespace raftlog::tools
