// Fuzz target: a damaged meta.mdb (the LMDB file of the engine's metadata)
// under an intact log. Starts from a real log (log_template.h: entries in
// three segments, a HardState, a snapshot file at 30, compacted to 20),
// replaces its meta.mdb by a damaged one, and opens it through DiskStorage,
// read-only and then writable. Properties:
//  - open never crashes: LMDB 0.9 trusts its file (no page checksums, page
//    numbers and sizes followed unchecked), so engine/lmdb_check.h walks the
//    file before LMDB maps it, and every value is a checksummed record;
//  - what an open accepts is consistent: FirstIndex() - 1 is the snapshot's
//    index or log/start's; the commit index and the snapshot's index are
//    within the log; Term(i) answers for every i in [FirstIndex() - 1,
//    LastIndex()], terms never decrease, and the snapshot's index has the
//    snapshot's term where the log knows it; Entries() over the whole log
//    returns consecutive entries agreeing with Term(), or Corruption (or
//    NotSupported); the snapshot metadata is what the snapshot file it names
//    holds (index, term, ConfState, data); a read-only and a writable open
//    that both succeed serve the same log; and a writable open then takes a
//    write and reopens with it (ExerciseLog).
// A violated property aborts (FuzzFail), so libFuzzer reports the input.
//
// Input: a control byte, then either patches or a whole file.
//   bit 0  the rest of the input is the whole meta.mdb (else: patches)
//   bit 1  afterwards, recompute the checksum of every engine value found in
//          a leaf page (a forged record), so that damage to a value reaches
//          the cross-checks behind its checksum
// A patch (at most 16): u32 offset (mod the file size + 1), u8 operation
// (mod 6), then per operation: 0 XOR the byte there with (u8, 0 taken as 1);
// 1 set the byte to (u8); 2 set the u16 there (little-endian, as LMDB's page
// bounds, node sizes and key sizes) to (u16); 3 set the u64 there (page
// numbers, transaction ids) to (u64); 4 truncate the file there; 5 zero
// (u8 * 16) bytes from there.
//
// Why patches by default: LMDB's structures sit at fixed offsets of 4 KiB
// pages, and a file that is not exactly page-structured is refused by the
// first check. A typed patch at a chosen offset keeps every other page
// intact, so each damaged field is judged by the check behind it (meta page,
// tree walk, node bounds, free-page lists, overflow runs, value checksums,
// cross-checks with the segments and the snapshot file), and the u16/u64
// forms reach "plausible" page numbers and sizes that a byte mutator rarely
// builds. The whole-file form lets libFuzzer's own mutators (insertions,
// erasures, cross-overs between inputs) reach shifted and mixed layouts,
// starting from the template's file in the corpus.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "raftlog/engine/disk_storage.h"
#include "raftlog/engine/meta_store.h"
#include "raftlog/format/checksum.h"
#include "raftlog/format/coding.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/io/file_system.h"
#include "raftlog/snapshot/snapshot_store.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/log_template.h"

namespace raftlog::fuzz {
namespace {

void ApplyPatches(FuzzInput& in, std::string* file) {
  for (int patch = 0; patch < 16 && !in.empty(); ++patch) {
    const size_t offset = in.U32() % (file->size() + 1);
    const uint8_t op = in.Byte() % 6;
    const size_t room = file->size() - offset;
    switch (op) {
      case 0: {
        const uint8_t mask = in.Byte();
        if (room > 0) (*file)[offset] ^= static_cast<char>(mask == 0 ? 1 : mask);
        break;
      }
      case 1: {
        const uint8_t value = in.Byte();
        if (room > 0) (*file)[offset] = static_cast<char>(value);
        break;
      }
      case 2: {
        const uint16_t value = static_cast<uint16_t>(in.Byte() | (in.Byte() << 8));
        if (room >= 2) format::EncodeFixed16(file->data() + offset, value);
        break;
      }
      case 3: {
        const uint64_t value = in.U32() | (uint64_t{in.U32()} << 32);
        if (room >= 8) format::EncodeFixed64(file->data() + offset, value);
        break;
      }
      case 4:
        file->resize(offset);
        break;
      default: {
        const size_t n = std::min<size_t>(size_t{in.Byte()} * 16, room);
        file->replace(offset, n, n, '\0');
        break;
      }
    }
  }
}

// The checksum seed of the engine's value under `key`, or nullopt for a key
// whose value has no checksum ("format") or that is not the engine's.
std::optional<uint64_t> SeedOf(std::string_view key) {
  if (key == "state/hardstate") return format::kHardStateSeed;
  if (key == "state/snapshot") return format::kSnapshotMetaSeed;
  if (key == "log/start") return format::kLogStartSeed;
  if (key == format::kDurableKey) return format::kDurableRecordSeed;
  if (key == "log/next_segment_id" || key == "log/generation") return format::CounterSeed(key);
  if (key.starts_with("seg/")) return format::kSegmentRecordSeed;
  return std::nullopt;
}

// Recomputes, in place, the trailing checksum of every checksummed engine
// value stored in a leaf page of `file` (page layout: lmdb_check.h). Looks
// at every page, live or not, and never reads outside `file`.
void ForgeValueChecksums(std::string* file) {
  constexpr size_t kPageHeader = 16, kNodeHeader = 8;
  size_t page_bytes = 4096;
  if (file->size() >= 16 + 28) {
    const uint32_t stored = format::DecodeFixed32(file->data() + 16 + 24);
    if (stored >= 512 && stored <= 65536 && (stored & (stored - 1)) == 0) page_bytes = stored;
  }
  for (size_t base = 0; base + page_bytes <= file->size(); base += page_bytes) {
    char* p = file->data() + base;
    const uint16_t flags = format::DecodeFixed16(p + 10);
    if ((flags & 0x07) != 0x02) continue;  // not a leaf page
    const uint16_t lower = format::DecodeFixed16(p + 12);
    if (lower < kPageHeader || lower > page_bytes) continue;
    for (size_t k = 0; kPageHeader + 2 * k + 2 <= lower; ++k) {
      const size_t at = format::DecodeFixed16(p + kPageHeader + 2 * k);
      if (at + kNodeHeader > page_bytes) continue;
      const char* n = p + at;
      const uint64_t data_bytes =
          format::DecodeFixed16(n) | (uint64_t{format::DecodeFixed16(n + 2)} << 16);
      const uint16_t node_flags = format::DecodeFixed16(n + 4);
      const size_t key_bytes = format::DecodeFixed16(n + 6);
      if ((node_flags & 0x01) != 0) continue;  // an overflow value
      if (at + kNodeHeader + key_bytes + data_bytes > page_bytes) continue;
      const std::string_view key(n + kNodeHeader, key_bytes);
      const std::optional<uint64_t> seed = SeedOf(key);
      if (!seed.has_value() || data_bytes < 9) continue;
      char* value = p + at + kNodeHeader + key_bytes;
      const bool checksummed = key == format::kDurableKey ||
                               static_cast<uint8_t>(value[0]) >= format::kChecksummedMetaRecordVersion;
      if (!checksummed) continue;
      const size_t body = data_bytes - 8;
      format::EncodeFixed64(value + body, format::Checksum64(std::string_view(value, body), *seed));
    }
  }
}

// What an open served.
struct Served {
  uint64_t first = 0, last = 0;
  raft::HardState hs;
  raft::SnapshotMetadata snapshot;
};

void Expect(bool ok, const std::string& what) {
  if (!ok) FuzzFail(what);
}

// The consistency of an opened log; see the top of the file.
Served CheckServed(const engine::DiskStorage& s, const std::string& dir, const char* how) {
  const std::string at = std::string(how) + " open: ";
  Served out;
  out.first = *s.FirstIndex();
  out.last = *s.LastIndex();
  auto initial = s.InitialState();
  Expect(initial.ok(), at + "InitialState: " + initial.status().ToString());
  out.hs = initial->hard_state;
  auto snap = s.Snapshot();
  Expect(snap.ok(), at + "Snapshot: " + snap.status().ToString());
  out.snapshot = snap->metadata;
  const uint64_t snap_index = snap->metadata.index;

  Expect(out.first >= 1 && out.last + 1 >= out.first,
         at + "log [" + std::to_string(out.first) + ", " + std::to_string(out.last) + "]");
  Expect(out.hs.commit <= out.last, at + "commit " + std::to_string(out.hs.commit) +
                                        " beyond the last index " + std::to_string(out.last));
  Expect(snap_index <= out.last, at + "snapshot index " + std::to_string(snap_index) +
                                     " beyond the last index " + std::to_string(out.last));
  Expect(initial->conf_state == snap->metadata.conf_state,
         at + "InitialState's ConfState is not the snapshot's");

  // Terms across [first - 1, last]: each answers, none decreases.
  uint64_t prev_term = 0;
  for (uint64_t i = out.first - 1; i <= out.last; ++i) {
    auto term = s.Term(i);
    Expect(term.ok(), at + "Term(" + std::to_string(i) + "): " + term.status().ToString());
    Expect(*term >= prev_term, at + "terms decrease at " + std::to_string(i));
    if (i == snap_index && snap_index != 0) {
      Expect(*term == snap->metadata.term,
             at + "Term(" + std::to_string(i) + ") = " + std::to_string(*term) +
                 " but the snapshot there has term " + std::to_string(snap->metadata.term));
    }
    prev_term = *term;
  }

  // Entries over the whole log: OK and consistent, or a clear error.
  uint64_t next = out.first;
  while (next <= out.last) {
    auto entries = s.Entries(next, out.last + 1, 256 << 10);
    if (!entries.ok()) {
      const Status& st = entries.status();
      Expect(st.IsCorruption() || st.IsNotSupported(),
             at + "Entries(" + std::to_string(next) + "): " + st.ToString());
      break;
    }
    Expect(!entries->empty(), at + "Entries returned nothing");
    for (const raft::Entry& e : *entries) {
      Expect(e.index == next, at + "entries are not consecutive at " + std::to_string(next));
      auto term = s.Term(e.index);
      Expect(term.ok() && *term == e.term, at + "Term() disagrees at " + std::to_string(e.index));
      ++next;
    }
  }

  // The snapshot metadata is what the file it names holds.
  if (snap_index != 0) {
    snapshot::SnapshotStoreOptions options;
    options.read_only = true;
    auto store = snapshot::SnapshotStore::Open(io::FileSystem::Default(), dir + "/snapshots", options);
    Expect(store.ok(), at + "the snapshot directory: " + store.status().ToString());
    auto listed = (*store)->List();
    Expect(listed.ok(), at + "listing snapshots: " + listed.status().ToString());
    const snapshot::SnapshotInfo* file = nullptr;
    for (const snapshot::SnapshotInfo& info : *listed) {
      if (info.meta.index == snap_index && info.meta.term == snap->metadata.term) file = &info;
    }
    Expect(file != nullptr, at + "no snapshot file holds index " + std::to_string(snap_index) +
                                " term " + std::to_string(snap->metadata.term));
    auto loaded = (*store)->Load(file->name);
    Expect(loaded.ok(), at + "loading " + file->name + ": " + loaded.status().ToString());
    Expect(loaded->second == snap->data, at + "the snapshot's data is not its file's");
    auto cs = format::DecodeConfState(loaded->first.meta.conf_state);
    Expect(cs.ok(), at + "the snapshot file's ConfState: " + cs.status().ToString());
    const raft::ConfState& got = snap->metadata.conf_state;
    Expect(cs->voters == got.voters && cs->learners == got.learners &&
               cs->voters_outgoing == got.voters_outgoing &&
               cs->learners_next == got.learners_next && cs->auto_leave == got.auto_leave,
           at + "the snapshot's ConfState is not its file's");
  }
  return out;
}

// FirstIndex() - 1 is the snapshot's index or log/start's (read once the
// storage is closed: one LMDB environment per file and process).
void CheckFirstIndex(const Served& served, const std::string& dir, const char* how) {
  engine::MetaStore::OpenOptions options;
  options.read_only = true;
  auto meta = engine::MetaStore::Open(dir + "/meta.mdb", options);
  Expect(meta.ok(), std::string(how) + " open succeeded, but its metadata does not open again: " +
                        meta.status().ToString());
  auto start = (*meta)->Get("log/start");
  Expect(start.ok(), std::string(how) + " open: reading log/start: " + start.status().ToString());
  uint64_t start_first = 1;
  if (start->has_value()) {
    auto decoded = format::DecodeLogStart(**start);
    Expect(decoded.ok(), std::string(how) + " open accepted a log/start that does not decode: " +
                             decoded.status().ToString());
    start_first = decoded->first_index;
  }
  Expect(served.first - 1 == served.snapshot.index || served.first == start_first,
         std::string(how) + " open: first index " + std::to_string(served.first) +
             " is neither after the snapshot (" + std::to_string(served.snapshot.index) +
             ") nor log/start's (" + std::to_string(start_first) + ")");
}

std::optional<Served> OpenAndCheck(const std::string& dir, bool read_only) {
  const char* how = read_only ? "a read-only" : "a writable";
  std::optional<Served> served;
  {
    auto opened = engine::DiskStorage::Open(
        dir, FuzzOptions(engine::RecoveryPolicy::kTolerateTornTail, read_only));
    if (!opened.ok()) return std::nullopt;
    served = CheckServed(**opened, dir, how);
    if (!read_only) {
      const Status closed = (*opened)->Close();
      if (!closed.ok()) return std::nullopt;
    }
  }
  CheckFirstIndex(*served, dir, how);
  return served;
}

}  // namespace
}  // namespace raftlog::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace raftlog;
  using namespace raftlog::fuzz;
  FuzzInput in(data, size);
  const uint8_t control = in.Byte();
  const std::string dir = ScratchDir() + "/log";
  CopyTemplate(dir);
  const std::string path = dir + "/meta.mdb";
  std::string file;
  if ((control & 1) != 0) {
    file = std::string(in.Rest());
  } else {
    file = ReadFileOrDie(path);
    ApplyPatches(in, &file);
  }
  if ((control & 2) != 0) ForgeValueChecksums(&file);
  WriteFileOrDie(path, file);

  const std::optional<Served> read_only = OpenAndCheck(dir, /*read_only=*/true);
  const std::optional<Served> writable = OpenAndCheck(dir, /*read_only=*/false);
  if (read_only.has_value() && writable.has_value()) {
    const Served& a = *read_only;
    const Served& b = *writable;
    Expect(a.first == b.first && a.last == b.last && a.hs.term == b.hs.term &&
               a.hs.vote == b.hs.vote && a.snapshot == b.snapshot,
           "a read-only and a writable open serve different logs: [" + std::to_string(a.first) +
               ", " + std::to_string(a.last) + "] vs [" + std::to_string(b.first) + ", " +
               std::to_string(b.last) + "]");
  }
  // A log a writable open accepted takes a write and reopens with it.
  if (writable.has_value()) {
    ExerciseLog(dir, FuzzOptions(engine::RecoveryPolicy::kTolerateTornTail, false));
  }
  return 0;
}
