#include "tests/reliability/crash_protocol.h"

#include <sstream>

namespace raftlog::reliability {

namespace {

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::string Bytes(uint64_t seed, size_t n) {
  std::string out(n, '\0');
  uint64_t state = seed;
  for (size_t k = 0; k < n; k += 8) {
    state = SplitMix(state);
    for (size_t b = 0; b < 8 && k + b < n; ++b) out[k + b] = static_cast<char>(state >> (8 * b));
  }
  return out;
}

}  // namespace

std::string CrashPayload(uint64_t index, uint64_t term) {
  const uint64_t h = SplitMix(index * 1000003 + term);
  const size_t n = h % 16 == 0 ? 16000 + h % 4096 : h % 2048;
  return Bytes(h, n);
}

std::vector<raft::Entry> CrashEntries(uint64_t first, uint64_t count, uint64_t term) {
  std::vector<raft::Entry> out;
  out.reserve(count);
  for (uint64_t i = first; i < first + count; ++i) {
    out.push_back(raft::Entry{term, i, raft::EntryType::kNormal, CrashPayload(i, term)});
  }
  return out;
}

raft::ConfState CrashConfState() { return raft::ConfState{{1, 2, 3}, {}, {}, {}, false}; }

std::string CrashSnapshotData(uint64_t index, uint64_t term) {
  return "snapshot " + std::to_string(index) + "/" + std::to_string(term) +
         Bytes(SplitMix(index ^ (term << 40)), index % 5000);
}

raft::Snapshot CrashSnapshot(uint64_t index, uint64_t term) {
  raft::Snapshot snap;
  snap.metadata.index = index;
  snap.metadata.term = term;
  snap.metadata.conf_state = CrashConfState();
  snap.data = CrashSnapshotData(index, term);
  return snap;
}

std::string EncodeCrashLine(const CrashLine& l) {
  std::ostringstream out;
  switch (l.kind) {
    case CrashLine::Kind::kOpened:
      out << "O " << l.first << " " << l.last << " " << l.hs.term << " " << l.hs.vote << " "
          << l.hs.commit << " " << l.snapshot_index;
      break;
    case CrashLine::Kind::kSave:
      out << "I S " << l.hs.term << " " << l.hs.vote << " " << l.hs.commit << " " << l.first << " "
          << l.count << " " << l.entry_term << " " << (l.must_sync ? 1 : 0) << " "
          << l.snapshot_index << " " << l.snapshot_term;
      break;
    case CrashLine::Kind::kCompact:
      out << "I C " << l.index;
      break;
    case CrashLine::Kind::kCreateSnapshot:
      out << "I P " << l.snapshot_index;
      break;
    case CrashLine::Kind::kAck:
      out << "A";
      break;
    case CrashLine::Kind::kError:
      out << "E " << l.message;
      break;
  }
  out << "\n";
  return out.str();
}

std::optional<CrashLine> ParseCrashLine(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string tag;
  if (!(in >> tag)) return std::nullopt;
  CrashLine l;
  if (tag == "A") {
    l.kind = CrashLine::Kind::kAck;
    return l;
  }
  if (tag == "E") {
    l.kind = CrashLine::Kind::kError;
    std::getline(in, l.message);
    return l;
  }
  if (tag == "O") {
    l.kind = CrashLine::Kind::kOpened;
    if (!(in >> l.first >> l.last >> l.hs.term >> l.hs.vote >> l.hs.commit >> l.snapshot_index)) {
      return std::nullopt;
    }
    return l;
  }
  if (tag != "I" || !(in >> tag)) return std::nullopt;
  if (tag == "S") {
    l.kind = CrashLine::Kind::kSave;
    int sync = 0;
    if (!(in >> l.hs.term >> l.hs.vote >> l.hs.commit >> l.first >> l.count >> l.entry_term >>
          sync >> l.snapshot_index >> l.snapshot_term)) {
      return std::nullopt;
    }
    l.must_sync = sync != 0;
    return l;
  }
  if (tag == "C") {
    l.kind = CrashLine::Kind::kCompact;
    if (!(in >> l.index)) return std::nullopt;
    return l;
  }
  if (tag == "P") {
    l.kind = CrashLine::Kind::kCreateSnapshot;
    if (!(in >> l.snapshot_index)) return std::nullopt;
    return l;
  }
  return std::nullopt;
}

}  // namespace raftlog::reliability
