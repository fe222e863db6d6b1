#include "raftlog/engine/lmdb_check.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string_view>

#include "raftlog/format/coding.h"

namespace raftlog::engine {

namespace {

constexpr uint32_t kLmdbMagic = 0xBEEFC0DE;
constexpr uint32_t kLmdbDataVersion = 1;
constexpr size_t kPageHeaderBytes = 16;
constexpr size_t kMetaBytes = 136;  // through the transaction id
constexpr uint32_t kMinPageBytes = 512;
constexpr uint32_t kMaxPageBytes = 1u << 16;
constexpr uint64_t kInvalidPage = ~uint64_t{0};

struct Meta {
  uint32_t page_bytes = 0;  // only meaningful in page 0
  uint64_t main_root = 0;
  uint64_t free_root = 0;
  uint64_t last_page = 0;
  uint64_t txn_id = 0;
};

// The meta page whose bytes (page header included) start at `page`, or
// nullopt if its magic or version is wrong.
std::optional<Meta> ParseMeta(std::string_view page) {
  if (page.size() < kPageHeaderBytes + kMetaBytes) return std::nullopt;
  const char* m = page.data() + kPageHeaderBytes;
  if (format::DecodeFixed32(m) != kLmdbMagic || format::DecodeFixed32(m + 4) != kLmdbDataVersion) {
    return std::nullopt;
  }
  Meta meta;
  meta.page_bytes = format::DecodeFixed32(m + 24);
  meta.free_root = format::DecodeFixed64(m + 24 + 40);
  meta.main_root = format::DecodeFixed64(m + 72 + 40);
  meta.last_page = format::DecodeFixed64(m + 120);
  meta.txn_id = format::DecodeFixed64(m + 128);
  return meta;
}

}  // namespace

Result<LmdbFileInfo> CheckLmdbFile(io::FileSystem* fs, const std::string& path) {
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<io::File> file, fs->Open(path, io::OpenMode::kReadOnly));
  RAFTLOG_ASSIGN_OR_RETURN(const uint64_t size, file->Size());
  auto corrupt = [&](const std::string& problem) {
    return Status::Corruption(path + ": " + problem);
  };
  constexpr size_t kNeed = kPageHeaderBytes + kMetaBytes;
  if (size < kNeed) {
    return corrupt("truncated: " + std::to_string(size) +
                   " bytes, too short for LMDB's meta page (an empty or cut file)");
  }
  std::string scratch(kNeed, '\0');
  RAFTLOG_ASSIGN_OR_RETURN(std::string_view page0, file->PRead(0, kNeed, scratch.data()));
  std::optional<Meta> meta0 = ParseMeta(page0);
  if (!meta0.has_value()) return corrupt("not an LMDB data file (no valid meta page at offset 0)");
  const uint32_t page_bytes = meta0->page_bytes;
  if (page_bytes < kMinPageBytes || page_bytes > kMaxPageBytes ||
      (page_bytes & (page_bytes - 1)) != 0) {
    return corrupt("impossible LMDB page size " + std::to_string(page_bytes));
  }
  if (size < 2ull * page_bytes) {
    return corrupt("truncated: " + std::to_string(size) + " bytes, shorter than LMDB's two " +
                   std::to_string(page_bytes) + "-byte meta pages");
  }
  std::string scratch1(kNeed, '\0');
  RAFTLOG_ASSIGN_OR_RETURN(std::string_view page1, file->PRead(page_bytes, kNeed, scratch1.data()));
  std::optional<Meta> meta1 = ParseMeta(page1);
  Meta newest = *meta0;
  if (meta1.has_value() && meta1->txn_id > meta0->txn_id) newest = *meta1;

  for (const uint64_t root : {newest.main_root, newest.free_root}) {
    if (root != kInvalidPage && root > newest.last_page) {
      return corrupt("LMDB meta page of transaction " + std::to_string(newest.txn_id) +
                     " has root page " + std::to_string(root) + " beyond its last page " +
                     std::to_string(newest.last_page));
    }
  }
  // Overflow-safe: last_page + 1 pages of page_bytes each.
  if (newest.last_page >= size / page_bytes) {
    const uint64_t pages = size / page_bytes;
    return corrupt("truncated: " + std::to_string(size) + " bytes (" + std::to_string(pages) +
                   " pages) but LMDB's newest transaction (" + std::to_string(newest.txn_id) +
                   ") uses pages up to " + std::to_string(newest.last_page));
  }
  return LmdbFileInfo{page_bytes, newest.last_page, newest.txn_id, size};
}

}  // namespace raftlog::engine
