#include "raftlog/engine/lmdb_check.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

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

// Page flags (mdb.c).
constexpr uint16_t kPageBranch = 0x01;
constexpr uint16_t kPageLeaf = 0x02;
constexpr uint16_t kPageOverflow = 0x04;
// Flags LMDB may leave set on a page it wrote (dirty, loose, keep): no
// bearing on the layout.
constexpr uint16_t kPageTransient = 0x10 | 0x4000 | 0x8000;
// Leaf node flags.
constexpr uint16_t kNodeBigData = 0x01;
constexpr uint16_t kNodeSubData = 0x02;
constexpr uint16_t kNodeDupData = 0x04;
constexpr size_t kNodeHeaderBytes = 8;
// LMDB's cursors hold at most this many pages from root to leaf.
constexpr uint16_t kMaxDepth = 32;

struct Db {
  uint16_t flags = 0;
  uint16_t depth = 0;
  uint64_t root = kInvalidPage;
};

struct Meta {
  uint32_t page_bytes = 0;  // LMDB writes it in both meta pages
  Db free_db;
  Db main_db;
  uint64_t last_page = 0;
  uint64_t txn_id = 0;
};

Db ParseDb(const char* d) {
  return Db{format::DecodeFixed16(d + 4), format::DecodeFixed16(d + 6),
            format::DecodeFixed64(d + 40)};
}

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
  meta.free_db = ParseDb(m + 24);
  meta.main_db = ParseDb(m + 72);
  meta.last_page = format::DecodeFixed64(m + 120);
  meta.txn_id = format::DecodeFixed64(m + 128);
  return meta;
}

// Walks one B-tree from its root, checking every page LMDB (and MetaStore,
// through LMDB) would read: each is inside the file and within the newest
// transaction's pages, is reached once, and every offset and size in it
// stays within the page (and an overflow run within the file).
class TreeWalker {
 public:
  TreeWalker(io::File* file, const std::string& path, uint32_t page_bytes, uint64_t last_page)
      : file_(file), path_(path), page_bytes_(page_bytes), last_page_(last_page),
        page_(page_bytes, '\0') {}

  // `free_db`: the free-page database, whose values LMDB reads as page
  // lists (a count, then that many page numbers) when it allocates pages.
  Status Walk(std::string_view db_name, const Db& db, bool free_db) {
    db_name_ = db_name;
    free_db_ = free_db;
    if (db.root == kInvalidPage) return Status::OK();  // empty
    if (db.depth == 0 || db.depth > kMaxDepth) {
      return Corrupt(db.root, "the " + db_name_ + " database has depth " +
                                  std::to_string(db.depth));
    }
    RAFTLOG_RETURN_IF_ERROR(CheckPageNumber(db.root, db.root));
    return WalkPage(db.root, 1, db.depth, std::nullopt, std::nullopt);
  }

  // After both walks: no page is both free and reachable, and none is free
  // twice. LMDB hands out free pages to new writes without looking: a page
  // of the tree it also finds free is overwritten while still in use (an
  // assertion in mdb_page_touch kills the process, or the tree is damaged
  // silently).
  Status CheckFreePages() {
    std::unordered_set<uint64_t> free;
    for (const auto& [page, list_page] : free_pages_) {
      if (seen_.count(page) != 0) {
        return Corrupt(list_page, "a free-page list names page " + std::to_string(page) +
                                      ", which a database of the newest transaction uses");
      }
      if (!free.insert(page).second) {
        return Corrupt(list_page, "page " + std::to_string(page) +
                                      " is named by free-page lists twice");
      }
    }
    return Status::OK();
  }

 private:
  Status Corrupt(uint64_t pgno, const std::string& problem) const {
    return Status::Corruption(path_ + ": LMDB page " + std::to_string(pgno) + ": " + problem);
  }

  Status CheckPageNumber(uint64_t pgno, uint64_t from) {
    if (pgno < 2 || pgno > last_page_) {
      return Corrupt(from, "refers to page " + std::to_string(pgno) +
                               ", outside the newest transaction's pages 2 to " +
                               std::to_string(last_page_));
    }
    if (!seen_.insert(pgno).second) {
      return Corrupt(from, "refers to page " + std::to_string(pgno) +
                               ", which is reached twice (a cycle or a shared page)");
    }
    return Status::OK();
  }

  Status Read(uint64_t pgno) {
    RAFTLOG_ASSIGN_OR_RETURN(std::string_view got,
                             file_->PRead(pgno * page_bytes_, page_bytes_, page_.data()));
    if (got.size() != page_bytes_) return Corrupt(pgno, "lies past the end of the file");
    if (got.data() != page_.data()) page_.assign(got);
    return Status::OK();
  }

  // LMDB's order of keys: the main database's compare as bytes, then by
  // length (mdb_cmp_memn); the free-page database's are 8-byte integers.
  int Compare(std::string_view a, std::string_view b) const {
    if (!free_db_) return a.compare(b);
    const uint64_t x = format::DecodeFixed64(a.data()), y = format::DecodeFixed64(b.data());
    return x < y ? -1 : x > y ? 1 : 0;
  }

  // `floor` and `ceiling`: the keys of this page's subtree lie in
  // [floor, ceiling) (nullopt: unbounded), as the branch node naming it
  // says; LMDB's binary searches find nothing, or another key's value,
  // where they do not.
  Status WalkPage(uint64_t pgno, uint16_t depth, uint16_t db_depth,
                  const std::optional<std::string>& floor,
                  const std::optional<std::string>& ceiling) {
    RAFTLOG_RETURN_IF_ERROR(Read(pgno));
    const char* p = page_.data();
    if (format::DecodeFixed64(p) != pgno) {
      return Corrupt(pgno, "its header says it is page " + std::to_string(format::DecodeFixed64(p)));
    }
    const uint16_t flags = format::DecodeFixed16(p + 10) & ~kPageTransient;
    const bool leaf = flags == kPageLeaf;
    if (flags != kPageBranch && flags != kPageLeaf) {
      return Corrupt(pgno, "has page flags " + std::to_string(flags) + " where a " +
                               (depth == db_depth ? "leaf" : "branch") + " page of the " +
                               db_name_ + " database belongs");
    }
    if (leaf != (depth == db_depth)) {
      return Corrupt(pgno, std::string("is a ") + (leaf ? "leaf" : "branch") + " page at depth " +
                               std::to_string(depth) + " of the " + db_name_ +
                               " database, whose depth is " + std::to_string(db_depth));
    }
    const uint16_t lower = format::DecodeFixed16(p + 12);
    const uint16_t upper = format::DecodeFixed16(p + 14);
    if (lower < kPageHeaderBytes || lower > upper || upper > page_bytes_ ||
        (lower - kPageHeaderBytes) % 2 != 0) {
      return Corrupt(pgno, "free-space bounds " + std::to_string(lower) + ".." +
                               std::to_string(upper) + " do not fit a " +
                               std::to_string(page_bytes_) + "-byte page");
    }
    const size_t keys = (lower - kPageHeaderBytes) / 2;
    if (keys == 0 && !leaf) return Corrupt(pgno, "is a branch page without nodes");
    // Copy what the children need: page_ is reused by the recursion.
    std::vector<uint64_t> children;
    std::vector<std::optional<std::string>> child_floors;
    std::optional<std::string> previous;
    for (size_t k = 0; k < keys; ++k) {
      const uint16_t at = format::DecodeFixed16(p + kPageHeaderBytes + 2 * k);
      const std::string node = "node " + std::to_string(k) + " (at " + std::to_string(at) + ")";
      if (at < upper || at + kNodeHeaderBytes > page_bytes_) {
        return Corrupt(pgno, node + " lies outside the page's node area " +
                                 std::to_string(upper) + ".." + std::to_string(page_bytes_));
      }
      const char* n = p + at;
      const uint16_t lo = format::DecodeFixed16(n);
      const uint16_t hi = format::DecodeFixed16(n + 2);
      const uint16_t node_flags = format::DecodeFixed16(n + 4);
      const uint16_t key_bytes = format::DecodeFixed16(n + 6);
      const uint64_t key_end = at + kNodeHeaderBytes + key_bytes;
      if (key_end > page_bytes_) {
        return Corrupt(pgno, node + ": its " + std::to_string(key_bytes) +
                                 "-byte key runs past the end of the page");
      }
      // The first node of a branch page has no key (its child holds what
      // lies below the second's).
      if (leaf || k > 0) {
        const std::string_view key(n + kNodeHeaderBytes, key_bytes);
        if (free_db_ && key_bytes != 8) {
          return Corrupt(pgno, node + ": a free-page list keyed by " + std::to_string(key_bytes) +
                                   " bytes, not an 8-byte transaction id");
        }
        if (key.empty()) return Corrupt(pgno, node + " has an empty key");
        const bool above = previous.has_value() ? Compare(*previous, key) < 0
                                                : !floor.has_value() || Compare(*floor, key) <= 0;
        const bool below = !ceiling.has_value() || Compare(key, *ceiling) < 0;
        if (!above || !below) {
          return Corrupt(pgno, node + ": its key is out of order (below the node before it, or "
                                      "outside the range its branch node gives the page)");
        }
        previous = std::string(key);
      }
      if (!leaf) {
        const uint64_t child = lo | (uint64_t{hi} << 16) | (uint64_t{node_flags} << 32);
        RAFTLOG_RETURN_IF_ERROR(CheckPageNumber(child, pgno));
        children.push_back(child);
        child_floors.push_back(k == 0 ? floor : previous);
        continue;
      }
      const uint64_t data_bytes = lo | (uint64_t{hi} << 16);
      if ((node_flags & (kNodeSubData | kNodeDupData)) != 0 ||
          (node_flags & ~(kNodeBigData | kNodeSubData | kNodeDupData)) != 0) {
        return Corrupt(pgno, node + " has flags " + std::to_string(node_flags) +
                                 " (sub-databases and duplicates are never written here)");
      }
      if ((node_flags & kNodeBigData) == 0) {
        if (key_end + data_bytes > page_bytes_) {
          return Corrupt(pgno, node + ": its " + std::to_string(data_bytes) +
                                   "-byte value runs past the end of the page");
        }
        if (free_db_) {
          RAFTLOG_RETURN_IF_ERROR(
              CheckPageList(std::string_view(n + kNodeHeaderBytes + key_bytes, data_bytes), pgno));
        }
        continue;
      }
      if (key_end + 8 > page_bytes_) {
        return Corrupt(pgno, node + ": its overflow page number runs past the end of the page");
      }
      const uint64_t first = format::DecodeFixed64(n + kNodeHeaderBytes + key_bytes);
      RAFTLOG_RETURN_IF_ERROR(CheckOverflow(first, data_bytes, pgno));
      if (free_db_) {
        // The value spans the overflow run, after its first page's header.
        std::string value(data_bytes, '\0');
        RAFTLOG_ASSIGN_OR_RETURN(
            std::string_view got,
            file_->PRead(first * page_bytes_ + kPageHeaderBytes, data_bytes, value.data()));
        if (got.size() != data_bytes) return Corrupt(first, "lies past the end of the file");
        RAFTLOG_RETURN_IF_ERROR(CheckPageList(got, first));
      }
      // CheckOverflow read another page: read this one again.
      RAFTLOG_RETURN_IF_ERROR(Read(pgno));
      p = page_.data();
    }
    for (size_t k = 0; k < children.size(); ++k) {
      RAFTLOG_RETURN_IF_ERROR(WalkPage(children[k], static_cast<uint16_t>(depth + 1), db_depth,
                                       child_floors[k],
                                       k + 1 < children.size() ? child_floors[k + 1] : ceiling));
    }
    return Status::OK();
  }

  // A free-page list: u64 count, then that many page numbers, each a page of
  // the file that is not a meta page (kept for CheckFreePages).
  Status CheckPageList(std::string_view value, uint64_t pgno) {
    if (value.size() < 8 || value.size() % 8 != 0) {
      return Corrupt(pgno, "a free-page list of " + std::to_string(value.size()) + " bytes");
    }
    const uint64_t count = format::DecodeFixed64(value.data());
    if (count > value.size() / 8 - 1) {
      return Corrupt(pgno, "a free-page list says " + std::to_string(count) +
                               " pages but holds at most " + std::to_string(value.size() / 8 - 1));
    }
    for (uint64_t k = 1; k <= count; ++k) {
      const uint64_t page = format::DecodeFixed64(value.data() + 8 * k);
      if (page < 2 || page > last_page_) {
        return Corrupt(pgno, "a free-page list names page " + std::to_string(page) +
                                 ", outside pages 2 to " + std::to_string(last_page_));
      }
      free_pages_.emplace_back(page, pgno);
    }
    return Status::OK();
  }

  Status CheckOverflow(uint64_t first, uint64_t data_bytes, uint64_t from) {
    RAFTLOG_RETURN_IF_ERROR(CheckPageNumber(first, from));
    RAFTLOG_RETURN_IF_ERROR(Read(first));
    const char* p = page_.data();
    if (format::DecodeFixed64(p) != first) {
      return Corrupt(first, "its header says it is page " + std::to_string(format::DecodeFixed64(p)));
    }
    const uint16_t flags = format::DecodeFixed16(p + 10) & ~kPageTransient;
    if (flags != kPageOverflow) {
      return Corrupt(first, "has page flags " + std::to_string(flags) +
                                " where an overflow page belongs (named by page " +
                                std::to_string(from) + ")");
    }
    const uint64_t pages = format::DecodeFixed32(p + 12);
    if (pages == 0 || pages > last_page_ - first + 1) {
      return Corrupt(first, "an overflow run of " + std::to_string(pages) +
                                " pages does not fit before the last page " +
                                std::to_string(last_page_));
    }
    if (data_bytes + kPageHeaderBytes > pages * page_bytes_) {
      return Corrupt(first, "an overflow run of " + std::to_string(pages) +
                                " pages cannot hold the " + std::to_string(data_bytes) +
                                "-byte value page " + std::to_string(from) + " says it holds");
    }
    for (uint64_t k = 1; k < pages; ++k) {
      if (!seen_.insert(first + k).second) {
        return Corrupt(first, "its overflow run overlaps page " + std::to_string(first + k) +
                                  ", which is used elsewhere");
      }
    }
    return Status::OK();
  }

  io::File* const file_;
  const std::string& path_;
  const uint64_t page_bytes_;
  const uint64_t last_page_;
  std::string db_name_;
  bool free_db_ = false;
  std::string page_;
  std::unordered_set<uint64_t> seen_;
  // (free page, the page whose list names it), from every free-page list.
  std::vector<std::pair<uint64_t, uint64_t>> free_pages_;
};

}  // namespace

Result<LmdbFileInfo> CheckLmdbFile(io::FileSystem* fs, const std::string& path) {
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<io::File> file, fs->Open(path, io::OpenMode::kReadOnly));
  auto corrupt = [&](const std::string& problem) {
    return Status::Corruption(path + ": " + problem);
  };
  // A writer may commit while this runs (a reader beside a live writer):
  // LMDB reuses the pages of a transaction two commits old, which may then
  // not look like the tree read here. A walk that fails while the newest
  // transaction changed is tried again.
  Status last_walk;
  for (int attempt = 0; attempt < 3; ++attempt) {
    RAFTLOG_ASSIGN_OR_RETURN(const uint64_t size, file->Size());
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
    RAFTLOG_ASSIGN_OR_RETURN(std::string_view page1,
                             file->PRead(page_bytes, kNeed, scratch1.data()));
    std::optional<Meta> meta1 = ParseMeta(page1);
    // LMDB takes the page size from whichever meta page is newest: one that
    // disagrees with page 0's made it walk pages of a size the file does not
    // have (a SIGBUS inside mdb_env_open).
    if (meta1.has_value() && meta1->page_bytes != page_bytes) {
      return corrupt("LMDB's meta pages disagree on the page size (" + std::to_string(page_bytes) +
                     " and " + std::to_string(meta1->page_bytes) + " bytes)");
    }
    Meta newest = *meta0;
    if (meta1.has_value() && meta1->txn_id > meta0->txn_id) newest = *meta1;
    const uint64_t meta_page = newest.txn_id == meta0->txn_id ? 0 : 1;
    // LMDB writes transaction t to meta page t % 2, and a process that opens
    // the lock file reads the meta page of the last transaction's parity, not
    // the one with the larger id: a damaged id of the other parity would make
    // LMDB read the tree of the other meta page than the one checked here.
    if (newest.txn_id % 2 != meta_page) {
      return Status::Corruption(path + ": LMDB page " + std::to_string(meta_page) +
                                ": holds transaction " + std::to_string(newest.txn_id) +
                                ", which LMDB looks for in meta page " +
                                std::to_string(newest.txn_id % 2) + " (a damaged transaction id)");
    }

    for (const uint64_t root : {newest.main_db.root, newest.free_db.root}) {
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
    // The main database is the unnamed one MetaStore opens with no flags:
    // other flags would make LMDB read its nodes another way (duplicates,
    // integer keys of a fixed size).
    if (newest.main_db.flags != 0) {
      return Status::Corruption(path + ": LMDB page " + std::to_string(meta_page) +
                                ": the main database has flags " +
                                std::to_string(newest.main_db.flags) + ", expected none");
    }
    // An empty database (no root) of a non-zero depth: LMDB would add that
    // depth to the one of the root page it makes for the next write, and
    // write a tree the next open cannot read.
    for (const auto& [name, db] : {std::pair{"main", newest.main_db},
                                   std::pair{"free-page", newest.free_db}}) {
      if (db.root == kInvalidPage && db.depth != 0) {
        return Status::Corruption(path + ": LMDB page " + std::to_string(meta_page) + ": the " +
                                  name + " database has no root page but depth " +
                                  std::to_string(db.depth));
      }
    }
    TreeWalker walker(file.get(), path, page_bytes, newest.last_page);
    last_walk = walker.Walk("main", newest.main_db, /*free_db=*/false);
    if (last_walk.ok()) last_walk = walker.Walk("free-page", newest.free_db, /*free_db=*/true);
    if (last_walk.ok()) last_walk = walker.CheckFreePages();
    if (last_walk.ok()) return LmdbFileInfo{page_bytes, newest.last_page, newest.txn_id, size};
    if (last_walk.IsIOError() || last_walk.IsNotFound()) return last_walk;
    // Did a writer commit meanwhile? Then look again.
    std::string again(kNeed, '\0');
    RAFTLOG_ASSIGN_OR_RETURN(std::string_view a0, file->PRead(0, kNeed, again.data()));
    std::optional<Meta> m0 = ParseMeta(a0);
    std::string again1(kNeed, '\0');
    RAFTLOG_ASSIGN_OR_RETURN(std::string_view a1,
                             file->PRead(page_bytes, kNeed, again1.data()));
    std::optional<Meta> m1 = ParseMeta(a1);
    const uint64_t now = std::max(m0 ? m0->txn_id : 0, m1 ? m1->txn_id : 0);
    if (now == newest.txn_id) break;
  }
  return last_walk;
}

}  // namespace raftlog::engine
