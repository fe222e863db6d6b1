#include "kv/codec.h"

#include <memory>
#include <utility>

#include "raftlog/format/coding.h"

namespace raftlog::kv {

namespace {

using format::ByteReader;
using format::PutLengthPrefixed;
using format::PutVarint64;

// Each encoded message and entry takes at least this many bytes, so a count
// larger than remaining() / kMin... cannot be genuine: checked before reserving.
constexpr size_t kMinMessageBytes = 12;
constexpr size_t kMinEntryBytes = 4;
constexpr size_t kMinIdBytes = 1;

Status ReadVersion(ByteReader* r) {
  uint8_t version = 0;
  if (Status s = r->ReadFixed8("version", &version); !s.ok()) return s;
  if (version != kCodecVersion) {
    return r->Error("version", "is " + std::to_string(version) + ", this build reads only " +
                                   std::to_string(kCodecVersion) + ",");
  }
  return Status::OK();
}

Status ReadCount(ByteReader* r, std::string_view field, size_t min_bytes, uint64_t* n) {
  if (Status s = r->ReadVarint64(field, n); !s.ok()) return s;
  if (*n > r->remaining() / min_bytes) return r->Error(field, "exceeds the bytes left");
  return Status::OK();
}

void PutIds(std::string* dst, const std::vector<uint64_t>& ids) {
  PutVarint64(dst, ids.size());
  for (uint64_t id : ids) PutVarint64(dst, id);
}

Status ReadIds(ByteReader* r, std::string_view field, std::vector<uint64_t>* ids) {
  uint64_t n = 0;
  if (Status s = ReadCount(r, field, kMinIdBytes, &n); !s.ok()) return s;
  ids->resize(n);
  for (uint64_t& id : *ids) {
    if (Status s = r->ReadVarint64(field, &id); !s.ok()) return s;
  }
  return Status::OK();
}

void PutEntry(std::string* dst, const raft::Entry& e) {
  PutVarint64(dst, e.term);
  PutVarint64(dst, e.index);
  dst->push_back(static_cast<char>(e.type));
  PutLengthPrefixed(dst, std::string_view(e.data));
}

Status ReadEntry(ByteReader* r, raft::Entry* e) {
  uint8_t type = 0;
  std::string_view data;
  Status s = r->ReadVarint64("entry term", &e->term);
  if (s.ok()) s = r->ReadVarint64("entry index", &e->index);
  if (s.ok()) s = r->ReadFixed8("entry type", &type);
  if (s.ok() && type > static_cast<uint8_t>(raft::EntryType::kConfChangeV2)) {
    s = r->Error("entry type", "is unknown");
  }
  if (s.ok()) s = r->ReadLengthPrefixed("entry data", &data);
  if (!s.ok()) return s;
  e->type = static_cast<raft::EntryType>(type);
  e->data = std::string(data);
  return Status::OK();
}

void PutSnapshot(std::string* dst, const raft::Snapshot& snap) {
  const raft::SnapshotMetadata& m = snap.metadata;
  PutVarint64(dst, m.index);
  PutVarint64(dst, m.term);
  PutIds(dst, m.conf_state.voters);
  PutIds(dst, m.conf_state.learners);
  PutIds(dst, m.conf_state.voters_outgoing);
  PutIds(dst, m.conf_state.learners_next);
  dst->push_back(m.conf_state.auto_leave ? 1 : 0);
  PutLengthPrefixed(dst, std::string_view(snap.data));
}

Status ReadSnapshot(ByteReader* r, raft::Snapshot* snap) {
  raft::SnapshotMetadata& m = snap->metadata;
  uint8_t auto_leave = 0;
  std::string_view data;
  Status s = r->ReadVarint64("snapshot index", &m.index);
  if (s.ok()) s = r->ReadVarint64("snapshot term", &m.term);
  if (s.ok()) s = ReadIds(r, "voters", &m.conf_state.voters);
  if (s.ok()) s = ReadIds(r, "learners", &m.conf_state.learners);
  if (s.ok()) s = ReadIds(r, "outgoing voters", &m.conf_state.voters_outgoing);
  if (s.ok()) s = ReadIds(r, "next learners", &m.conf_state.learners_next);
  if (s.ok()) s = r->ReadFixed8("auto leave", &auto_leave);
  if (s.ok() && auto_leave > 1) s = r->Error("auto leave", "is not a boolean");
  if (s.ok()) s = r->ReadLengthPrefixed("snapshot data", &data);
  if (!s.ok()) return s;
  m.conf_state.auto_leave = auto_leave == 1;
  snap->data = std::string(data);
  return Status::OK();
}

void PutMessage(std::string* dst, const raft::Message& m) {
  RAFTLOG_CHECK_MSG(m.responses.empty(), "kv codec: local responses are never sent");
  dst->push_back(static_cast<char>(m.type));
  PutVarint64(dst, m.to);
  PutVarint64(dst, m.from);
  PutVarint64(dst, m.term);
  PutVarint64(dst, m.log_term);
  PutVarint64(dst, m.index);
  PutVarint64(dst, m.commit);
  PutVarint64(dst, m.vote);
  dst->push_back(m.reject ? 1 : 0);
  PutVarint64(dst, m.reject_hint);
  PutLengthPrefixed(dst, std::string_view(m.context));
  PutVarint64(dst, m.entries.size());
  for (const raft::Entry& e : m.entries) PutEntry(dst, e);
  dst->push_back(m.snapshot != nullptr ? 1 : 0);
  if (m.snapshot != nullptr) PutSnapshot(dst, *m.snapshot);
}

Status ReadMessage(ByteReader* r, raft::Message* m) {
  uint8_t type = 0, reject = 0, has_snapshot = 0;
  std::string_view context;
  uint64_t n_entries = 0;
  Status s = r->ReadFixed8("message type", &type);
  if (s.ok() && type >= raft::kMessageTypeCount) s = r->Error("message type", "is unknown");
  if (s.ok()) s = r->ReadVarint64("to", &m->to);
  if (s.ok()) s = r->ReadVarint64("from", &m->from);
  if (s.ok()) s = r->ReadVarint64("term", &m->term);
  if (s.ok()) s = r->ReadVarint64("log term", &m->log_term);
  if (s.ok()) s = r->ReadVarint64("index", &m->index);
  if (s.ok()) s = r->ReadVarint64("commit", &m->commit);
  if (s.ok()) s = r->ReadVarint64("vote", &m->vote);
  if (s.ok()) s = r->ReadFixed8("reject", &reject);
  if (s.ok() && reject > 1) s = r->Error("reject", "is not a boolean");
  if (s.ok()) s = r->ReadVarint64("reject hint", &m->reject_hint);
  if (s.ok()) s = r->ReadLengthPrefixed("context", &context);
  if (s.ok()) s = ReadCount(r, "entry count", kMinEntryBytes, &n_entries);
  if (!s.ok()) return s;
  m->type = static_cast<raft::MessageType>(type);
  m->reject = reject == 1;
  m->context = std::string(context);
  m->entries.resize(n_entries);
  for (raft::Entry& e : m->entries) {
    if (s = ReadEntry(r, &e); !s.ok()) return s;
  }
  if (s = r->ReadFixed8("snapshot flag", &has_snapshot); !s.ok()) return s;
  if (has_snapshot > 1) return r->Error("snapshot flag", "is not a boolean");
  if (has_snapshot == 1) {
    auto snap = std::make_shared<raft::Snapshot>();
    if (s = ReadSnapshot(r, snap.get()); !s.ok()) return s;
    m->snapshot = std::move(snap);
  }
  return Status::OK();
}

}  // namespace

std::string EncodeMessages(std::span<const raft::Message> messages) {
  std::string out;
  out.push_back(static_cast<char>(kCodecVersion));
  PutVarint64(&out, messages.size());
  for (const raft::Message& m : messages) PutMessage(&out, m);
  return out;
}

Result<std::vector<raft::Message>> DecodeMessages(std::string_view data) {
  ByteReader r(data, "raft message batch");
  uint64_t n = 0;
  Status s = ReadVersion(&r);
  if (s.ok()) s = ReadCount(&r, "message count", kMinMessageBytes, &n);
  if (!s.ok()) return s;
  std::vector<raft::Message> out(n);
  for (raft::Message& m : out) {
    if (s = ReadMessage(&r, &m); !s.ok()) return s;
  }
  if (s = r.ExpectEnd(); !s.ok()) return s;
  return out;
}

std::string EncodeCommand(const Command& c) {
  std::string out;
  out.push_back(static_cast<char>(kCodecVersion));
  out.push_back(static_cast<char>(c.type));
  PutVarint64(&out, c.request_id);
  PutLengthPrefixed(&out, c.key);
  PutLengthPrefixed(&out, c.value);
  PutLengthPrefixed(&out, c.expected);
  out.push_back(c.expected_absent ? 1 : 0);
  return out;
}

Result<Command> DecodeCommand(std::string_view data) {
  ByteReader r(data, "kv command");
  Command c;
  uint8_t type = 0, absent = 0;
  std::string_view key, value, expected;
  Status s = ReadVersion(&r);
  if (s.ok()) s = r.ReadFixed8("type", &type);
  if (s.ok() && (type < static_cast<uint8_t>(CommandType::kPut) ||
                 type > static_cast<uint8_t>(CommandType::kCas))) {
    s = r.Error("type", "is unknown");
  }
  if (s.ok()) s = r.ReadVarint64("request id", &c.request_id);
  if (s.ok()) s = r.ReadLengthPrefixed("key", &key);
  if (s.ok()) s = r.ReadLengthPrefixed("value", &value);
  if (s.ok()) s = r.ReadLengthPrefixed("expected", &expected);
  if (s.ok()) s = r.ReadFixed8("expected absent", &absent);
  if (s.ok() && absent > 1) s = r.Error("expected absent", "is not a boolean");
  if (s.ok()) s = r.ExpectEnd();
  if (!s.ok()) return s;
  c.type = static_cast<CommandType>(type);
  c.key = std::string(key);
  c.value = std::string(value);
  c.expected = std::string(expected);
  c.expected_absent = absent == 1;
  return c;
}

std::string EncodeSnapshot(const SnapshotImage& image) {
  std::string out;
  out.push_back(static_cast<char>(kCodecVersion));
  PutVarint64(&out, image.members.size());
  for (const auto& [id, addr] : image.members) {
    PutVarint64(&out, id);
    PutLengthPrefixed(&out, addr);
  }
  PutVarint64(&out, image.data.size());
  for (const auto& [key, value] : image.data) {
    PutLengthPrefixed(&out, key);
    PutLengthPrefixed(&out, value);
  }
  return out;
}

Result<SnapshotImage> DecodeSnapshot(std::string_view data) {
  ByteReader r(data, "kv snapshot");
  SnapshotImage image;
  uint64_t n = 0;
  Status s = ReadVersion(&r);
  if (s.ok()) s = ReadCount(&r, "member count", 2, &n);
  for (uint64_t i = 0; s.ok() && i < n; ++i) {
    uint64_t id = 0;
    std::string_view addr;
    s = r.ReadVarint64("member id", &id);
    if (s.ok()) s = r.ReadLengthPrefixed("member address", &addr);
    if (s.ok() && !image.members.emplace(id, std::string(addr)).second) {
      s = r.Error("member id", "is repeated");
    }
  }
  if (s.ok()) s = ReadCount(&r, "key count", 2, &n);
  for (uint64_t i = 0; s.ok() && i < n; ++i) {
    std::string_view key, value;
    s = r.ReadLengthPrefixed("key", &key);
    if (s.ok()) s = r.ReadLengthPrefixed("value", &value);
    if (s.ok() && !image.data.emplace(std::string(key), std::string(value)).second) {
      s = r.Error("key", "is repeated");
    }
  }
  if (s.ok()) s = r.ExpectEnd();
  if (!s.ok()) return s;
  return image;
}

}  // namespace raftlog::kv
