// A check of an LMDB data file's own header, made before LMDB maps the file.
//
// LMDB trusts its file: it maps it and follows page numbers without checking
// them against the file's size, so a truncated meta.mdb (a bad copy, a full
// disk during a backup) makes it touch pages past the end of the file, and
// the process dies of SIGBUS. The engine (MetaStore::Open) and the tool must
// report such a file, not crash, so they read LMDB's two meta pages itself (a stable, documented
// layout) and checks that the file holds every page the newest transaction uses.
// LMDB 0.9 has no page checksums either, and one damaged byte inside a page
// (a node's key size, a child page number, an overflow page count) makes it
// read outside its map: so the check also walks both B-trees of the newest
// transaction (the main database and the free-page database), page by page,
// and checks that every page a reader can reach is in the file and reached
// once, every node, key and value lies within its page, every overflow run
// within the file, and every free-page list names pages of the file that no
// tree reaches, each once (LMDB hands free pages out to new writes unchecked).
// Page layout (mdb.c): a 16-byte header (u64 page number, u16 pad, u16
// flags, u16 lower and u16 upper bounds of the free space, or u32 page count
// of an overflow run), then u16 node offsets; a node is u16 lo, u16 hi (the
// value size, or with the flags the child page number of a branch node), u16
// flags, u16 key size, then the key and the value (or an overflow page
// number).
//
// Layout read here (lmdb.h / mdb.c, LMDB 0.9, native byte order, which is
// little-endian on every platform raftlog supports): each of pages 0 and 1
// starts with a 16-byte page header followed by the MDB_meta:
//   +0  u32 magic 0xBEEFC0DE   +4 u32 version (1)
//   +8  u64 address            +16 u64 map size
//   +24 MDB_db free-list db (48 bytes; its first u32 holds the page size)
//   +72 MDB_db main db (48 bytes; its root page number at +40)
//   +120 u64 last used page    +128 u64 transaction id
// LMDB uses the meta page with the larger transaction id.
//
// Thread-safe (no state).

#pragma once

#include <cstdint>
#include <string>

#include "raftlog/format/status.h"
#include "raftlog/io/file_system.h"

namespace raftlog::engine {

struct LmdbFileInfo {
  uint32_t page_bytes = 0;
  uint64_t last_page = 0;  // of the newest meta page
  uint64_t txn_id = 0;     // of the newest meta page
  uint64_t file_bytes = 0;
};

// Checks the LMDB data file at `path`. Returns Corruption ("<path>: ...")
// for a file too short for its meta pages, without a valid meta page (not
// an LMDB file), with an impossible page size, shorter than the pages its
// newest transaction uses (truncated), or with a page of its trees that
// fails the walk above ("<path>: LMDB page <n>: ..."); NotFound or IOError
// if it cannot be read. A walk that fails while a writer commits (the
// newest transaction changed meanwhile) is made again.
Result<LmdbFileInfo> CheckLmdbFile(io::FileSystem* fs, const std::string& path);

}  // namespace raftlog::engine
