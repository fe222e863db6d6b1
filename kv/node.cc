#include "kv/node.h"

#include <cinttypes>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <utility>

#include "raftlog/engine/disk_storage.h"
#include "raftlog/raft/conf_change.h"
#include "raftlog/raft/memory_storage.h"
#include "raftlog/raft/util.h"

namespace raftlog::kv {

namespace {

using Clock = std::chrono::steady_clock;

std::string EncodeId(uint64_t id) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(id >> (8 * i));
  return s;
}

bool Contains(const std::vector<uint64_t>& ids, uint64_t id) {
  for (uint64_t x : ids) {
    if (x == id) return true;
  }
  return false;
}

}  // namespace

// A client waiting for its operation: completed once by the loop thread (or
// expired), waited on by the client's thread.
struct Node::Pending {
  explicit Pending(Clock::time_point d) : deadline(d) {}
  void Complete(Outcome o) {
    port::MutexLock lock(&mu);
    if (done) return;
    done = true;
    out = std::move(o);
    cv.SignalAll();
  }
  const Clock::time_point deadline;
  port::Mutex mu;
  port::CondVar cv{&mu};
  bool done GUARDED_BY(mu) = false;
  Outcome out GUARDED_BY(mu);
};

// Reads that share one ReadIndex request.
struct Node::ReadGroup {
  uint64_t index = 0;
  std::vector<ReadEv> reads;
};

Node::Node(NodeOptions options, const Log* log)
    : options_(std::move(options)), log_(log), raft_logger_(log), rng_(std::random_device{}()) {}

Result<std::unique_ptr<Node>> Node::Start(NodeOptions options, const Log* log) {
  if (options.id == 0) return Status::InvalidArgument("node id must be > 0");
  if (!options.join && options.peers.find(options.id) == options.peers.end()) {
    return Status::InvalidArgument("the peers of a new cluster must include this node's id " +
                                   std::to_string(options.id));
  }
  std::unique_ptr<Node> node(new Node(std::move(options), log));
  if (Status s = node->Open(); !s.ok()) return s;
  return node;
}

Status Node::Open() {
  if (options_.storage == "memory") {
    storage_ = std::make_unique<raft::MemoryStorage>();
  } else if (options_.storage == "disk" || options_.storage == "disk-nosync") {
    engine::DiskStorageOptions dopts;
    if (options_.storage == "disk-nosync") dopts.engine.sync = engine::SyncPolicy::kNever;
    // The engine's own notes (a torn tail cut at open) go to the node's log.
    dopts.engine.notes = [this](std::string_view note) {
      log_->Warn("storage note", {{"note", std::string(note)}});
    };
    std::error_code ec;
    std::filesystem::create_directories(options_.data_dir, ec);
    if (ec) return Status::IOError("cannot create " + options_.data_dir + ": " + ec.message());
    Result<std::unique_ptr<engine::DiskStorage>> disk =
        engine::DiskStorage::Open(options_.data_dir + "/raft", dopts);
    if (!disk.ok()) return disk.status();
    disk_ = disk.value().get();
    storage_ = std::move(disk).value();
  } else {
    return Status::InvalidArgument("unknown storage '" + options_.storage +
                                   "' (disk, disk-nosync, memory)");
  }

  Result<raft::Snapshot> snap = storage_->Snapshot();
  if (!snap.ok()) return snap.status();
  Result<uint64_t> last = storage_->LastIndex();
  if (!last.ok()) return last.status();
  const bool fresh = raft::IsEmptySnap(*snap) && *last == 0;
  if (fresh && !options_.join) {
    // A new cluster: every member starts from the same snapshot at index 1
    // holding the membership and the addresses, so no bootstrap entries.
    raft::Snapshot initial;
    initial.metadata.index = 1;
    initial.metadata.term = 1;
    for (const auto& [id, addr] : options_.peers) initial.metadata.conf_state.voters.push_back(id);
    SnapshotImage image;
    image.members = options_.peers;
    initial.data = EncodeSnapshot(image);
    if (Status s = storage_->ApplySnapshot(initial); !s.ok()) return s;
    snap = initial;
  }
  if (!raft::IsEmptySnap(*snap)) {
    Result<SnapshotImage> image = DecodeSnapshot(std::string_view(snap->data));
    if (!image.ok()) return image.status();
    sm_.Restore(std::move(image).value());
    applied_ = snapshot_index_ = snap->metadata.index;
  }
  Result<raft::StoredState> state = storage_->InitialState();
  if (!state.ok()) return state.status();
  conf_state_ = state->conf_state;

  transport_ = std::make_unique<Transport>(
      options_.id,
      Transport::Callbacks{[this](uint64_t peer) { Push(UnreachableEv{peer}); },
                           [this](uint64_t peer, bool ok) { Push(SnapStatusEv{peer, ok}); }},
      log_);
  // Addresses: the configured ones, then what the state machine knows
  // (newer: it follows the log).
  for (const auto& [id, addr] : options_.peers) transport_->SetPeer(id, addr);
  for (const auto& [id, addr] : sm_.members()) transport_->SetPeer(id, addr);

  raft::Config config;
  config.id = options_.id;
  config.election_tick = options_.election_tick;
  config.heartbeat_tick = options_.heartbeat_tick;
  config.storage = storage_.get();
  config.applied = applied_;
  config.async_storage_writes = true;
  config.max_size_per_msg = 1 << 20;
  config.max_committed_size_per_ready = 8 << 20;
  config.max_uncommitted_entries_size = 64 << 20;
  config.max_inflight_msgs = 256;
  config.check_quorum = true;
  config.pre_vote = true;
  config.step_down_on_removal = true;
  config.logger = &raft_logger_;
  Result<std::unique_ptr<raft::RawNode>> rn = raft::RawNode::New(config);
  if (!rn.ok()) return rn.status();
  raft_ = std::move(rn).value();

  writer_ = engine::NewThreadedLogWriter(
      storage_.get(),
      [this](std::vector<raft::Message> responses) {
        std::vector<raft::Message> remote;
        for (raft::Message& m : responses) {
          if (m.to == options_.id) {
            Push(std::move(m));
          } else {
            remote.push_back(std::move(m));
          }
        }
        if (!remote.empty()) transport_->Send(std::move(remote));
      },
      [this](const Status& s) { Fatal("log write failed", s); });

  log_->Info(fresh ? (options_.join ? "joining a cluster" : "bootstrapped a new cluster")
                   : "restarted from storage",
             {{"storage", options_.storage},
              {"dir", options_.data_dir},
              {"applied", applied_},
              {"last_index", *last},
              {"term", state->hard_state.term},
              {"commit", state->hard_state.commit}});
  PublishStatus();
  loop_ = std::thread([this] { Run(); });
  return Status::OK();
}

Node::~Node() { Stop(); }

void Node::Stop() {
  if (stopped_.exchange(true)) return;
  {
    port::MutexLock lock(&inbox_mu_);
    stop_ = true;
    inbox_cv_.Signal();
  }
  if (loop_.joinable()) loop_.join();
  if (transport_) transport_->Stop();
  if (writer_) writer_->Stop();
  if (disk_ != nullptr) {
    if (Status s = disk_->Close(); !s.ok()) log_->Error("closing storage", {{"error", s.ToString()}});
  }
}

void Node::Fatal(const std::string& what, const Status& s) const {
  log_->Error(what + "; exiting", {{"error", s.ToString()}});
  std::_Exit(2);
}

void Node::Push(Event ev) {
  port::MutexLock lock(&inbox_mu_);
  inbox_.push_back(std::move(ev));
  inbox_cv_.Signal();
}

void Node::Receive(std::vector<raft::Message> messages) {
  messages_received_ += messages.size();
  port::MutexLock lock(&inbox_mu_);
  for (raft::Message& m : messages) {
    if (transport_->DropIncoming(m.from)) continue;
    inbox_.emplace_back(std::move(m));
  }
  inbox_cv_.Signal();
}

std::optional<Outcome> Node::CheckLeader() const {
  port::MutexLock lock(&status_mu_);
  if (status_.removed) {
    return Outcome{Outcome::Code::kUnavailable, "this node was removed from the cluster", "", true, {}};
  }
  if (status_.lead == options_.id && status_.state == "StateLeader") return std::nullopt;
  Outcome o{Outcome::Code::kNotLeader, "not the leader", "", true, {}};
  for (const MemberInfo& m : status_.members) {
    if (m.id == status_.lead) o.leader_addr = m.addr;
  }
  return o;
}

Outcome Node::Submit(Event ev, const std::shared_ptr<Pending>& pending) {
  Push(std::move(ev));
  port::MutexLock lock(&pending->mu);
  while (!pending->done) {
    if (!pending->cv.WaitFor(pending->deadline - Clock::now()) && Clock::now() >= pending->deadline) {
      break;
    }
  }
  if (!pending->done) {
    pending->done = true;  // a late completion is ignored
    return Outcome{Outcome::Code::kTimeout, "timed out; the outcome is unknown", "", true, {}};
  }
  return pending->out;
}

Outcome Node::Get(const std::string& key) {
  if (options_.unsafe_stale_reads) {
    auto pending = std::make_shared<Pending>(Clock::now() + options_.request_timeout);
    return Submit(ReadEv{key, pending, true}, pending);
  }
  if (std::optional<Outcome> o = CheckLeader()) {
    not_leader_++;
    return *o;
  }
  auto pending = std::make_shared<Pending>(Clock::now() + options_.request_timeout);
  Outcome o = Submit(ReadEv{key, pending}, pending);
  if (o.code == Outcome::Code::kOk) reads_ok_++;
  if (o.code == Outcome::Code::kTimeout) reads_timeout_++;
  return o;
}

Outcome Node::Write(Command command) {
  if (std::optional<Outcome> o = CheckLeader()) {
    not_leader_++;
    return *o;
  }
  auto pending = std::make_shared<Pending>(Clock::now() + options_.request_timeout);
  Outcome o = Submit(ProposeEv{std::move(command), pending}, pending);
  if (o.code == Outcome::Code::kOk) writes_ok_++;
  if (o.code == Outcome::Code::kTimeout) writes_timeout_++;
  return o;
}

Outcome Node::ChangeMembership(raft::ConfChangeType type, uint64_t node, const std::string& addr) {
  if (std::optional<Outcome> o = CheckLeader()) return *o;
  raft::ConfChange cc;
  cc.type = type;
  cc.node_id = node;
  cc.context = addr;
  auto pending = std::make_shared<Pending>(Clock::now() + options_.request_timeout);
  return Submit(ConfEv{std::move(cc), pending}, pending);
}

void Node::Run() {
  Clock::time_point next_tick = Clock::now() + options_.tick;
  for (;;) {
    std::vector<Event> events;
    {
      port::MutexLock lock(&inbox_mu_);
      while (inbox_.empty() && !stop_ && Clock::now() < next_tick) {
        inbox_cv_.WaitFor(next_tick - Clock::now());
      }
      if (stop_) break;
      events.swap(inbox_);
    }
    for (Event& ev : events) Handle(ev);
    if (Clock::now() >= next_tick) {
      raft_->Tick();
      next_tick += options_.tick;
      if (next_tick < Clock::now()) next_tick = Clock::now() + options_.tick;  // paused
      ExpirePending();
    }
    if (!reads_new_.empty()) {
      // One ReadIndex for every read that arrived in this round.
      auto group = std::make_shared<ReadGroup>();
      group->reads = std::move(reads_new_);
      reads_new_.clear();
      const std::string ctx = EncodeId(rng_());
      reads_by_ctx_[ctx] = group;
      raft_->ReadIndex(ctx);
    }
    HandleReadies();
    ServeReads();
    MaybeSnapshot();
    PublishStatus();
  }
  // Unblock every waiter: their outcome is unknown.
  for (auto& [id, p] : writes_) p->Complete({Outcome::Code::kTimeout, "node stopping", "", true, {}});
  for (auto& [id, p] : confs_) p->Complete({Outcome::Code::kTimeout, "node stopping", "", true, {}});
}

void Node::Handle(Event& ev) {
  if (raft::Message* m = std::get_if<raft::Message>(&ev)) {
    // Errors here are stale or unknown messages (e.g. from a removed peer).
    (void)raft_->Step(std::move(*m));
  } else if (ProposeEv* p = std::get_if<ProposeEv>(&ev)) {
    if (raft_->GetBasicStatus().soft_state.raft_state != raft::StateType::kStateLeader) {
      p->pending->Complete({Outcome::Code::kNotLeader, "not the leader", "", true, {}});
      return;
    }
    uint64_t id = 0;
    while (id == 0 || writes_.count(id) != 0) id = rng_();
    p->command.request_id = id;
    proposals_++;
    Status s = raft_->Propose(EncodeCommand(p->command));
    if (!s.ok()) {
      proposals_dropped_++;
      p->pending->Complete({Outcome::Code::kUnavailable, s.ToString(), "", true, {}});
      return;
    }
    writes_[id] = p->pending;
  } else if (ReadEv* r = std::get_if<ReadEv>(&ev)) {
    if (r->stale) {
      r->pending->Complete({Outcome::Code::kOk, "", "", true, sm_.Get(r->key)});
      return;
    }
    if (raft_->GetBasicStatus().soft_state.raft_state != raft::StateType::kStateLeader) {
      r->pending->Complete({Outcome::Code::kNotLeader, "not the leader", "", true, {}});
      return;
    }
    reads_new_.push_back(std::move(*r));
  } else if (ConfEv* c = std::get_if<ConfEv>(&ev)) {
    const raft::ConfChange& cc = c->cc;
    auto fail = [&](const std::string& why) {
      c->pending->Complete({Outcome::Code::kInvalid, why, "", true, {}});
    };
    if (!confs_.empty()) return fail("another membership change is in progress");
    if (!conf_state_.voters_outgoing.empty()) return fail("the configuration is joint");
    const bool voter = Contains(conf_state_.voters, cc.node_id);
    const bool learner = Contains(conf_state_.learners, cc.node_id);
    if (cc.type == raft::ConfChangeType::kAddNode && voter) return fail("already a voter");
    if (cc.type == raft::ConfChangeType::kAddLearnerNode && (voter || learner)) {
      return fail("already a member");
    }
    if (cc.type == raft::ConfChangeType::kRemoveNode && !voter && !learner) {
      return fail("not a member");
    }
    if (cc.type != raft::ConfChangeType::kRemoveNode && cc.context.empty() && !learner) {
      return fail("an address is needed to add a member");
    }
    uint64_t id = 0;
    while (id == 0 || confs_.count(id) != 0) id = rng_();
    raft::ConfChange proposed = cc;
    proposed.id = id;
    if (proposed.context.empty() && sm_.members().count(cc.node_id) != 0) {
      proposed.context = sm_.members().at(cc.node_id);
    }
    Status s = raft_->ProposeConfChange(proposed);
    if (!s.ok()) {
      c->pending->Complete({Outcome::Code::kUnavailable, s.ToString(), "", true, {}});
      return;
    }
    confs_[id] = c->pending;
  } else if (UnreachableEv* u = std::get_if<UnreachableEv>(&ev)) {
    raft_->ReportUnreachable(u->peer);
  } else if (SnapStatusEv* st = std::get_if<SnapStatusEv>(&ev)) {
    raft_->ReportSnapshot(st->peer, st->ok ? raft::SnapshotStatus::kSnapshotFinish
                                           : raft::SnapshotStatus::kSnapshotFailure);
  }
}

void Node::HandleReadies() {
  while (raft_->HasReady()) {
    raft::Ready rd = raft_->Ready();
    ready_count_++;
    if (rd.soft_state) {
      log_->Info("raft state",
                 {{"state", raft::StateTypeName(rd.soft_state->raft_state)},
                  {"leader", rd.soft_state->lead},
                  {"term", raft_->GetBasicStatus().hard_state.term}});
      if (rd.soft_state->raft_state != raft::StateType::kStateLeader) {
        // Reads not yet confirmed will not be: fail them now (reads have no
        // effect, so failing one is always safe).
        for (ReadEv& r : reads_new_) {
          r.pending->Complete({Outcome::Code::kNotLeader, "lost leadership", "", true, {}});
        }
        reads_new_.clear();
      }
    }
    if (rd.HasSnapshot()) RestoreSnapshot(*rd.snapshot);
    for (const raft::ReadState& rs : rd.read_states) {
      auto it = reads_by_ctx_.find(std::string(std::string_view(rs.request_ctx)));
      if (it == reads_by_ctx_.end()) continue;
      it->second->index = rs.index;
      reads_ready_.push_back(it->second);
      reads_by_ctx_.erase(it);
    }
    std::vector<raft::Message> outgoing;
    for (raft::Message& m : rd.messages) {
      if (m.to == raft::kLocalAppendThread) {
        writer_->Submit(std::move(m));
      } else if (m.to == raft::kLocalApplyThread) {
        ApplyEntries(m.entries);
        for (raft::Message& resp : m.responses) Deliver(std::move(resp));
      } else {
        outgoing.push_back(std::move(m));
      }
    }
    if (!outgoing.empty()) transport_->Send(std::move(outgoing));
  }
}

void Node::Deliver(raft::Message m) {
  if (m.to == options_.id) {
    (void)raft_->Step(std::move(m));
  } else {
    std::vector<raft::Message> one;
    one.push_back(std::move(m));
    transport_->Send(std::move(one));
  }
}

void Node::ApplyEntries(const std::vector<raft::Entry>& entries) {
  for (const raft::Entry& e : entries) {
    if (e.index <= applied_) continue;
    applied_ = e.index;
    entries_applied_++;
    if (e.type != raft::EntryType::kNormal) {
      ApplyConfChange(e);
      continue;
    }
    if (std::string_view(e.data).empty()) continue;  // a new leader's empty entry
    Result<Command> c = DecodeCommand(std::string_view(e.data));
    if (!c.ok()) {
      // Every replica skips it alike, so the replicas stay equal.
      log_->Error("skipping an undecodable entry", {{"index", e.index}, {"error", c.status().ToString()}});
      continue;
    }
    const ApplyResult r = sm_.Apply(*c);
    auto it = writes_.find(c->request_id);
    if (it != writes_.end()) {
      it->second->Complete({Outcome::Code::kOk, "", "", r.ok, r.previous});
      writes_.erase(it);
    }
  }
}

void Node::ApplyConfChange(const raft::Entry& e) {
  Result<raft::ConfChangeI> cci = raft::ConfChangeFromEntry(e);
  if (!cci.ok()) Fatal("undecodable conf change at index " + std::to_string(e.index), cci.status());
  conf_state_ = raft_->ApplyConfChange(*cci);
  conf_changes_++;
  const raft::ConfChange* cc = cci->AsV1();
  if (cc == nullptr) return;  // this service proposes V1 changes only
  const std::string addr(std::string_view(cc->context));
  if (cc->type == raft::ConfChangeType::kRemoveNode) {
    sm_.RemoveMember(cc->node_id);
    if (cc->node_id == options_.id) {
      removed_ = true;
    } else {
      transport_->RemovePeer(cc->node_id);
    }
  } else if (!addr.empty()) {
    sm_.SetMember(cc->node_id, addr);
    transport_->SetPeer(cc->node_id, addr);
  }
  log_->Info("membership changed", {{"change", raft::ConfChangeTypeName(cc->type)},
                                    {"node", cc->node_id},
                                    {"addr", addr},
                                    {"index", e.index},
                                    {"conf", raft::DescribeConfState(conf_state_)}});
  auto it = confs_.find(cc->id);
  if (it != confs_.end()) {
    it->second->Complete({Outcome::Code::kOk, "", "", true, {}});
    confs_.erase(it);
  }
}

void Node::RestoreSnapshot(const raft::Snapshot& snap) {
  Result<SnapshotImage> image = DecodeSnapshot(std::string_view(snap.data));
  if (!image.ok()) Fatal("undecodable snapshot from the leader", image.status());
  sm_.Restore(std::move(image).value());
  conf_state_ = snap.metadata.conf_state;
  applied_ = snapshot_index_ = snap.metadata.index;
  snapshots_restored_++;
  for (const auto& [id, addr] : sm_.members()) transport_->SetPeer(id, addr);
  log_->Info("restored a snapshot from the leader",
             {{"index", snap.metadata.index}, {"keys", sm_.size()}});
}

void Node::ServeReads() {
  while (!reads_ready_.empty() && reads_ready_.front()->index <= applied_) {
    for (ReadEv& r : reads_ready_.front()->reads) {
      r.pending->Complete({Outcome::Code::kOk, "", "", true, sm_.Get(r.key)});
    }
    reads_ready_.pop_front();
  }
}

void Node::MaybeSnapshot() {
  if (applied_ < snapshot_index_ + options_.snapshot_interval) return;
  Result<raft::Snapshot> snap =
      storage_->CreateSnapshot(applied_, &conf_state_, EncodeSnapshot(sm_.Image()));
  if (!snap.ok()) {
    // Out of date: a snapshot from the leader got there first.
    if (snap.status().code() != Status::Code::kSnapshotOutOfDate) Fatal("creating a snapshot", snap.status());
    snapshot_index_ = applied_;
    return;
  }
  snapshot_index_ = applied_;
  snapshots_created_++;
  if (applied_ > options_.snapshot_keep) {
    Status s = storage_->Compact(applied_ - options_.snapshot_keep);
    if (!s.ok() && s.code() != Status::Code::kCompacted) Fatal("compacting the log", s);
  }
  log_->Info("snapshot", {{"index", applied_}, {"keys", sm_.size()}});
}

void Node::ExpirePending() {
  const Clock::time_point now = Clock::now();
  for (auto it = writes_.begin(); it != writes_.end();) {
    it = it->second->deadline < now ? writes_.erase(it) : std::next(it);
  }
  for (auto it = confs_.begin(); it != confs_.end();) {
    it = it->second->deadline < now ? confs_.erase(it) : std::next(it);
  }
  for (auto it = reads_by_ctx_.begin(); it != reads_by_ctx_.end();) {
    bool live = false;
    for (const ReadEv& r : it->second->reads) live = live || r.pending->deadline >= now;
    it = live ? std::next(it) : reads_by_ctx_.erase(it);
  }
}

void Node::PublishStatus() {
  const raft::BasicStatus bs = raft_->GetBasicStatus();
  NodeStatus st;
  st.id = options_.id;
  st.term = bs.hard_state.term;
  st.lead = bs.soft_state.lead;
  st.state = std::string(raft::StateTypeName(bs.soft_state.raft_state));
  st.commit = bs.hard_state.commit;
  st.applied = applied_;
  st.snapshot_index = snapshot_index_;
  st.removed = removed_;
  for (uint64_t id : conf_state_.voters) st.members.push_back({id, "", false});
  for (uint64_t id : conf_state_.learners) st.members.push_back({id, "", true});
  for (MemberInfo& m : st.members) {
    auto it = sm_.members().find(m.id);
    if (it != sm_.members().end()) m.addr = it->second;
  }
  port::MutexLock lock(&status_mu_);
  status_ = std::move(st);
}

NodeStatus Node::GetStatus() const {
  port::MutexLock lock(&status_mu_);
  return status_;
}

std::string Node::Metrics() const {
  const NodeStatus st = GetStatus();
  std::ostringstream out;
  auto metric = [&](const char* name, const char* type, const char* help, uint64_t value) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
        << name << ' ' << value << '\n';
  };
  metric("raftlog_kv_raft_term", "gauge", "Current raft term.", st.term);
  metric("raftlog_kv_raft_leader", "gauge", "Id of the known leader (0: none).", st.lead);
  metric("raftlog_kv_raft_is_leader", "gauge", "1 if this node is the leader.",
         st.state == "StateLeader" ? 1 : 0);
  metric("raftlog_kv_raft_commit_index", "gauge", "Raft commit index.", st.commit);
  metric("raftlog_kv_raft_applied_index", "gauge", "Last applied index.", st.applied);
  metric("raftlog_kv_raft_snapshot_index", "gauge", "Index of the last local snapshot.",
         st.snapshot_index);
  metric("raftlog_kv_raft_members", "gauge", "Voters and learners in the configuration.",
         st.members.size());
  metric("raftlog_kv_raft_readies_total", "counter", "Raft Readies handled.", ready_count_.load());
  metric("raftlog_kv_raft_messages_received_total", "counter", "Raft messages received from peers.",
         messages_received_.load());
  metric("raftlog_kv_proposals_total", "counter", "Commands proposed.", proposals_.load());
  metric("raftlog_kv_proposals_dropped_total", "counter", "Proposals refused by raft.",
         proposals_dropped_.load());
  metric("raftlog_kv_writes_ok_total", "counter", "Writes acknowledged.", writes_ok_.load());
  metric("raftlog_kv_writes_timeout_total", "counter", "Writes timed out (outcome unknown).",
         writes_timeout_.load());
  metric("raftlog_kv_reads_ok_total", "counter", "Linearizable reads served.", reads_ok_.load());
  metric("raftlog_kv_reads_timeout_total", "counter", "Reads timed out.", reads_timeout_.load());
  metric("raftlog_kv_not_leader_total", "counter", "Client requests refused by a non-leader.",
         not_leader_.load());
  metric("raftlog_kv_entries_applied_total", "counter", "Log entries applied.",
         entries_applied_.load());
  metric("raftlog_kv_conf_changes_total", "counter", "Membership changes applied.",
         conf_changes_.load());
  metric("raftlog_kv_snapshots_created_total", "counter", "Local snapshots made.",
         snapshots_created_.load());
  metric("raftlog_kv_snapshots_restored_total", "counter", "Snapshots received and restored.",
         snapshots_restored_.load());
  metric("raftlog_kv_log_writer_queued", "gauge", "Appends waiting for the log writer.",
         writer_ ? writer_->queued() : 0);
  const TransportStats ts = transport_->Stats();
  metric("raftlog_kv_transport_messages_sent_total", "counter", "Raft messages sent.",
         ts.messages_sent);
  metric("raftlog_kv_transport_batches_sent_total", "counter", "HTTP batches sent.", ts.batches_sent);
  metric("raftlog_kv_transport_bytes_sent_total", "counter", "Bytes of batches sent.", ts.bytes_sent);
  metric("raftlog_kv_transport_messages_dropped_total", "counter",
         "Messages dropped (queue full, send failed, fault).", ts.messages_dropped);
  metric("raftlog_kv_transport_send_failures_total", "counter", "Failed HTTP sends.",
         ts.send_failures);
  if (disk_ != nullptr) {
    const engine::Stats es = disk_->engine().GetStats();
    metric("raftlog_storage_first_index", "gauge", "First index in the log.", es.first_index);
    metric("raftlog_storage_last_index", "gauge", "Last index in the log.", es.last_index);
    metric("raftlog_storage_segments", "gauge", "Live segment files.", es.segments);
    metric("raftlog_storage_segment_file_bytes", "gauge", "Bytes of live segment files.",
           es.segment_file_bytes);
    metric("raftlog_storage_appends_total", "counter", "Appends that wrote entries.", es.appends);
    metric("raftlog_storage_entries_appended_total", "counter", "Entries appended.",
           es.entries_appended);
    metric("raftlog_storage_bytes_written_total", "counter", "Frame bytes written.",
           es.bytes_written);
    metric("raftlog_storage_log_syncs_total", "counter", "fdatasync calls on segments.",
           es.log_syncs);
    metric("raftlog_storage_meta_commits_total", "counter", "LMDB transactions.", es.meta_commits);
    metric("raftlog_storage_segment_rolls_total", "counter", "Segment rolls.", es.segment_rolls);
    metric("raftlog_storage_torn_tail_cuts_total", "counter", "Torn tails cut on open.",
           es.torn_tail_cuts);
    metric("raftlog_storage_open_bytes_scanned", "gauge", "Bytes checksummed on open.",
           es.open_bytes_scanned);
  }
  return out.str();
}

}  // namespace raftlog::kv
