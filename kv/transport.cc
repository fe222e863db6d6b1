#include "kv/transport.h"

#include <httplib.h>

#include <chrono>
#include <deque>
#include <thread>
#include <utility>

#include "kv/codec.h"

namespace raftlog::kv {

namespace {

// Messages queued for one peer beyond which new ones are dropped.
constexpr size_t kMaxQueued = 8192;

bool SplitHostPort(const std::string& addr, std::string* host, int* port) {
  const size_t colon = addr.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *host = addr.substr(0, colon);
  try {
    *port = std::stoi(addr.substr(colon + 1));
  } catch (...) {
    return false;
  }
  return *port > 0 && *port < 65536;
}

}  // namespace

// One peer: its queue and the thread that drains it.
class Transport::Peer {
 public:
  Peer(Transport* t, uint64_t id, std::string addr) : t_(t), id_(id), addr_(std::move(addr)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Peer() { Stop(); }

  const std::string& addr() const { return addr_; }

  void Enqueue(raft::Message m) {
    bool dropped = false;
    {
      port::MutexLock lock(&mu_);
      if (stop_ || queue_.size() >= kMaxQueued) {
        dropped = true;
      } else {
        queue_.push_back(std::move(m));
        cv_.Signal();
      }
    }
    if (dropped) Failed({m});
  }

  void Stop() {
    {
      port::MutexLock lock(&mu_);
      stop_ = true;
      cv_.Signal();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    std::unique_ptr<httplib::Client> client;
    for (;;) {
      std::vector<raft::Message> batch;
      {
        port::MutexLock lock(&mu_);
        while (queue_.empty() && !stop_) cv_.Wait();
        if (stop_) return;
        batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
        queue_.clear();
      }
      const Fault fault = t_->FaultFor(id_);
      if (fault.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(fault.delay_ms));
      if (fault.drop) {
        t_->messages_dropped_ += batch.size();
        continue;  // a partition loses messages silently, as a real one does
      }
      if (client == nullptr) {
        std::string host;
        int port = 0;
        if (!SplitHostPort(addr_, &host, &port)) {
          t_->log_->Error("bad peer address", {{"peer", id_}, {"addr", addr_}});
          Failed(batch);
          continue;
        }
        client = std::make_unique<httplib::Client>(host, port);
        client->set_keep_alive(true);
        client->set_tcp_nodelay(true);
        client->set_connection_timeout(0, 300'000);
        client->set_read_timeout(2, 0);
        client->set_write_timeout(2, 0);
      }
      const std::string body = EncodeMessages(batch);
      httplib::Result res = client->Post("/raft", body, "application/octet-stream");
      if (!res || res->status != 200) {
        t_->send_failures_++;
        client.reset();  // reconnect next time
        Failed(batch);
        continue;
      }
      t_->messages_sent_ += batch.size();
      t_->batches_sent_++;
      t_->bytes_sent_ += body.size();
      for (const raft::Message& m : batch) {
        if (m.type == raft::MessageType::kMsgSnap && t_->callbacks_.snapshot_status) {
          t_->callbacks_.snapshot_status(id_, true);
        }
      }
    }
  }

  void Failed(const std::vector<raft::Message>& batch) {
    t_->messages_dropped_ += batch.size();
    bool snap = false;
    for (const raft::Message& m : batch) snap = snap || m.type == raft::MessageType::kMsgSnap;
    if (snap && t_->callbacks_.snapshot_status) t_->callbacks_.snapshot_status(id_, false);
    if (t_->callbacks_.unreachable) t_->callbacks_.unreachable(id_);
  }

  Transport* const t_;
  const uint64_t id_;
  const std::string addr_;
  port::Mutex mu_;
  port::CondVar cv_{&mu_};
  std::deque<raft::Message> queue_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

Transport::Transport(uint64_t self, Callbacks callbacks, const Log* log)
    : self_(self), callbacks_(std::move(callbacks)), log_(log) {}

Transport::~Transport() { Stop(); }

void Transport::SetPeer(uint64_t id, const std::string& addr) {
  if (id == self_) return;
  std::shared_ptr<Peer> old;
  {
    port::MutexLock lock(&mu_);
    if (stopped_) return;
    auto it = peers_.find(id);
    if (it != peers_.end() && it->second->addr() == addr) return;
    if (it != peers_.end()) old = std::move(it->second);
    peers_[id] = std::make_shared<Peer>(this, id, addr);
  }
  log_->Info("peer address set", {{"peer", id}, {"addr", addr}});
  if (old) old->Stop();
}

void Transport::RemovePeer(uint64_t id) {
  std::shared_ptr<Peer> old;
  {
    port::MutexLock lock(&mu_);
    auto it = peers_.find(id);
    if (it == peers_.end()) return;
    old = std::move(it->second);
    peers_.erase(it);
  }
  old->Stop();
}

std::map<uint64_t, std::string> Transport::Peers() const {
  port::MutexLock lock(&mu_);
  std::map<uint64_t, std::string> out;
  for (const auto& [id, p] : peers_) out[id] = p->addr();
  return out;
}

void Transport::Send(std::vector<raft::Message> messages) {
  for (raft::Message& m : messages) {
    std::shared_ptr<Peer> peer;
    {
      port::MutexLock lock(&mu_);
      auto it = peers_.find(m.to);
      if (it != peers_.end()) peer = it->second;
    }
    if (peer) {
      peer->Enqueue(std::move(m));
    } else {
      messages_dropped_++;
      if (callbacks_.unreachable) callbacks_.unreachable(m.to);
    }
  }
}

void Transport::SetFault(uint64_t peer, Fault fault) {
  port::MutexLock lock(&mu_);
  if (!fault.drop && fault.delay_ms == 0) {
    faults_.erase(peer);
  } else {
    faults_[peer] = fault;
  }
}

void Transport::ClearFaults() {
  port::MutexLock lock(&mu_);
  faults_.clear();
}

Fault Transport::FaultFor(uint64_t peer) const {
  port::MutexLock lock(&mu_);
  auto it = faults_.find(peer);
  return it == faults_.end() ? Fault{} : it->second;
}

bool Transport::DropIncoming(uint64_t peer) const { return FaultFor(peer).drop; }

TransportStats Transport::Stats() const {
  return TransportStats{messages_sent_.load(), batches_sent_.load(), bytes_sent_.load(),
                        messages_dropped_.load(), send_failures_.load()};
}

void Transport::Stop() {
  std::map<uint64_t, std::shared_ptr<Peer>> peers;
  {
    port::MutexLock lock(&mu_);
    stopped_ = true;
    peers.swap(peers_);
  }
  for (auto& [id, p] : peers) p->Stop();
}

}  // namespace raftlog::kv
