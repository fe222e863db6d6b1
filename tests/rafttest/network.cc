#include "tests/rafttest/network.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "raftlog/raft/conf_change.h"

namespace raftlog::raft::rafttest {

// --- RawNodePeer ---------------------------------------------------------------

Result<std::unique_ptr<RawNodePeer>> RawNodePeer::New(Config config, WritableStorage* storage) {
  if (config.async_storage_writes) {
    return Status::InvalidArgument("RawNodePeer does not support async storage writes");
  }
  if (storage == nullptr) return Status::InvalidArgument("RawNodePeer needs a storage");
  if (config.storage == nullptr) config.storage = storage;
  if (config.storage != storage) {
    return Status::InvalidArgument("RawNodePeer: config.storage must be the peer's storage");
  }
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<RawNode> node, RawNode::New(std::move(config)));
  return std::unique_ptr<RawNodePeer>(new RawNodePeer(std::move(node), storage));
}

Status RawNodePeer::Step(Message m) { return node_->Step(std::move(m)); }

std::vector<Message> RawNodePeer::ReadMessages() {
  std::vector<Message> out;
  while (storage_error_.ok() && node_->HasReady()) {
    Ready rd = node_->Ready();
    // 1. Persist, durably if the Ready says so.
    Status s = storage_->Save(rd.hard_state, rd.entries, rd.snapshot.get(), rd.must_sync);
    if (!s.ok()) {
      // The node cannot go on without its storage; stop processing it (its
      // messages are not sent, as they may depend on what failed).
      storage_error_ = std::move(s);
      break;
    }
    // 2. The messages may go out now.
    if (out.empty()) {
      out = std::move(rd.messages);
    } else {
      std::move(rd.messages.begin(), rd.messages.end(), std::back_inserter(out));
    }
    // 3. Apply.
    if (rd.HasSnapshot()) applied_index_ = rd.snapshot->metadata.index;
    for (const Entry& e : rd.committed_entries) {
      if (e.type == EntryType::kConfChange || e.type == EntryType::kConfChangeV2) {
        Result<ConfChangeI> cc = ConfChangeFromEntry(e);
        if (cc.ok()) node_->ApplyConfChange(*cc);
      }
      if (apply_hook_) apply_hook_(e);
      applied_index_ = e.index;
    }
    // 4. Acknowledge.
    node_->Advance();
  }
  return out;
}

// --- Network -------------------------------------------------------------------

Network::Network(std::vector<std::unique_ptr<StateMachine>> peers, uint64_t seed) : rng_(seed) {
  for (size_t i = 0; i < peers.size(); ++i) peers_[i + 1] = std::move(peers[i]);
}

void Network::Add(uint64_t id, std::unique_ptr<StateMachine> peer) { peers_[id] = std::move(peer); }

std::unique_ptr<StateMachine> Network::Remove(uint64_t id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return nullptr;
  std::unique_ptr<StateMachine> p = std::move(it->second);
  peers_.erase(it);
  return p;
}

StateMachine* Network::peer(uint64_t id) const {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : it->second.get();
}

std::vector<uint64_t> Network::ids() const {
  std::vector<uint64_t> out;
  out.reserve(peers_.size());
  for (const auto& [id, p] : peers_) out.push_back(id);
  return out;
}

void Network::Send(Message m) {
  std::vector<Message> msgs;
  msgs.push_back(std::move(m));
  Send(std::move(msgs));
}

void Network::Send(std::vector<Message> msgs) {
  std::deque<Message> queue(std::make_move_iterator(msgs.begin()),
                            std::make_move_iterator(msgs.end()));
  while (!queue.empty()) {
    Message m = std::move(queue.front());
    queue.pop_front();
    StateMachine* p = peer(m.to);
    if (p == nullptr) {
      ++dropped_;
      continue;
    }
    ++delivered_;
    (void)p->Step(std::move(m));
    for (Message& out : Filter(p->ReadMessages())) queue.push_back(std::move(out));
  }
}

void Network::Tick() {
  ++now_;
  std::vector<Message> msgs;
  for (auto& [id, p] : peers_) {
    p->Tick();
    for (Message& m : Filter(p->ReadMessages())) msgs.push_back(std::move(m));
  }
  // Release the held messages that are due, oldest first.
  std::vector<Held> still;
  for (Held& h : held_) {
    if (h.due <= now_) {
      msgs.push_back(std::move(h.m));
    } else {
      still.push_back(std::move(h));
    }
  }
  held_ = std::move(still);
  Send(std::move(msgs));
}

void Network::Pump(uint64_t id) {
  StateMachine* p = peer(id);
  if (p == nullptr) return;
  Send(Filter(p->ReadMessages()));
}

void Network::Drop(uint64_t from, uint64_t to, double probability) {
  drop_[Link{from, to}] = probability;
}

void Network::Cut(uint64_t one, uint64_t other) {
  Drop(one, other, 2.0);  // always drop
  Drop(other, one, 2.0);
}

void Network::Isolate(uint64_t id) {
  for (const auto& [nid, p] : peers_) {
    if (nid == id) continue;
    Drop(id, nid, 1.0);
    Drop(nid, id, 1.0);
  }
}

void Network::Partition(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  for (uint64_t x : a) {
    for (uint64_t y : b) Cut(x, y);
  }
}

void Network::Delay(uint64_t from, uint64_t to, uint64_t ticks, double probability) {
  delay_[Link{from, to}] = DelaySpec{ticks, probability};
}

void Network::Ignore(MessageType type) { ignore_.insert(type); }

void Network::Recover() {
  drop_.clear();
  delay_.clear();
  ignore_.clear();
}

std::vector<Message> Network::Filter(std::vector<Message> msgs) {
  if (drop_.empty() && delay_.empty() && ignore_.empty() && !msg_hook_) return msgs;
  std::vector<Message> out;
  out.reserve(msgs.size());
  for (Message& m : msgs) {
    if (ignore_.count(m.type) != 0) {
      ++dropped_;
      continue;
    }
    const Link link{m.from, m.to};
    if (auto it = drop_.find(link); it != drop_.end() && Uniform() < it->second) {
      ++dropped_;
      continue;
    }
    if (msg_hook_ && !msg_hook_(m)) {
      ++dropped_;
      continue;
    }
    if (auto it = delay_.find(link);
        it != delay_.end() && it->second.ticks > 0 && Uniform() < it->second.probability) {
      held_.push_back(Held{now_ + it->second.ticks, std::move(m)});
      continue;
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace raftlog::raft::rafttest
