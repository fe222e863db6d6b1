// The environment's operations (etcd's interaction_env.go and the
// non-parsing halves of interaction_env_handler_*.go).

#include "tests/rafttest/interaction_env.h"

#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "raftlog/raft/conf_change.h"
#include "raftlog/raft/memory_storage.h"
#include "raftlog/raft/util.h"

namespace raftlog::raft::rafttest {

// Routes the raft core's log lines into the output as "<LEVEL> <message>"
// (etcd's RedirectLogger). Panic and Fatal end the process; the output of
// the directive so far is printed to stderr first, so that the trace leading
// to the panic is not lost.
// Thread-safety: the environment is single-threaded, and so is this logger.
class InteractionEnv::OutputLogger final : public Logger {
 public:
  explicit OutputLogger(InteractionEnv* env) : env_(env) {}

  void Write(LogLevel level, std::string_view message) override {
    Level lvl = ToLevel(level);
    if (env_->level_ <= lvl) {
      std::string line = std::string(LevelName(lvl)) + " ";
      line += message;
      if (!line.ends_with("\n")) line += "\n";
      env_->Out(line);
    }
    if (level == LogLevel::kPanic || level == LogLevel::kFatal) {
      std::string pending = env_->output_;
      if (env_->out_ != &env_->output_) pending += *env_->out_;
      std::fprintf(stderr, "interaction env: output of the directive before the %s:\n%s\n",
                   level == LogLevel::kPanic ? "panic" : "fatal error", pending.c_str());
    }
  }

  bool Enabled(LogLevel level) const override { return env_->level_ <= ToLevel(level); }

  static std::string_view LevelName(Level lvl) {
    static constexpr std::string_view kNames[] = {"DEBUG", "INFO",  "WARN",
                                                  "ERROR", "FATAL", "NONE"};
    return kNames[static_cast<int>(lvl)];
  }

 private:
  // etcd prints Panicf at its FATAL level.
  static Level ToLevel(LogLevel level) {
    switch (level) {
      case LogLevel::kDebug:
        return Level::kDebug;
      case LogLevel::kInfo:
        return Level::kInfo;
      case LogLevel::kWarning:
        return Level::kWarn;
      case LogLevel::kError:
        return Level::kError;
      case LogLevel::kFatal:
      case LogLevel::kPanic:
        return Level::kFatal;
    }
    return Level::kFatal;
  }

  InteractionEnv* env_;
};

// The Storage that raft reads: the node's storage, except that Snapshot()
// returns the newest snapshot of the appender state machine (etcd's
// snapOverrideStorage).
class InteractionEnv::SnapshotOverrideStorage final : public Storage {
 public:
  explicit SnapshotOverrideStorage(const Node* node) : node_(node) {}

  Result<StoredState> InitialState() const override { return node_->storage->InitialState(); }
  Result<std::vector<Entry>> Entries(uint64_t lo, uint64_t hi, uint64_t max_size) const override {
    return node_->storage->Entries(lo, hi, max_size);
  }
  Result<uint64_t> Term(uint64_t i) const override { return node_->storage->Term(i); }
  Result<uint64_t> LastIndex() const override { return node_->storage->LastIndex(); }
  Result<uint64_t> FirstIndex() const override { return node_->storage->FirstIndex(); }
  Result<raft::Snapshot> Snapshot() const override { return node_->history.back(); }

 private:
  const Node* node_;
};

InteractionEnv::InteractionEnv(InteractionOpts opts)
    : opts_(std::move(opts)), logger_(std::make_unique<OutputLogger>(this)) {}

// The nodes (which log through logger_) go first.
InteractionEnv::~InteractionEnv() { nodes_.clear(); }

void InteractionEnv::Out(std::string_view s) {
  if (!Quiet()) *out_ += s;
}

void InteractionEnv::WithIndent(const std::function<void()>& f) {
  std::string* orig = out_;
  std::string buf;
  out_ = &buf;
  f();
  out_ = orig;
  // Line by line, as Go's bufio.Scanner splits them.
  std::string_view rest = buf;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    *orig += "  ";
    *orig += line;
    *orig += "\n";
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
}

Status InteractionEnv::Fatal(Status s) {
  if (fatal_.ok()) fatal_ = std::move(s);
  return Status::OK();
}

Status InteractionEnv::SetLogLevel(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(Level::kNone); i++) {
    std::string_view level_name = OutputLogger::LevelName(static_cast<Level>(i));
    if (level_name.size() != name.size()) continue;
    bool equal = true;
    for (size_t k = 0; k < name.size(); k++) {
      if (std::toupper(static_cast<unsigned char>(name[k])) != level_name[k]) equal = false;
    }
    if (equal) {
      level_ = static_cast<Level>(i);
      return Status::OK();
    }
  }
  return Status::InvalidArgument("log levels must be either of [DEBUG INFO WARN ERROR FATAL NONE]");
}

Status InteractionEnv::AddNodes(int n, Config cfg, Snapshot snap) {
  const bool bootstrap = !(snap == Snapshot{});
  for (int i = 0; i < n; i++) {
    const uint64_t id = nodes_.size() + 1;
    auto node = std::make_unique<Node>();
    if (opts_.storage_factory) {
      RAFTLOG_ASSIGN_OR_RETURN(node->storage, opts_.storage_factory(id));
    } else {
      node->storage = std::make_unique<MemoryStorage>();
    }
    node->raft_storage = std::make_unique<SnapshotOverrideStorage>(node.get());
    if (bootstrap) {
      // As in etcd: MemoryStorage cannot start from a snapshot at index 1.
      if (snap.metadata.index <= 1) {
        return Status::InvalidArgument("index must be specified as > 1 due to bootstrap");
      }
      snap.metadata.term = 1;
      RAFTLOG_RETURN_IF_ERROR(node->storage->ApplySnapshot(snap));
      RAFTLOG_ASSIGN_OR_RETURN(uint64_t fi, node->storage->FirstIndex());
      if (uint64_t exp = snap.metadata.index + 1; fi != exp) {
        return Status::InvalidArgument(
            StringPrintf("failed to establish first index %" PRIu64 "; got %" PRIu64, exp, fi));
      }
    }
    node->history.push_back(snap);

    Config c = cfg;
    c.id = id;
    c.storage = node->raft_storage.get();
    if (opts_.on_config) {
      opts_.on_config(&c);
      if (c.id != id) return Status::InvalidArgument("OnConfig must not change the ID");
    }
    if (c.logger != nullptr) return Status::InvalidArgument("OnConfig must not set Logger");
    c.logger = logger_.get();
    node->config = c;
    RAFTLOG_ASSIGN_OR_RETURN(node->raw_node, RawNode::New(c));
    nodes_.push_back(std::move(node));
  }
  return Status::OK();
}

Status InteractionEnv::PersistAppend(Node& n, const HardState& hs,
                                     const std::vector<Entry>& entries, const Snapshot* snap,
                                     bool must_sync) {
  if (snap != nullptr && IsEmptySnap(*snap)) snap = nullptr;
  if (snap != nullptr && !entries.empty()) {
    return Status::InvalidArgument("can't apply snapshot and entries at the same time");
  }
  if (IsEmptyHardState(hs) && snap == nullptr && entries.empty()) return Status::OK();
  // etcd's order (the HardState, then the snapshot or else the entries),
  // which WritableStorage::Save implements.
  return n.storage->Save(hs, entries, snap, must_sync);
}

Status InteractionEnv::Apply(Node& n, const std::vector<Entry>& entries) {
  for (const Entry& ent : entries) {
    std::string update;
    std::optional<ConfState> cs;
    if (ent.type == EntryType::kNormal) {
      update = ent.data;
    } else {
      RAFTLOG_ASSIGN_OR_RETURN(ConfChangeI cc, ConfChangeFromEntry(ent));
      cs = n.raw_node->ApplyConfChange(cc);
      const ConfChange* v1 = cc.AsV1();
      update = v1 != nullptr ? v1->context : std::get<ConfChangeV2>(cc.variant()).context;
    }
    // The new state of the "appender" state machine: the previous one plus
    // the command.
    const Snapshot& last = n.history.back();
    Snapshot snap;
    snap.data = last.data.ToString() + update;
    snap.metadata.index = ent.index;
    snap.metadata.term = ent.term;
    snap.metadata.conf_state = cs.has_value() ? std::move(*cs) : last.metadata.conf_state;
    n.history.push_back(std::move(snap));
  }
  return Status::OK();
}

Status InteractionEnv::ProcessReady(size_t idx) {
  Node& n = *nodes_[idx];
  raft::Ready rd = n.raw_node->Ready();
  Out(DescribeReady(rd));

  const bool async = n.config.async_storage_writes;
  if (!async) {
    RAFTLOG_RETURN_IF_ERROR(
        PersistAppend(n, rd.hard_state, rd.entries, rd.snapshot.get(), rd.must_sync));
    RAFTLOG_RETURN_IF_ERROR(Apply(n, rd.committed_entries));
  }
  for (Message& m : rd.messages) {
    if (IsLocalMsgTarget(m.to)) {
      RAFTLOG_CHECK_MSG(async, "unexpected local msg target");
      if (m.type == MessageType::kMsgStorageAppend) {
        n.append_work.push_back(std::move(m));
      } else if (m.type == MessageType::kMsgStorageApply) {
        n.apply_work.push_back(std::move(m));
      } else {
        RAFTLOG_CHECK_MSG(false, "unexpected message type to a local target");
      }
    } else {
      messages_.push_back(std::move(m));
    }
  }
  if (!async) n.raw_node->Advance();
  return Status::OK();
}

Status InteractionEnv::ProcessAppendThread(size_t idx) {
  Node& n = *nodes_[idx];
  if (n.append_work.empty()) {
    Out("no append work to perform");
    return Status::OK();
  }
  Message m = std::move(n.append_work.front());
  n.append_work.pop_front();
  std::vector<Message> resps = std::move(m.responses);
  m.responses.clear();
  Out("Processing:\n");
  Out(DescribeMessage(m) + "\n");
  HardState hs{m.term, m.vote, m.commit};
  RAFTLOG_RETURN_IF_ERROR(PersistAppend(n, hs, m.entries, m.snapshot.get(), /*must_sync=*/true));
  Out("Responses:\n");
  for (Message& r : resps) {
    Out(DescribeMessage(r) + "\n");
    messages_.push_back(std::move(r));
  }
  return Status::OK();
}

Status InteractionEnv::ProcessApplyThread(size_t idx) {
  Node& n = *nodes_[idx];
  if (n.apply_work.empty()) {
    Out("no apply work to perform");
    return Status::OK();
  }
  Message m = std::move(n.apply_work.front());
  n.apply_work.pop_front();
  std::vector<Message> resps = std::move(m.responses);
  m.responses.clear();
  Out("Processing:\n");
  Out(DescribeMessage(m) + "\n");
  RAFTLOG_RETURN_IF_ERROR(Apply(n, m.entries));
  Out("Responses:\n");
  for (Message& r : resps) {
    Out(DescribeMessage(r) + "\n");
    messages_.push_back(std::move(r));
  }
  return Status::OK();
}

namespace {

// Messages that need reliable delivery are never dropped: those a node
// sends itself and those to or from its storage threads.
bool IsLocalMessage(const Message& m) {
  return m.from == m.to || IsLocalMsgTarget(m.from) || IsLocalMsgTarget(m.to);
}

}  // namespace

size_t InteractionEnv::DeliverMsgs(std::optional<MessageType> type,
                                   const std::vector<Recipient>& rs) {
  size_t n = 0;
  for (const Recipient& r : rs) {
    // Take this recipient's messages out, keeping the order of the rest.
    std::vector<Message> msgs, rest;
    for (Message& m : messages_) {
      if (m.to == r.id && !(r.drop && IsLocalMessage(m)) && (!type || m.type == *type)) {
        msgs.push_back(std::move(m));
      } else {
        rest.push_back(std::move(m));
      }
    }
    messages_ = std::move(rest);
    n += msgs.size();
    for (Message& msg : msgs) {
      if (r.drop) Out("dropped: ");
      Out(DescribeMessage(msg) + "\n");
      // Messages to nodes not created yet may be dropped, not delivered.
      if (r.drop) continue;
      if (msg.to == kNone || msg.to > nodes_.size()) {
        (void)Fatal(StringPrintf("message to node %" PRIu64 ", which does not exist", msg.to));
        return n;
      }
      Status s = nodes_[msg.to - 1]->raw_node->Step(std::move(msg));
      if (!s.ok()) Out(std::string(s.message()) + "\n");
    }
  }
  return n;
}

Status InteractionEnv::Stabilize(const std::vector<size_t>& idxs) {
  std::vector<size_t> nodes = idxs;
  if (nodes.empty()) {
    for (size_t i = 0; i < nodes_.size(); i++) nodes.push_back(i);
  }
  for (;;) {
    bool done = true;
    for (size_t idx : nodes) {
      if (!nodes_[idx]->raw_node->HasReady()) continue;
      Out(StringPrintf("> %zu handling Ready\n", idx + 1));
      Status s;
      WithIndent([&] { s = ProcessReady(idx); });
      RAFTLOG_RETURN_IF_ERROR(s);
      done = false;
    }
    for (size_t idx : nodes) {
      const uint64_t id = idx + 1;
      bool any = false;
      for (const Message& m : messages_) any = any || m.to == id;
      if (!any) continue;
      Out(StringPrintf("> %" PRIu64 " receiving messages\n", id));
      WithIndent([&] { DeliverMsgs(std::nullopt, {Recipient{id, false}}); });
      if (!fatal_.ok()) return Status::OK();
      done = false;
    }
    for (size_t idx : nodes) {
      Node& n = *nodes_[idx];
      if (n.append_work.empty()) continue;
      Out(StringPrintf("> %zu processing append thread\n", idx + 1));
      while (!n.append_work.empty()) {
        Status s;
        WithIndent([&] { s = ProcessAppendThread(idx); });
        RAFTLOG_RETURN_IF_ERROR(s);
      }
      done = false;
    }
    for (size_t idx : nodes) {
      Node& n = *nodes_[idx];
      if (n.apply_work.empty()) continue;
      Out(StringPrintf("> %zu processing apply thread\n", idx + 1));
      // As in etcd, an apply error is not reported here.
      while (!n.apply_work.empty()) WithIndent([&] { (void)ProcessApplyThread(idx); });
      done = false;
    }
    if (done) return Status::OK();
  }
}

Status InteractionEnv::RaftLog(size_t idx) {
  WritableStorage& s = *nodes_[idx]->storage;
  RAFTLOG_ASSIGN_OR_RETURN(uint64_t fi, s.FirstIndex());
  RAFTLOG_ASSIGN_OR_RETURN(uint64_t li, s.LastIndex());
  if (li < fi) {
    Out(StringPrintf("log is empty: first index=%" PRIu64 ", last index=%" PRIu64, fi, li));
    return Status::OK();
  }
  RAFTLOG_ASSIGN_OR_RETURN(std::vector<Entry> ents, s.Entries(fi, li + 1, kNoLimit));
  Out(DescribeEntries(ents));
  return Status::OK();
}

Status InteractionEnv::Compact(size_t idx, uint64_t index) {
  RAFTLOG_RETURN_IF_ERROR(nodes_[idx]->storage->Compact(index));
  return RaftLog(idx);
}

Status InteractionEnv::SendSnapshot(size_t from, size_t to) {
  RAFTLOG_ASSIGN_OR_RETURN(Snapshot snap, nodes_[from]->raft_storage->Snapshot());
  Message msg;
  msg.type = MessageType::kMsgSnap;
  msg.term = nodes_[from]->raw_node->GetBasicStatus().hard_state.term;
  msg.from = from + 1;
  msg.to = to + 1;
  msg.snapshot = std::make_shared<const Snapshot>(std::move(snap));
  Out(DescribeMessage(msg));
  messages_.push_back(std::move(msg));
  return Status::OK();
}

}  // namespace raftlog::raft::rafttest
